"""The worker processes of bench/balance_bench.py: each reads its plan (a JSON file: driver,
fleet URLs, Redis URL, its share of the requests), builds its sender, says "ready", waits for the
start time on stdin, sends every request at its time (a thread each; one after the other in the
sequential mode) and prints one JSON line per request, then the HTTP it saw besides the chats.

    python bench/balance_workers.py PLAN.json      (started by balance_bench.py, not by hand)

- `ai-cli`: the real Router built as agent/app.py builds it, `router.stream("general", ...)`;
- anything else: ChatOllama straight at the box the driver chooses (random, round-robin).
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker(plan_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    send = _ai_cli_sender(plan) if plan["driver"] == "ai-cli" else _direct_sender(plan)
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    results: list[dict] = []
    lock = threading.Lock()

    def one(request: dict) -> None:
        result = send(request)
        with lock:
            results.append(result)

    if plan["mode"] == "sequential":
        time.sleep(max(0.0, start_at - time.monotonic()))
        for request in plan["requests"]:
            one(request)
            time.sleep(plan.get("gap", 0.0))
    else:
        threads = []
        for request in plan["requests"]:
            time.sleep(max(0.0, start_at + request["at"] - time.monotonic()))
            thread = threading.Thread(target=one, args=(request,), name="bench-request")
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    for result in results:
        print(json.dumps(result), flush=True)
    print(json.dumps({"http": HTTP_SEEN}), flush=True)


def _ai_cli_sender(plan: dict):
    from registry import open_registry
    from registry.availability import AvailabilityChecker
    from registry.config.settings import ConfigManager
    from router import Router

    config = ConfigManager(None, {
        "redis": {"url": plan["redis_url"]},
        # a fallback that cannot answer: every answer comes from the fleet
        "tinyollama": {"url": "http://127.0.0.1:9", "model": "tinyllama"},
    }, env={}, overrides={"redis_url": plan["redis_url"]})
    registry = open_registry(config)
    checker = AvailabilityChecker(registry, probe_timeout=config.probe_timeout,
                                  ttl=config.availability_ttl)
    router = Router(registry, config, checker)
    route = router.route("general")  # warm: the registry read, the probes, the imports
    for model in registry.list_models():
        router.chat_model(model)
    assert route.available, route.notice
    _watch_http()
    if plan.get("trace"):
        _trace_choices(router, registry, Path(plan["trace"]) / f"choices{plan['proc']}.jsonl")

    def send(request: dict) -> dict:
        messages = [{"role": "user", "content": request["prompt"]}]
        # the choice: `router.stream(...)` until it returns, before any HTTP to the chat
        return timed(request, lambda: router.stream("general", messages), chooses=True)

    return send


def timed(request: dict, start, chooses: bool = False) -> dict:
    """One request as every driver measures it, on the client: `start()` gives the stream of
    chunks; the time to first token runs from the call to the first chunk with text; an
    exception is a user-visible error. `chooses`: the time `start()` took is the choice's."""
    sent = time.monotonic()
    first = error = choice_ms = None
    try:
        stream = start()
        if chooses:
            choice_ms = (time.monotonic() - sent) * 1000
        for chunk in stream:
            if first is None and chunk.content:
                first = time.monotonic()
    except Exception as exc:  # noqa: BLE001 - a user-visible error, recorded
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    return {"id": request["id"], "sent": sent, "first": first, "ended": time.monotonic(),
            "error": error, "choice_ms": choice_ms}


HTTP_SEEN: list = []  # (time.monotonic(), path, "request" | the thread's name), not /api/chat


def _watch_http() -> None:
    """Record every HTTP request of this worker but the chats, with the thread that made it:
    a request thread ("bench-request") making one is a probe on the request path; the others
    are background work (the /api/ps refresh, a probe of a host whose cache ran out)."""
    import httpx

    send = httpx.Client.send

    def watched(client, request, *args, **kwargs):
        if request.url.path != "/api/chat":
            name = threading.current_thread().name
            HTTP_SEEN.append((time.monotonic(), request.url.path,
                              "request" if name == "bench-request" else name))
        return send(client, request, *args, **kwargs)

    httpx.Client.send = watched


def _trace_choices(router, registry, path: Path) -> None:
    """`--trace`: every pick (each host's view and score) and every lease, one JSON line each,
    so a surprising choice can be read afterwards. Wraps the balancer of this worker only."""
    from router import balance
    from router.fleet import candidates

    balancer = router.balancer
    boxes = {m.model_id: m.url for m in registry.list_models()}
    out = path.open("a")
    lock = threading.Lock()
    order, take_soonest = balancer.order, balancer.take_soonest

    def write(line: dict) -> None:
        with lock:
            out.write(json.dumps({"t": time.monotonic(), "thread": threading.get_ident(), **line})
                      + "\n")
            out.flush()

    def traced_order(hosts, session_id=None):
        hosts = list(hosts)
        view = balancer.state.read(hosts, session_id)
        got = order(hosts, session_id)
        if view is not None:
            now = balancer.clock()
            found = candidates(hosts, view, now)
            scored = balance.scores(found, now)
            write({"pick": [boxes[k] for k in got], "hosts": [
                {"url": boxes[c.key], "score": round(scored[c.key]), "in_flight": c.in_flight,
                 "loaded": c.loaded, "ttft": c.ttft_ms, "answer": c.answer_ms,
                 "offload": c.offload, "load": c.load_ms, "recent": c.recent(now),
                 "age": None if c.sampled_at is None else round(now - c.sampled_at, 2),
                 "usable": c.usable(now)} for c in found]})
        return got

    def traced_take(model, avoid=frozenset()):
        got = take_soonest(model, avoid)
        write({"lease": None if got is None else boxes[got[0].model_id],
               "picked": boxes[model.model_id], "count": None if got is None else got[1].count})
        return got

    balancer.order, balancer.take_soonest = traced_order, traced_take


def _direct_sender(plan: dict):
    from router.lazy_langsmith import defer_langsmith_types

    defer_langsmith_types()
    from langchain_ollama import ChatOllama

    names = sorted(plan["urls"])
    chats = {n: ChatOllama(base_url=plan["urls"][n], model=plan["model"],
                           client_kwargs={"timeout": 120}) for n in names}
    rng = random.Random(1000 + plan["proc"])
    turn = [plan["proc"]]
    lock = threading.Lock()

    def choose() -> str:
        if plan["driver"] == "random":
            with lock:
                return rng.choice(names)
        with lock:
            turn[0] += 1
            return names[turn[0] % len(names)]

    def send(request: dict) -> dict:
        return timed(request, lambda: chats[choose()].stream([("user", request["prompt"])]))

    return send


if __name__ == "__main__":
    worker(sys.argv[1])

"""Load balancing between replicas: ai-cli against random choice, round-robin and LiteLLM's router.

A fleet of Ollama-protocol boxes on 127.0.0.1 (bench/fleet.py: slots and a queue, time to first
token, token rate, load time) serves one model, `llama3.1:8b`, registered once per box in a
throw-away redis-server. Each scenario is driven by

- `ai-cli`: the real Router (built as agent/app.py builds it: `open_registry`, the checker, the
  router) and the real ChatOllama, `router.stream("general", ...)` per request, from 4 processes
  (bench/balance_workers.py) sharing that Redis (1 for the sequential T1);
- `random` and `round-robin`: ChatOllama straight at a box chosen uniformly at random (what
  Open WebUI does with several Ollama URLs) or in turn (each of the 4 processes in its own turn);
- `litellm:simple-shuffle`, `litellm:least-busy`, `litellm:latency-based-routing`: LiteLLM's
  Router in one asyncio process of the bench's own venv (bench/litellm_driver.py).

Every driver's time to first token is measured the same way, on the client side: from the call to
the first chunk with text. The box that served a request is the fleet's record of it (the request
carries a `[bench:ID]` tag in its message).

Scenarios (each figure is printed beside its target):
  T1 light load, one request at a time: after 5 warm-up requests, >= 95% go to A or B
  T2 random arrivals at 60% of the fleet's capacity from 4 processes: p90 TTFT <= 0.5x random
     and <= the best of LiteLLM's three
  T3 no herding: bursts of 10 requests at once from 4 processes: no box gets more than its share
     + 1; C gets none while A or B has a free slot
  T4 drift: A slows 5x -> its share < 15% within 60 s; >= 35% within 180 s of its recovery
  T5 B killed mid-run: at most one user-visible error; B serves again <= 30 s after it returns
  T6 the model loaded only on B: no load elsewhere while B's queue costs less than a load
  T8 the choice costs <= 5 ms p99 (local Redis), no HTTP call on the request path in steady state

Run by hand:  .venv/bin/python bench/balance_bench.py [--scenario T2 ...] [--drivers ...]
              [--requests 200] [--time-scale 1.0] [--seed 7] [--c-offload 0.44]
              [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from fleet import BoxSpec, Fleet, standard_specs  # noqa: E402

MODEL = "llama3.1:8b"
PROCESSES = 4
LITELLM_VENV = BENCH / ".venv-litellm"
TRACE = [None]  # --trace: the folder the ai-cli workers write their choices to
LITELLM = ("litellm:simple-shuffle", "litellm:least-busy", "litellm:latency-based-routing")
DRIVERS = ("ai-cli", "random", "round-robin") + LITELLM
SCENARIOS = ("T1", "T2", "T3", "T4", "T5", "T6", "T8")


# --- pure helpers ------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def capacity(specs: list[BoxSpec], tokens: int) -> float:
    """Chats per second the fleet can serve (every model loaded): slots / service time."""
    return sum(s.parallel / (s.ttft + (tokens - 1) / s.tok_rate) for s in specs)


def poisson_arrivals(rate: float, count: int, rng: random.Random, start: float = 0.0) -> list[float]:
    times, t = [], start
    for _ in range(count):
        t += rng.expovariate(rate)
        times.append(t)
    return times


def shares(specs: list[BoxSpec], tokens: int, n: int) -> dict[str, float]:
    """Each box's share of `n` requests, in proportion to its capacity."""
    total = capacity(specs, tokens)
    return {s.name: n * capacity([s], tokens) / total for s in specs}


def ideal_split(specs: list[BoxSpec], tokens: int, n: int) -> dict[str, int]:
    """How an ideal central dispatcher splits `n` requests arriving at once on an idle fleet:
    each to the box where it would see the lowest TTFT, given those placed before it (a box
    with k placed starts the (k+1)th after k // parallel whole services)."""
    placed = {s.name: 0 for s in specs}
    for _ in range(n):
        def ttft(s: BoxSpec) -> float:
            service = s.ttft + (tokens - 1) / s.tok_rate
            return placed[s.name] // s.parallel * service + s.ttft
        best = min(specs, key=lambda s: (ttft(s), placed[s.name]))
        placed[best.name] += 1
    return placed


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


# --- a run: one driver against a fresh fleet ---------------------------------------------------

@dataclass
class Result:
    id: str
    at: float  # scheduled, seconds after the start
    box: str | None  # who served it (the fleet's record), None if no box saw it
    sent: float | None
    first: float | None
    ended: float | None
    error: str | None
    choice_ms: float | None
    record: object = None

    @property
    def ttft(self) -> float | None:
        return None if self.first is None or self.sent is None else self.first - self.sent


@dataclass
class Run:
    driver: str
    results: list[Result]
    fleet: Fleet
    start_at: float
    events: dict = field(default_factory=dict)  # name -> time.monotonic()
    other_requests: list = field(default_factory=list)  # (time.monotonic(), box, path)
    worker_http: list = field(default_factory=list)  # (time.monotonic(), path, thread) of ai-cli's

    def ttfts(self) -> list[float]:
        return [r.ttft for r in self.results if r.ttft is not None]

    def errors(self) -> list[Result]:
        return [r for r in self.results if r.error]


def register(redis_url: str, fleet: Fleet) -> None:
    """The fleet's boxes as replicas of one model in the registry; A is the active entry."""
    import redis

    from registry.manager import ModelRegistry

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    registry = ModelRegistry(client)
    for i, box in enumerate(fleet.boxes.values()):
        registry.add_model("general", box.url, MODEL, set_active=(i == 0),
                           parallel=box.spec.parallel)


def run_driver(driver: str, specs: list[BoxSpec], requests: list[dict], redis_url: str,
               mode: str = "scheduled", processes: int = PROCESSES, events=(),
               tokens: int = 10, setup=None, gap: float = 0.0) -> Run:
    """Start a fresh fleet, let `driver` send `requests` ({"id", "at"}), run the `events`
    ((seconds after the start, name, fn(fleet))) on time, and join the fleet's records."""
    fleet = Fleet([BoxSpec(**vars(s)) for s in specs], models=(MODEL,), answer_tokens=tokens)
    fleet.start()
    if setup is not None:
        setup(fleet)
    register(redis_url, fleet)
    urls = {name: box.url for name, box in fleet.boxes.items()}
    litellm = driver.startswith("litellm:")
    procs = 1 if litellm or mode == "sequential" else processes
    workers = []
    folder = tempfile.mkdtemp(prefix="balance-bench-")
    for p in range(procs):
        mine = [r for i, r in enumerate(requests) if i % procs == p]
        plan = {"driver": driver, "model": MODEL, "urls": urls, "redis_url": redis_url,
                "mode": mode, "proc": p, "requests": mine, "gap": gap, "trace": TRACE[0]}
        path = Path(folder) / f"plan{p}.json"
        path.write_text(json.dumps(plan))
        if litellm:
            argv = [str(LITELLM_VENV / "bin" / "python"), str(BENCH / "litellm_driver.py"), str(path)]
        else:
            argv = [sys.executable, str(BENCH / "balance_workers.py"), str(path)]
        stderr = open(Path(folder) / f"stderr{p}.txt", "w")
        workers.append(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=stderr, text=True, cwd=ROOT))
    for worker in workers:
        line = worker.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"{driver}: a worker did not start (see {folder}/stderr*.txt): {line!r}")
    fleet.records.clear()
    fleet.other_requests.clear()
    start_at = time.monotonic() + 0.5
    for worker in workers:
        worker.stdin.write(f"{start_at}\n")
        worker.stdin.flush()
    run = Run(driver, [], fleet, start_at)
    timer = threading.Thread(target=_run_events, args=(run, events), daemon=True)
    timer.start()
    lines = []
    for worker in workers:
        out, _ = worker.communicate()
        for x in out.splitlines():
            if x.startswith("{"):
                line = json.loads(x)
                if "http" in line:
                    run.worker_http += [tuple(h) for h in line["http"]]
                else:
                    lines.append(line)
        if worker.returncode:
            print(f"  ! {driver}: a worker exited {worker.returncode} (see {folder}/stderr*.txt)")
    timer.join()
    run.other_requests = list(fleet.other_requests)
    fleet.stop()
    records = fleet.by_tag()
    scheduled = {r["id"]: r["at"] for r in requests}
    for line in lines:
        record = records.get(line["id"])
        run.results.append(Result(line["id"], scheduled.get(line["id"], 0.0),
                                  record.box if record else None, line["sent"], line["first"],
                                  line["ended"], line["error"], line.get("choice_ms"), record))
    run.results.sort(key=lambda r: (r.sent or 0.0))
    return run


def _run_events(run: Run, events) -> None:
    for at, name, action in sorted(events, key=lambda e: e[0]):
        time.sleep(max(0.0, run.start_at + at - time.monotonic()))
        action(run.fleet)
        run.events[name] = time.monotonic()


def make_requests(scenario: str, times: list[float]) -> list[dict]:
    return [{"id": f"{scenario}-{i}", "at": t,
             "prompt": f"[bench:{scenario}-{i}] Say a few words about the number {i}."}
            for i, t in enumerate(times)]


# --- the scenarios ----------------------------------------------------------------------------

class Bench:
    def __init__(self, args, redis_url: str):
        self.args = args
        self.redis_url = redis_url
        self.specs = standard_specs()
        if args.c_offload is not None:
            self.specs = [replace(s, offload=args.c_offload) if s.name == "C" else s
                          for s in self.specs]
        self.tokens = args.tokens
        self.figures: list[dict] = []

    def figure(self, scenario: str, name: str, value: str, target: str, ok: bool | None) -> None:
        self.figures.append({"scenario": scenario, "figure": name, "value": value,
                             "target": target, "verdict": verdict(ok)})
        print(f"  {scenario} {name}: {value}   target {target}   {verdict(ok)}", flush=True)

    def drivers(self, default: tuple[str, ...]) -> tuple[str, ...]:
        chosen = tuple(self.args.drivers) if self.args.drivers else default
        if any(d.startswith("litellm:") for d in chosen) and not _litellm_ready():
            print("  ! LiteLLM's venv is missing or broken: run bench/setup_litellm.sh; "
                  "its drivers are left out")
            chosen = tuple(d for d in chosen if not d.startswith("litellm:"))
        return chosen

    def run(self, driver, requests, **kw) -> Run:
        started = time.monotonic()
        run = run_driver(driver, self.specs, requests, self.redis_url, tokens=self.tokens, **kw)
        served = _count_boxes(run.results)
        ttft = run.ttfts()
        print(f"  {driver:30s} {len(run.results)} requests in {time.monotonic() - started:.0f} s; "
              f"TTFT p50 {fmt_s(percentile(ttft, 50))} p90 {fmt_s(percentile(ttft, 90))} "
              f"p99 {fmt_s(percentile(ttft, 99))}; served {served}; errors {len(run.errors())}",
              flush=True)
        return run

    # T1 ------------------------------------------------------------------------------------

    def t1(self) -> None:
        n = self.args.requests
        print(f"T1 light load: {n} requests one at a time, 1 process")
        for driver in self.drivers(("ai-cli",)):
            run = self.run(driver, make_requests("T1", [0.0] * n), mode="sequential", gap=0.05)
            after = [r for r in run.results[5:] if r.box is not None]
            fast = sum(r.box in ("A", "B") for r in after)
            share = fast / len(after) if after else 0.0
            self.figure("T1", f"{driver}: share of A+B after 5 warm-up requests",
                        f"{share:.1%} ({fast}/{len(after)})", ">= 95%", share >= 0.95)

    # T2 ------------------------------------------------------------------------------------

    def t2(self) -> None:
        n = self.args.requests
        rate = 0.6 * capacity(self.specs, self.tokens)
        times = poisson_arrivals(rate, n, random.Random(self.args.seed))
        print(f"T2 random arrivals: {n} requests, Poisson at {rate:.2f}/s (60% of the fleet's "
              f"{capacity(self.specs, self.tokens):.2f}/s), {PROCESSES} processes "
              f"(LiteLLM: 1 asyncio process)")
        p90 = {}
        for driver in self.drivers(DRIVERS):
            run = self.run(driver, make_requests("T2", times))
            p90[driver] = percentile(run.ttfts(), 90)
            if driver == "ai-cli":
                self.t8_from(run)
        ours = p90.get("ai-cli")
        for driver, value in p90.items():
            self.figure("T2", f"p90 TTFT {driver}", fmt_s(value), "(comparison)", None)
        if ours is not None and p90.get("random"):
            self.figure("T2", "ai-cli p90 / random p90", f"{ours / p90['random']:.2f}x",
                        "<= 0.50x", ours <= 0.5 * p90["random"])
        best = [p90[d] for d in LITELLM if p90.get(d) is not None]
        if ours is not None and best:
            self.figure("T2", "ai-cli p90 / best LiteLLM p90", f"{ours / min(best):.2f}x",
                        "<= 1.00x", ours <= min(best))

    # T3 ------------------------------------------------------------------------------------

    def t3(self) -> None:
        rounds = max(20, math.ceil(self.args.requests / 10))
        gap = 4.0
        times = [r * gap for r in range(rounds) for _ in range(10)]
        print(f"T3 no herding: {rounds} bursts of 10 requests at once, {PROCESSES} processes, "
              f"one burst every {gap:g} s")
        share = ideal_split(self.specs, self.tokens, 10)
        print("  a box's share of a burst: what an ideal dispatcher gives it ("
              + ", ".join(f"{k} {v}" for k, v in share.items()) + "; by capacity alone: "
              + ", ".join(f"{k} {v:.1f}" for k, v in shares(self.specs, self.tokens, 10).items())
              + ")")
        for driver in self.drivers(("ai-cli",)):
            run = self.run(driver, make_requests("T3", times))
            over, c_free = 0, 0
            worst = 0
            patterns: dict[str, int] = {}
            for r in range(rounds):
                burst = [x for x in run.results if int(x.id.split("-")[1]) // 10 == r]
                counts = {name: sum(x.box == name for x in burst) for name in share}
                pattern = "/".join(str(counts[k]) for k in share)
                patterns[pattern] = patterns.get(pattern, 0) + 1
                worst = max(worst, max(counts[k] - share[k] for k in share))
                over += any(counts[k] > share[k] + 1 for k in share)
                c_free += sum(1 for x in burst if x.box == "C" and x.record is not None
                              and (x.record.free_slots.get("A", 0) or x.record.free_slots.get("B", 0)))
            print(f"  {driver}: {'/'.join(share)} per burst: " + ", ".join(
                f"{p} x{c}" for p, c in sorted(patterns.items(), key=lambda i: -i[1])))
            self.figure("T3", f"{driver}: bursts where a box got more than its share + 1",
                        f"{over}/{rounds} (worst: {worst:+d} over its share)", "0", over == 0)
            self.figure("T3", f"{driver}: requests to C while A or B had a free slot",
                        str(c_free), "0", c_free == 0)

    # T4 ------------------------------------------------------------------------------------

    def t4(self) -> None:
        scale = self.args.time_scale
        warm, slow, recover = 30 * scale, 60 * scale, 180 * scale
        rate = 0.4 * capacity(self.specs, self.tokens)
        times = poisson_arrivals(rate, int(rate * (warm + slow + recover)),
                                 random.Random(self.args.seed + 4))
        print(f"T4 drift: {len(times)} requests, Poisson at {rate:.2f}/s (40% of capacity), "
              f"{PROCESSES} processes; A slows 5x at {warm:.0f} s for {slow:.0f} s, then "
              f"{recover:.0f} s recovered (time scale {scale:g}: targets scaled alike)")
        events = [(warm, "slow", lambda f: f["A"].slow(5.0)),
                  (warm + slow, "recover", lambda f: f["A"].slow(1.0))]
        window = 10.0
        for driver in self.drivers(("ai-cli",)):
            run = self.run(driver, make_requests("T4", times), events=events)
            slowed = run.events["slow"] - run.start_at
            back = run.events["recover"] - run.start_at
            fall = _first_window(run, "A", slowed, back, window, lambda s: s < 0.15)
            rise = _first_window(run, "A", back, back + recover, window, lambda s: s >= 0.35)
            before = _share(run, "A", slowed - window * 2, slowed)
            self.figure("T4", f"{driver}: A's share before the slow-down", f"{before:.0%}",
                        "(reference)", None)
            self.figure("T4", f"{driver}: A's share < 15% (10 s windows of arrivals) after",
                        "never" if fall is None else f"{fall:.0f} s",
                        f"<= {60 * scale:.0f} s", fall is not None and fall <= 60 * scale)
            self.figure("T4", f"{driver}: A's share >= 35% after recovery, after",
                        "never" if rise is None else f"{rise:.0f} s",
                        f"<= {180 * scale:.0f} s", rise is not None and rise <= 180 * scale)

    # T5 ------------------------------------------------------------------------------------

    def t5(self) -> None:
        scale = self.args.time_scale
        before, down, after = 20 * scale, 30 * scale, 60 * scale
        rate = 0.4 * capacity(self.specs, self.tokens)
        times = poisson_arrivals(rate, int(rate * (before + down + after)),
                                 random.Random(self.args.seed + 5))
        print(f"T5 B killed: {len(times)} requests, Poisson at {rate:.2f}/s, {PROCESSES} processes;"
              f" B killed at {before:.0f} s, back at {before + down:.0f} s, observed {after:.0f} s"
              f" more (time scale {scale:g})")
        events = [(before, "kill", lambda f: f["B"].kill()),
                  (before + down, "revive", lambda f: f["B"].revive())]
        for driver in self.drivers(("ai-cli",)):
            run = self.run(driver, make_requests("T5", times), events=events)
            errors = run.errors()
            revived = run.events["revive"]
            back = [r.record.arrived for r in run.results
                    if r.box == "B" and r.record is not None and r.record.arrived >= revived]
            delay = (min(back) - revived) if back else None
            kinds = sorted({e.error.split(":")[0] for e in errors})
            self.figure("T5", f"{driver}: user-visible errors", f"{len(errors)} {kinds or ''}",
                        "<= 1", len(errors) <= 1)
            self.figure("T5", f"{driver}: B's first request after it returned",
                        "never" if delay is None else f"{delay:.1f} s", "<= 30 s",
                        delay is not None and delay <= 30)

    # T6 ------------------------------------------------------------------------------------

    def t6(self) -> None:
        b = next(s for s in self.specs if s.name == "B")
        service = b.ttft + (self.tokens - 1) / b.tok_rate
        b_capacity = b.parallel / service
        n = self.args.requests
        low = poisson_arrivals(0.5 * b_capacity, n // 2, random.Random(self.args.seed + 6))
        high = poisson_arrivals(1.5 * b_capacity, n - n // 2, random.Random(self.args.seed + 7),
                                start=low[-1] + 1.0)
        print(f"T6 loaded only on B: {n // 2} requests at {0.5 * b_capacity:.1f}/s (half of B's "
              f"capacity), then {n - n // 2} at {1.5 * b_capacity:.1f}/s (1.5x), {PROCESSES} "
              f"processes; load time A {self.specs[0].load_time:g} s, C {self.specs[2].load_time:g} s")

        def only_b(fleet):
            for name in ("A", "C"):
                fleet[name].unload(MODEL)

        for driver in self.drivers(("ai-cli",)):
            run = self.run(driver, make_requests("T6", low + high), setup=only_b)
            first_half = [r for r in run.results if int(r.id.split("-")[1]) < n // 2]
            on_b = sum(r.box == "B" for r in first_half)
            early = []
            for r in run.results:
                rec = r.record
                if rec is None or not rec.loaded_here:
                    continue
                ahead = rec.queued.get("B", 0) + b.parallel - rec.free_slots.get("B", 0)
                wait = max(0, ahead - b.parallel + 1) / b.parallel * service
                early.append((r.box, wait))
            load_time = {s.name: s.load_time for s in self.specs}
            premature = [(box, w) for box, w in early if w < load_time[box]]
            self.figure("T6", f"{driver}: share on B at half its capacity",
                        f"{on_b / max(1, len(first_half)):.0%}", "100% (no load elsewhere)",
                        on_b == len(first_half))
            self.figure("T6", f"{driver}: loads elsewhere while B's queue cost less than the load",
                        f"{len(premature)} of {len(early)} loads "
                        + ", ".join(f"{box} with B's wait {w:.1f} s" for box, w in early[:4]),
                        "0", not premature)

    # T8 ------------------------------------------------------------------------------------

    def t8_from(self, run: Run) -> None:
        choice = [r.choice_ms for r in run.results if r.choice_ms is not None]
        # each process's first request of a fresh fleet waits for the hosts' first /api/ps
        # (router/ROUTER.md): the steady state is every request after those
        firsts = {f"T2-{p}" for p in range(PROCESSES)}  # requests are dealt to processes in turn
        steady = [r.choice_ms for r in run.results
                  if r.choice_ms is not None and r.id not in firsts]
        self._t8_choice = (percentile(steady, 50), percentile(steady, 99), len(steady),
                           percentile(choice, 99), max(choice, default=0.0))
        # steady state: the second half of the run (each process has met every host by then)
        sent = sorted(r.sent for r in run.results if r.sent is not None)
        half = sent[len(sent) // 2] if sent else run.start_at
        steady = [(path, thread) for t, path, thread in run.worker_http if t >= half]
        self._t8_http = (steady, len(sent) - len(sent) // 2, sent[-1] - half if sent else 0.0)

    def t8(self) -> None:
        print("T8 overhead: the choice (`router.stream(...)` until it returns, before any HTTP "
              "to the chat), quiet and under T2's load")
        quiet = self._quiet_choice()
        self.figure("T8", "choice p99, quiet, one process (p50)",
                    f"{quiet[1]:.2f} ms ({quiet[0]:.2f} ms)", "<= 5 ms", quiet[1] <= 5)
        if getattr(self, "_t8_choice", None):
            p50, p99, count, p99_all, worst = self._t8_choice
            self.figure("T8", f"choice p99 under T2's load, 4 processes, each one's first "
                              f"request left out, n={count} (p50)",
                        f"{p99:.2f} ms ({p50:.2f} ms)", "<= 5 ms", p99 <= 5)
            self.figure("T8", "... every request, the first ones included (their first /api/ps "
                              "read of a fresh fleet): p99, worst",
                        f"{p99_all:.2f} ms, {worst:.1f} ms", "(cold start)", None)
            other, chats, seconds = self._t8_http
            on_path, behind = {}, {}
            for path, thread in other:
                counts = on_path if thread == "request" else behind
                counts[path] = counts.get(path, 0) + 1
            self.figure("T8", f"HTTP requests other than /api/chat made by the requests "
                              f"themselves in T2's second half ({chats} chats, {seconds:.0f} s)",
                        ", ".join(f"{p} {c}" for p, c in sorted(on_path.items())) or "none",
                        "none", not on_path)
            self.figure("T8", "... and by background threads (the /api/ps refresh, a probe of a "
                              "host whose cached availability ran out)",
                        ", ".join(f"{p} {c}" for p, c in sorted(behind.items())) or "none",
                        "(off the request path)", None)

    def _quiet_choice(self) -> tuple[float, float]:
        fleet = Fleet(self.specs, models=(MODEL,)).start()
        register(self.redis_url, fleet)
        from registry import open_registry
        from registry.availability import AvailabilityChecker
        from registry.config.settings import ConfigManager
        from router import Router

        config = ConfigManager(None, {"redis": {"url": self.redis_url},
                                      "tinyollama": {"url": "http://127.0.0.1:9",
                                                     "model": "tinyllama"}},
                               env={}, overrides={"redis_url": self.redis_url})
        registry = open_registry(config)
        router = Router(registry, config, AvailabilityChecker(registry, ttl=3600))
        messages = [{"role": "user", "content": "[bench:quiet] hi"}]
        for _ in range(20):
            router.stream("general", messages)
        samples = []
        for _ in range(500):
            started = time.perf_counter()
            router.stream("general", messages)
            samples.append((time.perf_counter() - started) * 1000)
        fleet.stop()
        return percentile(samples, 50), percentile(samples, 99)


def _count_boxes(results: list[Result]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        key = r.box or "none"
        counts[key] = counts.get(key, 0) + 1
    return " ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _share(run: Run, box: str, begin: float, end: float) -> float:
    inside = [r for r in run.results if r.sent is not None and r.box is not None
              and begin <= r.sent - run.start_at < end]
    return sum(r.box == box for r in inside) / len(inside) if inside else 0.0


def _first_window(run: Run, box: str, begin: float, end: float, window: float, test):
    """Seconds after `begin` at which the first window of `window` s (sliding by 1 s) whose
    share of `box` passes `test` ends; None if none does before `end`."""
    t = begin
    while t + window <= end + 1e-9:
        if test(_share(run, box, t, t + window)):
            return t + window - begin
        t += 1.0
    return None


def _litellm_ready() -> bool:
    python = LITELLM_VENV / "bin" / "python"
    if not python.exists():
        print("  setting up LiteLLM's venv (bench/setup_litellm.sh)...", flush=True)
        subprocess.run(["bash", str(BENCH / "setup_litellm.sh")], check=False)
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", "import litellm"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS,
                        help="a scenario to run (repeat for several; default: all)")
    parser.add_argument("--drivers", nargs="+", choices=DRIVERS,
                        help="drivers (default: all six for T2, ai-cli for the others)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=10, help="tokens per answer")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="T4/T5 phase lengths (and their targets) x this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--c-offload", type=float, default=None, metavar="SHARE",
                        help="the share of the model C's /api/ps shows in system memory "
                             "(default 0.44; 0: C is slow for a reason /api/ps cannot show)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--trace", metavar="DIR",
                        help="each ai-cli worker writes its picks and leases (JSON lines) here")
    args = parser.parse_args()
    if args.trace:
        Path(args.trace).mkdir(parents=True, exist_ok=True)
        TRACE[0] = str(Path(args.trace).resolve())
    from _redis import redis_server

    scenarios = args.scenario or list(SCENARIOS)
    print(f"balance bench at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.1f}; boxes: "
          + "; ".join(f"{s.name} ttft {s.ttft} s {s.tok_rate:g} tok/s parallel {s.parallel} "
                      f"load {s.load_time:g} s {s.offload:.0%} in system memory"
                      for s in Bench(args, "").specs)
          + f"; {args.tokens} tokens per answer", flush=True)
    with redis_server() as url:
        bench = Bench(args, url)
        for name in scenarios:
            if name == "T8" and "T2" not in scenarios:
                print("T8: the figures under load come from T2's ai-cli run (add --scenario T2)")
            getattr(bench, name.lower())()
            print(f"  (load average {os.getloadavg()[0]:.1f})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(bench.figures, indent=2))


if __name__ == "__main__":
    main()

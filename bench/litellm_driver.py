"""The LiteLLM drivers of the balancing bench: LiteLLM's Router against the bench's fleet.

Run by balance_bench.py with the bench's own LiteLLM venv (bench/setup_litellm.sh), never with
ai-cli's: it imports nothing of ai-cli. One process, asyncio, so LiteLLM's router sees every
request in flight (its best case: `least-busy` and `latency-based-routing` keep their state in
the process unless given a Redis of their own).

Protocol (the same as balance_bench.py's own workers): argv[1] is the plan (JSON file);
print "ready", read the start time (time.monotonic() of this machine) from stdin, run the
plan's requests, print one JSON line per request.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch from the network
os.environ.setdefault("LITELLM_TELEMETRY", "False")


def build_router(plan: dict):
    import litellm
    from litellm import Router

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    strategy = plan["driver"].split(":", 1)[1]
    model_list = [
        {"model_name": "bench",
         "litellm_params": {"model": "ollama_chat/" + plan["model"], "api_base": url},
         "model_info": {"id": name}}
        for name, url in plan["urls"].items()
    ]
    # As a user would set it up: the strategy, a couple of retries, LiteLLM's default cooldowns.
    return Router(model_list=model_list, routing_strategy=strategy, num_retries=2, timeout=120)


async def one(router, request: dict, start_at: float, model: str) -> dict:
    await asyncio.sleep(max(0.0, start_at + request["at"] - time.monotonic()))
    return await send(router, request, model)


async def send(router, request: dict, model: str) -> dict:
    sent = time.monotonic()
    first = None
    error = None
    try:
        response = await router.acompletion(
            model="bench", stream=True,
            messages=[{"role": "user", "content": request["prompt"]}])
        async for chunk in response:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.monotonic()
    except Exception as exc:  # noqa: BLE001 - a user-visible error, recorded
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    return {"id": request["id"], "sent": sent, "first": first, "ended": time.monotonic(),
            "error": error, "choice_ms": None}


async def run(plan: dict, start_at: float) -> list[dict]:
    router = build_router(plan)
    if plan["mode"] == "sequential":
        results = []
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        for request in plan["requests"]:
            results.append(await send(router, request, plan["model"]))
            await asyncio.sleep(plan.get("gap", 0.0))
        return results
    return await asyncio.gather(*(one(router, r, start_at, plan["model"])
                                  for r in plan["requests"]))


def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    build_router(plan)  # the imports, before the start
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    for result in asyncio.run(run(plan, start_at)):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""ModelRegistry speed on a real Redis: median time and round trips per call at 10, 1,000 and
10,000 registered models.

Run by hand:  .venv/bin/python bench/registry_bench.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _redis import RoundTrips, client, redis_server  # noqa: E402

from registry.manager import ModelRegistry  # noqa: E402

SIZES = (10, 1_000, 10_000)
URL = "http://127.0.0.1:11434"


def fill(registry: ModelRegistry, count: int) -> None:
    """Bulk-load `count` models straight through the registry's own encoding."""
    from registry.model import ModelConfig, new_model_id, now_utc

    pipe = registry.redis.pipeline(transaction=False)
    for i in range(count):
        model_type = "general" if i % 2 else "coder"
        model = ModelConfig(new_model_id(), model_type, URL, f"m{i}", 120, False, now_utc())
        pipe.hset(registry.keys.model(model.model_id), mapping=model.to_hash())
        pipe.sadd(registry.keys.index(model_type), model.model_id)
    pipe.execute()
    registry.add_model("general", URL, "active-general")


def measure(call, repeat: int) -> tuple[float, float]:
    """(median milliseconds, round trips per call)."""
    trips = RoundTrips()
    times = []
    with trips.counting():
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, trips.count / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rows = []
    with redis_server() as url:
        for size in SIZES:
            redis_client = client(url)
            redis_client.flushall()
            registry = ModelRegistry(redis_client)
            fill(registry, size)
            list_repeat = max(5, min(args.repeat, 200_000 // size))
            rows.append((size, "get_active_model",
                         *measure(lambda: registry.get_active_model("general"), args.repeat)))
            rows.append((size, "list_models",
                         *measure(lambda: registry.list_models(), list_repeat)))
            rows.append((size, "add_model",
                         *measure(lambda: registry.add_model("coder", URL, "x"), args.repeat)))
    print("| models | call | median ms | round trips/call |")
    print("| ---: | --- | ---: | ---: |")
    for size, name, ms, trips in rows:
        print(f"| {size:,} | {name} | {ms:.3f} | {trips:.1f} |")


if __name__ == "__main__":
    main()

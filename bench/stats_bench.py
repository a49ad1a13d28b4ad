"""`model stats` over a full answer log (10,000 entries) on a real Redis: the pure aggregation
alone, and the whole read (XREVRANGE, JSON decoding, aggregation) as the command does it.

Run by hand:  .venv/bin/python bench/stats_bench.py [--entries 10000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _redis import client, redis_server  # noqa: E402

from registry.answer_log import STATS_WINDOW, AnswerLog, AnswerRecord  # noqa: E402
from registry.stats import log_stats  # noqa: E402

HOSTS = [f"http://127.0.0.1:{11434 + i}" for i in range(4)]
MODELS = ["llama3.1:8b", "qwen2.5-coder:7b", "mistral:7b", "gemma2:9b", "phi3:mini"]
STATUSES = ["ok"] * 17 + ["stopped", "broken", "failed_over"]


def records(count: int, seed: int = 7) -> list[AnswerRecord]:
    rng = random.Random(seed)
    made = []
    for i in range(count):
        status = rng.choice(STATUSES)
        answered = status in ("ok", "stopped", "broken")
        made.append(AnswerRecord(
            model_id=f"model_{i % 20:08x}", model_name=rng.choice(MODELS), url=rng.choice(HOSTS),
            via="active", status=status, session_id=None, input_tokens=rng.randint(20, 8000),
            output_tokens=rng.randint(1, 900) if answered else None,
            ttft_ms=rng.randint(80, 4000) if answered else None,
            total_ms=rng.randint(500, 60000), tokens_per_s=round(rng.uniform(5, 90), 1)
            if status == "ok" else None))
    return made


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=STATS_WINDOW)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    made = records(args.entries)
    pure = median_ms(lambda: log_stats(made), args.repeat)
    with redis_server() as url:
        redis = client(url)
        registry = SimpleNamespace(redis=redis, keys=SimpleNamespace(prefix=""), url=url,
                                   messages=[])
        log = AnswerLog(registry, max_entries=args.entries)
        pipe = redis.pipeline(transaction=False)
        for record in made:
            pipe.xadd(log.key, {"answer": __import__("json").dumps(record.to_json())})
        pipe.execute()
        stored = redis.xlen(log.key)
        read = median_ms(lambda: log.recent(STATS_WINDOW), args.repeat)
        whole = median_ms(lambda: log_stats(log.recent(STATS_WINDOW)), args.repeat)
    print(f"entries generated {len(made):,}, in the stream {stored:,}; median of {args.repeat}")
    print(f"log_stats (pure aggregation):            {pure:8.1f} ms")
    print(f"read the log (XREVRANGE + decode):        {read:8.1f} ms")
    print(f"read + aggregate (what model stats does): {whole:8.1f} ms")


if __name__ == "__main__":
    main()

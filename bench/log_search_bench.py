"""`ai-cli log -q TEXT` over a full answer log: how long the scan takes.

    .venv/bin/python bench/log_search_bench.py [--entries 10000] [--runs 5]

Fills `log:answers` on a throw-away redis-server with `--entries` answers, each with a prompt of
about 200 characters and an answer of about 1,500 (two in a hundred mention the word searched
for), then times `AnswerLog.recent(query=...)` in this process (the read and the scan) and a
fresh `ai-cli log -q ... --json` process from outside (start-up included). Median of `--runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _redis import redis_server  # noqa: E402

from registry.answer_log import AnswerLog, AnswerRecord  # noqa: E402
from registry.manager import ModelRegistry  # noqa: E402

WORDS = ("redis stream model answer token latency window context session prompt ollama "
         "python server request embedding vector cache index query").split()


def fill(client: redis.Redis, entries: int) -> None:
    log = AnswerLog(ModelRegistry(client))
    pipe = client.pipeline(transaction=False)
    for i in range(entries):
        words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(230)]
        marker = " zebra" if i % 50 == 0 else ""
        record = AnswerRecord(model_id="model_1a2b3c4d", model_name="llama3", url="http://127.0.0.1:1",
                              via="active", session_id="session_1a2b3c4d", message_id="msg_1a2b3c4d",
                              prompt=" ".join(words[:30]) + marker, response=" ".join(words),
                              input_tokens=100, output_tokens=300, ttft_ms=120, total_ms=900)
        pipe.xadd(log.key, {"answer": json.dumps(record.to_json())})
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with redis_server() as url, tempfile.TemporaryDirectory() as folder:
        client = redis.Redis.from_url(url)
        fill(client, options.entries)
        log = AnswerLog(ModelRegistry(client))
        inside, found = [], 0
        for _ in range(options.runs):
            started = time.perf_counter()
            found = len(log.recent(None, query="ZEBRA"))
            inside.append(time.perf_counter() - started)
        config = Path(folder) / "config.yaml"
        config.write_text(yaml.safe_dump({"redis": {"url": url}}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
        env.update(AI_CLI_REDIS_URL=url, AI_CLI_CONFIG=str(config), AI_CLI_SKIP_MODEL_MIGRATION="true",
                   XDG_DATA_HOME=str(Path(folder) / "data"), XDG_CONFIG_HOME=str(Path(folder) / "cfg"))
        outside = []
        for _ in range(options.runs):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "cli", "log", "-q", "zebra", "-n", "1000",
                                   "--json"], cwd=folder, env=env, capture_output=True, text=True)
            outside.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stderr
        print(f"{options.entries} entries, {found} match: recent(query=...) "
              f"{statistics.median(inside) * 1000:.0f} ms; `ai-cli log -q` process "
              f"{statistics.median(outside) * 1000:.0f} ms (median of {options.runs})")


if __name__ == "__main__":
    main()

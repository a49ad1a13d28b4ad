"""Wall time of `ai-cli model list --json` and of the REPL reaching its prompt (median of N runs).

    .venv/bin/python bench/cli_bench.py [--runs 15] [--models 20]

Starts a throw-away redis-server and the Ollama-protocol test server on loopback, registers
`--models` models on it, and times fresh `ai-cli` processes from the outside (fork to exit, and
fork to the first prompt in a pseudo-terminal). The fallback points at a refused loopback port.
Also reports the same start with the active models' server hanging, to show the banner waits about
one probe timeout (defaults.probe_timeout = 1 s here), not one per model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from _redis import redis_server  # noqa: E402
from ollama_server import OllamaTestServer, refused_url  # noqa: E402

PROGRAM = [sys.executable, "-m", "cli"]  # what the ai-cli script runs


def environment(folder: Path, redis_url: str) -> dict:
    config = {
        "tinyollama": {"url": refused_url(), "model": "tinyllama", "timeout": 5},
        "redis": {"url": "embedded", "key_prefix": "bench:"},
        "defaults": {"timeout": 30, "probe_timeout": 1, "availability_ttl": 30},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
    env.update(AI_CLI_REDIS_URL=redis_url, AI_CLI_CONFIG=str(folder / "config.yaml"),
               XDG_DATA_HOME=str(folder / "data"), NO_COLOR="1", TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1", PYTHONPATH=str(ROOT))
    return env


def time_list(env: dict, cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run([*PROGRAM, "model", "list", "--json"], env=env, cwd=cwd,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        assert proc.returncode == 0, proc.stderr
    return times


def time_prompt(env: dict, cwd: Path, runs: int) -> list[float]:
    import pexpect

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        child = pexpect.spawn(PROGRAM[0], PROGRAM[1:], env=env, cwd=str(cwd), encoding="utf-8",
                              timeout=30)
        child.expect(r">(\x08)?(\x1b\[\d*C| )")
        times.append(time.perf_counter() - started)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        child.close()
    return times


def show(label: str, times: list[float]) -> None:
    print(f"{label:<52} median {statistics.median(times) * 1000:7.0f} ms   "
          f"min {min(times) * 1000:6.0f} ms   max {max(times) * 1000:6.0f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=20)
    options = parser.parse_args()
    with redis_server() as redis_url, OllamaTestServer() as server, \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = environment(folder, redis_url)
        for i in range(options.models):
            server.add_model(f"m{i}")
            kind = "general" if i % 2 == 0 else "coder"
            subprocess.run([*PROGRAM, "model", kind, "add", server.url, f"m{i}"], env=env,
                           cwd=folder, check=True, capture_output=True)
        show(f"ai-cli model list --json ({options.models} models)", time_list(env, folder, options.runs))
        show("ai-cli (REPL) to its prompt, servers up", time_prompt(env, folder, options.runs))
        server.mode = "hang"
        show("ai-cli (REPL) to its prompt, model server hanging",
             time_prompt(env, folder, max(3, options.runs // 3)))
        server.mode = "normal"


if __name__ == "__main__":
    main()

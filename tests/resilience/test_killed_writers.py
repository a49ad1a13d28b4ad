"""Registry writers SIGKILLed at random moments, and many writers at once: the invariants hold."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from invariants import registry_problems
from test_cli_support import PROGRAM, cli  # noqa: F401
from ollama_fixtures import dead_url  # noqa: F401

pytestmark = pytest.mark.process  # writers in child processes, killed mid-run

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}


def wait_for_event(events, deadline_s: float = 60) -> bool:
    """True once a change event arrives (the worker is writing), False after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if events.get_message(timeout=0.5) is not None:
            while events.get_message(timeout=0) is not None:
                pass  # drop the backlog: the next round waits for its own worker
            return True
    return False


def test_library_writers_killed_mid_loop_leave_the_registry_sound(redis_url, real_redis,
                                                                   key_prefix):
    rng = random.Random(12)
    events = real_redis.pubsub(ignore_subscribe_messages=True)
    events.subscribe(f"{key_prefix}models:events")
    for round_ in range(6):
        while events.get_message(timeout=0.1) is not None:
            pass  # the last worker's late events
        worker = subprocess.Popen(
            [sys.executable, str(TESTS / "registry_worker.py"), redis_url, key_prefix, "100000",
             str(round_)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env())
        assert wait_for_event(events), "the worker never wrote"
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere inside its loop of transactions
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        assert registry_problems(real_redis, key_prefix) == [], f"after kill {round_}"
    assert real_redis.scard(f"{key_prefix}models:index:general") + \
        real_redis.scard(f"{key_prefix}models:index:coder") > 0  # the workers did write


def test_ai_cli_killed_during_add_leaves_the_registry_sound(cli, real_redis, key_prefix):
    rng = random.Random(7)
    for round_ in range(5):
        proc = subprocess.Popen(
            [*PROGRAM, "model", "general", "add", "http://127.0.0.1:9", f"k{round_}", "--force"],
            cwd=cli.cwd, env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.0))  # start-up, connect, probe or the write itself
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert registry_problems(real_redis, key_prefix) == [], f"after kill {round_}"
    listed = cli.json("model", "list")
    assert all("problem" not in m for m in listed)


def test_load_runner_eight_processes_keep_every_invariant(redis_url, real_redis, key_prefix):
    """bench/load_bench.py with a smaller count: 2 ai-cli loops and 6 library workers at once."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_bench.py"), "--ops", "400", "--processes", "8",
         "--cli", "2", "--url", redis_url, "--prefix", key_prefix, "--json"],
        capture_output=True, text=True, timeout=900, env=child_env())
    report = json.loads(done.stdout)
    assert report["errors"] == [] and report["problems"] == [], report
    assert report["operations"] == 400 and report["processes"] == 8
    assert report["latency"]["cli"]["count"] >= 2
    assert registry_problems(real_redis, key_prefix) == []

"""The embedded server's watcher (registry/connection/linger.py) under real faults: a REPL on a
real pty ended by SIGHUP (terminal closed), SIGTERM or `kill -9` leaves no server past the
linger; a `linger.pid` naming an unrelated live process does not stop a new watcher; a data dir
deleted (or deleted and made again) under a server that is in use stops that server; `redis.log`
stays bounded."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_fixtures import dead_url  # noqa: F401
from registry.config import ConfigManager
from registry.connection.client import connect_redis
from registry.connection.embedded import _stop_if_last
from registry.connection.linger import LOG_LIMIT
from resilience.embedded import running, servers_on, wait_for
from test_cli_support import cli  # noqa: F401

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
PROMPT = r">(\x08)?(\x1b\[\d*C| )"
LINGER = "1.5"
HOLD = """
import sys, time
from registry import open_registry
from registry.config import ConfigManager
registry = open_registry(ConfigManager.load())
print(registry.list_models() is not None, flush=True)
time.sleep(600)
"""


@pytest.fixture
def data_dir():
    path = ConfigManager.load(env={}).data_dir
    yield path
    for pid in servers_on(path):
        os.kill(pid, signal.SIGKILL)


def env(linger: str = LINGER) -> dict:
    return {**os.environ, "AI_CLI_REDIS_URL": "embedded", "AI_CLI_EMBEDDED_LINGER": linger,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}


def holder(linger: str = LINGER) -> subprocess.Popen:
    """A process using the embedded server until killed (as an open REPL or `serve` does)."""
    child = subprocess.Popen([sys.executable, "-c", HOLD], env=env(linger),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "True", child.stderr.read()
    return child


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGHUP", "SIGTERM", "SIGKILL"])
def test_a_repl_ended_by_a_signal_leaves_no_server_past_the_linger(cli, data_dir, sig):
    child = cli.spawn(env={"AI_CLI_REDIS_URL": "embedded", "AI_CLI_EMBEDDED_LINGER": LINGER},
                      timeout=30)
    child.expect(PROMPT)
    assert len(servers_on(data_dir)) == 1
    child.kill(sig)
    assert wait_for(lambda: not child.isalive(), 10)
    assert wait_for(lambda: not servers_on(data_dir), 30), "the server outlived its REPL"


def test_a_linger_pid_naming_an_unrelated_process_does_not_stop_a_new_watcher(data_dir):
    first = holder(linger="60")
    first.kill()
    first.wait()
    assert wait_for(lambda: (data_dir / "linger.pid").exists(), 10)
    watcher = int((data_dir / "linger.pid").read_text())
    os.kill(watcher, signal.SIGKILL)  # the watcher dies; its pid goes to someone else
    assert wait_for(lambda: not running(watcher), 10)
    unrelated = subprocess.Popen(["sleep", "60"])
    try:
        (data_dir / "linger.pid").write_text(str(unrelated.pid))
        assert servers_on(data_dir)
        done = subprocess.run([sys.executable, "-c", HOLD.replace("time.sleep(600)", "")],
                              env=env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert wait_for(lambda: not servers_on(data_dir), 30), "no watcher stopped the server"
        assert unrelated.poll() is None  # and the unrelated process was left alone
    finally:
        unrelated.kill()
        unrelated.wait()


@pytest.mark.parametrize("remade", [False, True], ids=["deleted", "deleted-and-remade"])
def test_a_data_dir_deleted_under_a_server_in_use_stops_it(data_dir, remade):
    user = holder(linger="60")
    try:
        (server,) = servers_on(data_dir)
        assert wait_for(lambda: (data_dir / "linger.pid").exists(), 10)  # its watcher is up
        shutil.rmtree(data_dir)
        if remade:
            data_dir.mkdir(mode=0o700)
        assert wait_for(lambda: not running(server), 30), "it ran on without its dir"
    finally:
        user.kill()
        user.wait()


def test_redis_log_is_bounded_at_start_and_while_the_server_runs(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "redis.log"
    log.write_bytes(b"old line\n" * (LOG_LIMIT // 9 + 1000))
    client = connect_redis("embedded", data_dir, timeout=2, linger=60)
    try:
        rotated = data_dir / "redis.log.1"
        assert rotated.stat().st_size > LOG_LIMIT
        assert log.stat().st_size < LOG_LIMIT
        with open(log, "ab") as handle:  # as a long life of saves would write
            handle.write(b"more\n" * (LOG_LIMIT // 5 + 1000))
        assert wait_for(lambda: log.stat().st_size < LOG_LIMIT if log.exists() else True, 10)
        client.set("after", "rotation")  # the server writes on, in a new redis.log
        assert wait_for(lambda: log.exists() and b"Saving" in log.read_bytes(), 10)
        assert rotated.stat().st_size < 2 * LOG_LIMIT
    finally:
        _stop_if_last(client, data_dir, 0)


ASKS = """
import sys
from registry import open_registry
from registry.config import ConfigManager
registry = open_registry(ConfigManager.load())
for line in sys.stdin:
    print(len(registry.list_models()), flush=True)
"""


def test_a_server_started_again_by_a_client_is_watched_too(data_dir):
    """The server killed under a process that then uses it again: that process starts it again
    by itself, and once the process is killed too, no server runs past the linger."""
    user = subprocess.Popen([sys.executable, "-c", ASKS], env=env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        user.stdin.write("list\n")
        user.stdin.flush()
        assert user.stdout.readline().strip() == "0"
        (first,) = servers_on(data_dir)
        assert wait_for(lambda: (data_dir / "linger.pid").exists(), 10)  # its watcher is up
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: not running(first), 10)
        assert wait_for(lambda: not (data_dir / "linger.pid").exists(), 10)  # its watcher left
        user.stdin.write("list\n")
        user.stdin.flush()
        assert user.stdout.readline().strip() == "0", user.stderr.read()
        (again,) = servers_on(data_dir)
        assert again != first
    finally:
        user.kill()
        user.wait()
    assert wait_for(lambda: not servers_on(data_dir), 30), "the new server outlived its user"

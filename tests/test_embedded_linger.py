"""The embedded server lingers after its last ai-cli process, then stops by itself, saving.

Real processes throughout: `ai-cli`-like children that connect exactly as ai-cli does
(`open_registry`), the real redis-server, and the real watcher (registry/connection/linger.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from registry.connection import linger
from registry.config import ConfigManager
from registry.connection.embedded import _socket_path
from resilience.embedded import wait_for

HERE = Path(__file__).resolve().parent
LINGER = 1.5  # seconds: short, so the stop is seen within the test

SCRIPT = """
import sys
from registry import open_registry
from registry.config import ConfigManager
registry = open_registry(ConfigManager.load())
if sys.argv[1] == "add":
    print(registry.add_model("general", "http://127.0.0.1:11434", sys.argv[2]).model_id)
else:
    model = registry.get_active_model("general")
    print(model.model_name if model else "none")
"""


def run(*args: str, linger_s: float = LINGER) -> str:
    env = {**os.environ, "AI_CLI_EMBEDDED_LINGER": str(linger_s),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pid_of(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid



@pytest.fixture
def data_dir():
    path = ConfigManager.load().data_dir
    yield path
    for name in ("linger.pid", "redis.pid"):  # never leave a process behind a failed test
        pid = pid_of(path / name)
        if pid:
            os.kill(pid, signal.SIGKILL)


@pytest.mark.process
def test_the_server_outlives_its_last_client_then_stops_and_keeps_the_data(data_dir):
    run("add", "lingering:1b")
    server = pid_of(data_dir / "redis.pid")
    assert server, "the server stopped with its last client although it should linger"
    assert wait_for(lambda: pid_of(data_dir / "linger.pid"), 5), "no watcher was started"

    assert run("get") == "lingering:1b"
    assert pid_of(data_dir / "redis.pid") == server, "the second process started another server"

    assert wait_for(lambda: pid_of(data_dir / "redis.pid") is None), "the server never stopped"
    assert wait_for(lambda: pid_of(data_dir / "linger.pid") is None, 5), "the watcher stayed"
    assert run("get", linger_s=0) == "lingering:1b"  # saved: a new server reads it back


@pytest.mark.process
def test_a_client_connected_during_the_linger_keeps_the_server(data_dir):
    run("add", "kept:1b")
    held = redis.Redis(unix_socket_path=str(_socket_path(data_dir)), client_name="ai-cli-999")
    held.ping()
    time.sleep(LINGER * 2 + linger.POLL * 2)
    assert pid_of(data_dir / "redis.pid"), "the server stopped under a connected client"
    held.close()
    assert wait_for(lambda: pid_of(data_dir / "redis.pid") is None), "it never stopped after"


@pytest.mark.process
def test_a_killed_watcher_is_replaced_by_the_next_process_that_leaves(data_dir):
    run("add", "orphan:1b", linger_s=60)
    watcher = wait_for(lambda: pid_of(data_dir / "linger.pid"), 5) and pid_of(
        data_dir / "linger.pid")
    os.kill(watcher, signal.SIGKILL)
    assert wait_for(lambda: pid_of(data_dir / "linger.pid") is None, 5)
    assert pid_of(data_dir / "redis.pid"), "killing the watcher took the server with it"

    assert run("get") == "orphan:1b"  # this one leaves a new watcher, with the 1.5 s linger
    assert wait_for(lambda: pid_of(data_dir / "redis.pid") is None), "the server never stopped"


@pytest.mark.process
def test_processes_leaving_at_once_still_leave_a_watcher(data_dir):
    run("add", "crowd:1b", linger_s=0)
    env = {**os.environ, "AI_CLI_EMBEDDED_LINGER": str(LINGER),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    crowd = [subprocess.Popen([sys.executable, "-c", SCRIPT, "get"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for child in crowd:
        out, err = child.communicate(timeout=60)
        assert out.strip() == "crowd:1b", err
    assert wait_for(lambda: pid_of(data_dir / "redis.pid") is None), "nobody stopped the server"


@pytest.mark.process
def test_linger_zero_stops_the_server_with_its_last_client(data_dir):
    run("add", "prompt:1b", linger_s=0)
    assert pid_of(data_dir / "redis.pid") is None or wait_for(
        lambda: pid_of(data_dir / "redis.pid") is None, 5)
    assert pid_of(data_dir / "linger.pid") is None


@pytest.mark.process
def test_a_deleted_data_dir_stops_the_lingering_server(data_dir, tmp_path):
    run("add", "gone:1b", linger_s=60)
    server = pid_of(data_dir / "redis.pid")
    assert server and wait_for(lambda: pid_of(data_dir / "linger.pid"), 5)
    moved = tmp_path / "moved-away"
    data_dir.rename(moved)  # as `rm -rf` would, but the test can still read the pid files
    assert wait_for(lambda: pid_of(moved / "redis.pid") is None), "it ran on without its dir"


# --- the watcher's pure decisions -----------------------------------------------------------


def test_watchers_are_not_users_but_every_other_client_is():
    names = ["ai-cli-linger-12", "ai-cli-linger-13", "ai-cli-40", ""]
    assert linger.user_clients(names) == ["ai-cli-40", ""]
    assert linger.user_clients(["ai-cli-linger-1"]) == []


def test_a_connected_watcher_is_seen_as_one():
    assert linger.watching(["ai-cli-12", "ai-cli-linger-7"])
    assert not linger.watching(["ai-cli-12", ""])


def test_idle_long_enough_counts_from_the_last_use():
    assert not linger.idle_long_enough(last_used=10.0, now=11.4, linger=1.5)
    assert linger.idle_long_enough(last_used=10.0, now=11.5, linger=1.5)


def test_the_linger_setting_is_checked(monkeypatch):
    from registry.errors import ConfigError

    assert ConfigManager.load(env={}).embedded_linger == 30.0
    assert ConfigManager.load(env={"AI_CLI_EMBEDDED_LINGER": "0"}).embedded_linger == 0.0
    for bad in ("-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigError, match="AI_CLI_EMBEDDED_LINGER"):
            _ = ConfigManager.load(env={"AI_CLI_EMBEDDED_LINGER": bad}).embedded_linger


def test_a_reply_that_is_not_resp_is_an_oserror_the_callers_let_pass(tmp_path):
    """Whatever answers on the socket, `_shutdown` at exit and the watcher get an OSError
    (which both treat as "the server is gone"), never a ValueError reaching the user."""
    import socket as sockets
    import threading

    path = tmp_path / "odd.sock"
    listener = sockets.socket(sockets.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(512)
        conn.sendall(b"$not-a-length\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    conn = linger.Resp(path, timeout=5)
    try:
        with pytest.raises(OSError, match="not a Redis reply"):
            conn.call("CLIENT", "LIST")
    finally:
        conn.close()
        listener.close()

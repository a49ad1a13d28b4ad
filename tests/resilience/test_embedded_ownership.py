"""One embedded redis-server per data file, whatever state it is in: a server that is stopped
(SIGSTOP), busy (`DEBUG SLEEP`) or loading a big `registry.db` is waited for and then reported as
busy, never replaced by a second server on the same file (registry/connection/embedded.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from registry.connection.client import connect_redis
from registry.connection.embedded import _stop_if_last, connect_embedded
from registry.errors import RegistryBusy
from registry.manager import ModelRegistry
from resilience.embedded import (
    server_pid,
    servers_on,
    stop_server_quietly,
    wait_for,
    wait_until_saved,
)

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    yield path
    for pid in servers_on(path):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)


def started_with_a_model(data_dir: Path) -> int:
    """A running embedded server holding one model; its pid."""
    client = connect_redis("embedded", data_dir, timeout=2)
    ModelRegistry(client).add_model("general", "http://127.0.0.1:9", "kept:1b")
    wait_until_saved(client)
    client.close()
    return server_pid(data_dir)


def model_names(client) -> list[str]:
    return [m.model_name for m in ModelRegistry(client).list_models()]


def test_a_stopped_server_is_waited_for_and_never_replaced(data_dir):
    """SIGSTOP for longer than the client's socket timeout (5 s): the next process waits, keeps
    the socket, starts nothing, and goes on with the same server once it runs again."""
    pid = started_with_a_model(data_dir)
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(7.0, os.kill, (pid, signal.SIGCONT))
    resume.start()
    try:
        client = connect_redis("embedded", data_dir, timeout=2)
    finally:
        resume.cancel()
        os.kill(pid, signal.SIGCONT)
    assert servers_on(data_dir) == [pid]
    assert model_names(client) == ["kept:1b"]
    _stop_if_last(client, data_dir)


def test_a_server_stopped_past_the_wait_is_reported_busy_in_one_line(data_dir):
    pid = started_with_a_model(data_dir)
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(RegistryBusy) as caught:
            connect_embedded(data_dir, timeout=2, wait=3)
        assert servers_on(data_dir) == [pid]
        assert (data_dir / "redis.sock").exists()  # never unlinked under a live server
    finally:
        os.kill(pid, signal.SIGCONT)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"The embedded Redis of {data_dir / 'registry.db'} runs but does "
                              "not answer (busy or stopped) after ")
    assert "never starts a second server" in message
    client = connect_redis("embedded", data_dir, timeout=2)
    assert model_names(client) == ["kept:1b"]
    _stop_if_last(client, data_dir)


def test_a_server_busy_in_debug_sleep_is_waited_for(data_dir):
    pid = started_with_a_model(data_dir)
    sleeper = redis.Redis(unix_socket_path=str(data_dir / "redis.sock"), socket_timeout=30)
    busy = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "7"))
    busy.start()
    time.sleep(0.3)
    waits = []
    try:
        client = connect_redis("embedded", data_dir, timeout=2, waiting=lambda text: _Seen(waits, text))
    finally:
        busy.join()
        sleeper.close()
    assert servers_on(data_dir) == [pid]
    assert waits and "busy" in waits[0]  # the face's spinner was asked for
    assert model_names(client) == ["kept:1b"]
    _stop_if_last(client, data_dir)


class _Seen:
    """A face's spinner stand-in: records the text it was shown with."""

    def __init__(self, seen: list, text: str):
        seen.append(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


COLD_START = """
import sys
from registry.connection.client import connect_redis
from registry.manager import ModelRegistry
client = connect_redis("embedded", sys.argv[1], timeout=2)
print(",".join(sorted(m.model_name for m in ModelRegistry(client).list_models())))
"""


def test_parallel_cold_starts_on_a_big_file_make_one_server(data_dir):
    """About 55 MB of registry.db (DEBUG POPULATE, uncompressed), then 8 processes at once with
    no server running: one server loads it, the others wait for it; the models are intact."""
    client = connect_redis("embedded", data_dir, timeout=2)
    ModelRegistry(client).add_model("general", "http://127.0.0.1:9", "kept:1b")
    client.config_set("rdbcompression", "no")
    client.execute_command("DEBUG", "POPULATE", "50000", "filler", "1100")
    _stop_if_last(client, data_dir)  # SHUTDOWN SAVE
    assert wait_for(lambda: not servers_on(data_dir), 30)
    assert (data_dir / "registry.db").stat().st_size > 50_000_000
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    starters = [subprocess.Popen([sys.executable, "-c", COLD_START, str(data_dir)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(8)]
    most = 0
    while any(s.poll() is None for s in starters):
        most = max(most, len(servers_on(data_dir)))
        time.sleep(0.01)
    results = [s.communicate() for s in starters]
    assert [s.returncode for s in starters] == [0] * 8, [err for _, err in results]
    assert all(out.strip() == "kept:1b" for out, _ in results), results
    assert most == 1
    assert len(servers_on(data_dir)) <= 1


def test_a_stale_socket_of_a_dead_server_is_still_replaced(data_dir):
    """Without an owner (the lock went with the killed server), its socket file is removed and a
    new server starts: ownership, not the socket, decides."""
    pid = started_with_a_model(data_dir)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: pid not in servers_on(data_dir), 10)
    assert (data_dir / "redis.sock").exists()
    client = connect_redis("embedded", data_dir, timeout=2)
    assert model_names(client) == ["kept:1b"]
    assert len(servers_on(data_dir)) == 1
    _stop_if_last(client, data_dir)
    stop_server_quietly(data_dir)


def test_ai_cli_shows_that_it_waits_for_a_stopped_server(data_dir):
    """The terminal face's spinner (a plain line on stderr when piped) while the wait lasts;
    then the command runs on the same server."""
    pid = started_with_a_model(data_dir)
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(3.0, os.kill, (pid, signal.SIGCONT))
    resume.start()
    env = {**os.environ, "AI_CLI_REDIS_URL": "embedded", "XDG_DATA_HOME": str(data_dir.parent),
           "PYTHONPATH": str(ROOT)}
    try:
        (data_dir.parent / "ai-cli").symlink_to(data_dir)
        done = subprocess.run([sys.executable, "-m", "cli", "model", "list"], env=env,
                              capture_output=True, text=True, timeout=60, cwd=data_dir.parent)
    finally:
        resume.cancel()
        os.kill(pid, signal.SIGCONT)
    assert done.returncode == 0, done.stderr
    shown = " ".join(done.stderr.split())
    assert f"Waiting for the embedded Redis of {data_dir.parent / 'ai-cli'}/registry.db, which " \
           "is busy" in shown
    assert "kept:1b" in done.stdout
    assert servers_on(data_dir) == [pid]

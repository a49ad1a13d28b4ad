"""A throw-away real Redis server for benchmarks, and a round-trip counter for any redis client."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import redis
from redis.connection import Connection, UnixDomainSocketConnection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from redis_process import RedisProcess  # noqa: E402 - the tests' throw-away server


@contextlib.contextmanager
def redis_server():
    """Yield the URL of a fresh redis-server on a unix socket; stop it afterwards."""
    with tempfile.TemporaryDirectory() as folder, RedisProcess(Path(folder), "bench.sock") as server:
        yield server.url


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

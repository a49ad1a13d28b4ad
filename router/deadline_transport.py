"""The httpx transport `ChatOllama` talks through, whose every read keeps the token deadline.

`deadline_transport()` is httpx's own `HTTPTransport` (connection pool, keep-alive, proxies,
error mapping unchanged) with its network backend wrapped: each connection it opens reads with
`read_budget` (router/deadline.py) as its timeout, and raises httpcore's `ReadTimeout` without
reading once the deadline has passed. httpx turns that into `httpx.ReadTimeout`, the failure a
silent server gives. Imported only when a `ChatOllama` is built (it imports httpx and httpcore).
"""

from __future__ import annotations

import time

import httpcore
import httpx

from router.deadline import current_deadline, read_budget


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads end by the current token deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = read_budget(timeout, current_deadline(), time.monotonic())
        if budget is not None and budget <= 0:
            raise httpcore.ReadTimeout("no token before the model's timeout")
        return self.inner.read(max_bytes, budget)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "DeadlineStream":
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's backend, handing out `DeadlineStream`s."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self.inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return DeadlineStream(self.inner.connect_tcp(host, port, timeout, local_address,
                                                     socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return DeadlineStream(self.inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """An `httpx.HTTPTransport` whose connections keep the token deadline."""
    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpx exposes no way to pass httpcore a network backend
    backend = getattr(pool, "_network_backend", None)
    if backend is None:  # a future httpx/httpcore: fail loudly rather than lose the deadline
        raise RuntimeError("httpcore's connection pool has no _network_backend to wrap")
    pool._network_backend = DeadlineBackend(backend)
    return transport

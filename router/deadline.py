"""A model's timeout is a deadline for each token, not a bound on each socket read.

httpx applies its read timeout to every socket read, so a server that trickles one byte a second
never trips a 5 s timeout and holds a request for as long as it likes. `RoutedStream`
(router/stream.py) opens `token_wait(seconds)` around each wait for the next chunk of an answer:
the first is the wait for the first token, each later one the gap between two tokens. Every read
on a connection made through router/deadline_transport.py is given at most the time left
(`read_budget`), and none once it is gone, so the wait ends at the deadline with the same
"timed out" failure a silent server gives (router/failures.py).

The deadline belongs to the code waiting (a `ContextVar`): each thread, and so each web request,
has its own, and a connection of the shared pool serves one request at a time. Reads made outside
a `token_wait` (nothing here makes any) keep the plain socket timeout.

Pure, with the clock passed in; nothing here touches the network.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

_deadline: ContextVar[float | None] = ContextVar("ai_cli_token_deadline", default=None)


@contextmanager
def token_wait(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Reads inside this block end by `seconds` from now (the wait for one token)."""
    token = _deadline.set(clock() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def current_deadline() -> float | None:
    """The monotonic time the current token wait ends, or None outside one."""
    return _deadline.get()


def read_budget(socket_timeout: float | None, deadline: float | None, now: float) -> float | None:
    """How long one socket read may wait: the socket timeout, cut to the time left before the
    deadline (None: no limit at all). Zero or less means the deadline has passed."""
    if deadline is None:
        return socket_timeout
    left = deadline - now
    return left if socket_timeout is None else min(socket_timeout, left)

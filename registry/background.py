"""Work done off the request path (a host's /api/ps, a probe of a host last seen down), each in a
thread of its own, and waited for, briefly, when the process exits.

The threads are daemons so a hung host never keeps a finished command alive; but a daemon thread
still inside httpx or a Redis call while the interpreter finalizes can crash the process (seen:
SIGSEGV and `free(): invalid pointer` after a one-off `ai-cli chat` had printed its answer). So
at exit every such thread gets up to `EXIT_WAIT` seconds to end; their own timeouts (the probe
timeout) bound that wait in practice.
"""

from __future__ import annotations

import atexit
import threading
import time
from typing import Callable

EXIT_WAIT = 3.0

_threads: set[threading.Thread] = set()
_lock = threading.Lock()
_registered = False


def start(work: Callable[[], None], name: str) -> None:
    """Run `work` in a daemon thread; its exceptions are its own (never raised anywhere)."""
    global _registered
    thread = threading.Thread(target=_run, args=(work,), daemon=True, name=name)
    with _lock:
        if not _registered:
            atexit.register(wait_for_all)
            _registered = True
        _threads.add(thread)
    thread.start()


def _run(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:  # noqa: BLE001 - background work changes nothing when it fails
        pass
    finally:
        with _lock:
            _threads.discard(threading.current_thread())


def wait_for_all(seconds: float = EXIT_WAIT) -> None:
    """Join the running background threads, `seconds` in all at most."""
    deadline = time.monotonic() + seconds
    with _lock:
        running = list(_threads)
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))

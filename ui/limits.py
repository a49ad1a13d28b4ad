"""How many model requests the web server runs at once.

A request to a model holds a worker thread until the model answers or its timeout passes. Without
a bound, a hung model server would take every worker of the request pool one request at a time,
and then no route (not even `GET /models`) would answer. `ModelSlots` admits `MAX_MODEL_CALLS`
and refuses the next at once (503 `ModelSlotsBusy`), rather than queueing it behind a hang.
"""

from __future__ import annotations

import threading

from ui.errors import ModelSlotsBusy

MAX_MODEL_CALLS = 8


class Slot:
    """One taken slot; `release` is safe to call more than once."""

    def __init__(self, semaphore: threading.Semaphore):
        self._semaphore = semaphore
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._semaphore.release()

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class ModelSlots:
    def __init__(self, limit: int = MAX_MODEL_CALLS):
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    def take(self) -> Slot:
        """A slot, or `ModelSlotsBusy` now (never a wait)."""
        if not self._semaphore.acquire(blocking=False):
            raise ModelSlotsBusy(self.limit)
        return Slot(self._semaphore)

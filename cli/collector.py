"""Python's cyclic garbage collector waits while ai-cli starts, and runs again in a process that
lasts.

Start-up builds tens of thousands of objects that live as long as the process (LangChain's
pydantic models, rich, prompt_toolkit, the command table). The collector runs after every 700 new
objects and walks the young ones, and now and then all of them, though none of these is garbage:
a share of every start spent for nothing (bench/README.md has the figures). Reference counting
frees everything else as always; only garbage in cycles waits.

- `pause` is the first thing the `ai-cli` script does (cli/__main__.py).
- `lasts` is called by cli/main.py, the one place that decides a process lasts (the REPL, on a
  terminal or a pipe, `serve`, the wizard) and from when its collector runs again: at once, or
  when the warm-up's imports end (`held`: cli/warmup.py), which are most of start-up. Then
  what is alive is frozen (`gc.freeze`: later collections never walk it) and the collector runs
  as usual; after a warm-up, what its imports left in cycles is collected first.
- A one-shot command (`ai-cli model list`, `ai-cli chat hello`) never calls `lasts`: it ends with
  the collector paused.
- At exit, after every other exit handler, what is alive is frozen too: the interpreter's
  finalization would otherwise collect it all once more, only to free memory the system takes
  back anyway. (An object that only a reference cycle kept is then never finalized: ai-cli closes
  its files and connections itself, in `with` blocks and exit handlers, which run as always.)
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from typing import Iterator

_lasting = False  # `lasts` was called: the process runs on


def pause() -> None:
    gc.disable()
    atexit.register(gc.freeze)  # registered before any other exit handler: runs after them all


def lasts(*, after_warm_up: bool) -> None:
    """The process lasts: collect as usual from now on, or (`after_warm_up`) from the end of the
    warm-up's imports. What is alive then is never walked again."""
    global _lasting
    _lasting = True
    if not after_warm_up:
        _run_on()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """No collection while the block runs (the warm-up's imports, which build what lives as long
    as the process). Afterwards, in a process that lasts, what they left in cycles is collected
    (frozen, it would be kept for good) and the collector runs on."""
    gc.disable()
    try:
        yield
    finally:
        if _lasting:
            gc.collect()
            _run_on()


def _run_on() -> None:
    gc.freeze()
    gc.enable()

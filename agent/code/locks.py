"""Locks that keep /code's check-then-write whole while several writers share a workspace.

Two terminals, a terminal and `ai-cli serve`, or two web requests may apply changes to one file at
the same moment; each checks that the file still holds what its change was planned on, then
writes. Without a lock both checks can pass before either writes, and one change is lost. The
undo journal is one file read, changed and written back by every run: without a lock two runs
read the same list and the later write drops the other's record.

Each lock is `fcntl.flock` on a lock file in the user's private data dir (never in the user's
repository): one per workspace, one for the journal; always taken in that order. A lock is taken
on a descriptor opened anew, so two threads of one process exclude each other as two processes
do, and the kernel releases it when its process dies, `kill -9` included: no stale lock remains.
A holder that never lets go (a stopped process) makes the others give up after `LOCK_WAIT`
seconds with a `WorkspaceBusy` saying so, rather than hang.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from agent.errors import WorkspaceBusy
from registry.config.private_files import DIR_MODE, FILE_MODE

LOCK_WAIT = 30.0  # seconds a writer waits for another to finish before it gives up
POLL = 0.005  # seconds between tries while another holds the lock


def workspace_lock_path(data_dir: Path, root: Path) -> Path:
    """The lock file of one workspace (named by a digest of its resolved path)."""
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return Path(data_dir) / "locks" / f"workspace-{digest}.lock"


def journal_lock_path(journal: Path) -> Path:
    """The lock file of the undo journal, beside it (the journal itself is replaced by rename)."""
    return journal.with_name(journal.name + ".lock")


@contextmanager
def held(path: Path, what: str, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the exclusive lock on `path` for the block; `what` names it in `WorkspaceBusy`."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        _acquire(fd, what, wait)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, what: str, wait: float) -> None:
    give_up = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= give_up:
                raise WorkspaceBusy(
                    f"Another ai-cli has been writing {what} for over {wait:g} s; nothing was "
                    "written. Try again when it is done (a stopped ai-cli holds it until it ends)."
                ) from None
            time.sleep(POLL)

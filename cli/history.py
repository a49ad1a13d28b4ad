"""The REPL's history file, kept without secrets: every URL in a stored line has its password
masked (`registry.model.mask_url`), so `/model general add http://user:pass@host ...` is stored
as `http://user:***@host`. The line typed stays as typed for the rest of that REPL run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prompt_toolkit.history import FileHistory

from registry.model import mask_url

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def mask_urls(text: str) -> str:
    """`text` with the password of every URL in it masked. Pure."""
    return _URL.sub(lambda m: mask_url(m.group()), text)


class MaskedFileHistory(FileHistory):
    """prompt_toolkit's FileHistory, storing each line with its URLs' passwords masked."""

    def __init__(self, filename: str | os.PathLike) -> None:
        scrub(Path(filename))
        super().__init__(filename)

    def store_string(self, string: str) -> None:
        super().store_string(mask_urls(string))


def scrub(path: Path) -> None:
    """Mask passwords a history file written by an older ai-cli may still hold (in place,
    through a temporary file and a rename, so a crash leaves the old or the new file)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return  # no history yet (or unreadable: prompt_toolkit will say nothing either)
    text = raw.decode("utf-8", "replace")
    masked = mask_urls(text)
    if masked == text:
        return
    temp = path.with_name(f".{path.name}.scrub")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(masked)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)

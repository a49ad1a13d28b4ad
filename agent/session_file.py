"""The session in use in the shell (`ai-cli session use ID`): one small file per user.

A module of its own, apart from agent/sessions.py (the store on Redis), because every one-shot
command reads this file and most never touch a session (start-up time, docs/STARTUP.md).
"""

from __future__ import annotations

import os
import re

SESSION_ID_RE = re.compile(r"^session_[0-9a-f]{8}\Z")  # \Z: "$" would also match before a final newline

IN_USE_FILE = "session"


def read_in_use(data_dir) -> str | None:
    """The session id `ai-cli session use` stored, or None (none stored, or unreadable)."""
    try:
        text = (data_dir / IN_USE_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if SESSION_ID_RE.match(text) else None


def write_in_use(data_dir, session_id: str | None) -> None:
    """Store (None: forget) the shell's session in use: the data dir 0700, the file 0600."""
    path = data_dir / IN_USE_FILE
    if session_id is None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{IN_USE_FILE}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(session_id + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)

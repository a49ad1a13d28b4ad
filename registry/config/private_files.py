"""The user's data dir kept private: the dir 0700 and every file in it 0600, whatever the umask.

The data dir holds the REPL history (every line typed), `registry.db` (every model and chat),
the embedded server's log, pid, lock and socket. Each ai-cli start calls `secure_data_dir`, which
also tightens an install made by an older ai-cli (0755 dir, 0644 files).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SERVER_UMASK = 0o077  # the embedded redis-server runs with it: its db, log and pid come out 0600


def secure_data_dir(path: Path) -> Path:
    """Create `path` (0700) if missing; make it 0700 and its files 0600 if they are looser."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    for entry in os.scandir(path):
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            _tighten(Path(entry.path), FILE_MODE, info)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if missing (before another library opens it with the
    umask's mode), else make it 0600."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def _tighten(path: Path, mode: int, info: os.stat_result | None = None) -> None:
    try:
        info = info or path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & ~mode:
            os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError:
        pass  # not ours, or gone: nothing we can (or should) change

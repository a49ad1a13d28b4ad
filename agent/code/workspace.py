"""The workspace: the one folder /code may read and change, and the rule for every path inside it.

A path from a model is refused (with a message the model sees) when it is absolute and outside the
workspace, contains `..`, or leads outside through a symlink. Pure path logic plus `os.path`
resolution; nothing is read or written here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent.errors import PathRefused

# Folders no tool lists or searches: tool caches and VCS internals, never the user's code.
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", ".idea"}
)


@dataclass(frozen=True)
class Workspace:
    """A folder, resolved once; `resolve()` is the only way a tool turns a name into a path."""

    root: Path

    @classmethod
    def open(cls, folder: str | os.PathLike | None = None) -> "Workspace":
        root = Path(folder if folder is not None else os.getcwd()).expanduser()
        if not root.is_dir():
            raise PathRefused(f"The workspace {str(root)!r} is not a folder. Pass an existing one.",
                              reason="not_a_folder")
        return cls(root.resolve())

    def resolve(self, name: str) -> Path:
        """The real path for `name`, or `PathRefused` saying why it is not allowed."""
        if not isinstance(name, str) or not name.strip():
            raise PathRefused("The path is empty. Give a path relative to the workspace.",
                              reason="empty")
        if "\x00" in name:
            raise PathRefused("The path contains a NUL character.", reason="nul")
        raw = Path(name.strip()).expanduser() if name.strip().startswith("~") else Path(name.strip())
        if ".." in PurePosixPath(name.replace("\\", "/")).parts:
            raise PathRefused(
                f"Refused {name!r}: '..' is not allowed. Use a path inside the workspace.",
                reason="dotdot",
            )
        candidate = raw if raw.is_absolute() else self.root / raw
        if not _is_within(Path(os.path.abspath(candidate)), self.root):
            raise PathRefused(
                f"Refused {name!r}: it is outside the workspace {self.root}. "
                "Use a path relative to the workspace.",
                reason="outside",
            )
        real = Path(os.path.realpath(candidate))
        if not _is_within(real, self.root):
            raise PathRefused(
                f"Refused {name!r}: it is a symlink that leads outside the workspace.",
                reason="symlink",
            )
        return real

    def relative(self, path: Path) -> str:
        """How a path is shown to the user and the model: relative, with forward slashes."""
        rel = path.relative_to(self.root).as_posix()
        return rel or "."

    def walk_files(self, start: Path):
        """Files under `start` in a stable order, skipping tool folders and symlinks that leave."""
        if start.is_file():
            yield start
            return
        for folder, dirs, files in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and self._stays(folder, d))
            for name in sorted(files):
                path = Path(folder) / name
                if self._stays(folder, name):
                    yield path

    def _stays(self, folder: str, name: str) -> bool:
        return _is_within(Path(os.path.realpath(os.path.join(folder, name))), self.root)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents

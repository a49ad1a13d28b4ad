"""Changing files for /code: dry run, diff, permission, then write; and the journal `/undo` reads.

Every change is first a `FileChange` (pure: before and after text), reported as a unified diff
(`ProposedEdit`, which the face shows); the `Gate` asks yes / no / all (or is told `--yes`); only
then, holding the workspace's lock (agent/code/locks.py), the file is checked to still hold what
the change was planned on (else `ChangedSinceProposed`, nothing written), `write_text_atomic`
writes through a temporary file and a rename, and the journal records what the file held before.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from agent.code.locks import held, journal_lock_path, workspace_lock_path
from agent.errors import ChangedSinceProposed, EditFailed, NothingToUndo
from agent.events import Event, Notice, ProposedEdit
from registry.config.private_files import FILE_MODE

UNDO_KEPT = 40  # /code runs the journal keeps (all workspaces together)


# --- planning (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One file's planned change; `before` is None when the file does not exist yet."""

    path: Path
    rel: str
    before: str | None
    after: str

    @property
    def is_new(self) -> bool:
        return self.before is None

    @property
    def before_sha(self) -> str | None:
        """The digest of the text the change was planned on (None: the file did not exist)."""
        return _digest(self.before)

    def diff(self) -> str:
        return unified_diff(self.rel, self.before, self.after)

    def summary(self) -> str:
        added, removed = count_changes(self.diff())
        kind = "created" if self.is_new else "changed"
        return f"{self.rel} {kind} (+{added} -{removed})"


def plan_replace(path: Path, rel: str, before: str, old: str, new: str) -> FileChange:
    """Replace the one exact occurrence of `old`; zero or several occurrences are an `EditFailed`."""
    if old == "":
        raise EditFailed(f"The text to replace in {rel} is empty. Quote the exact lines to change.")
    count = before.count(old)
    if count == 0:
        raise EditFailed(
            f"The text to replace was not found in {rel}. Read the file and quote it exactly"
            f"{did_you_mean(before, old)}"
        )
    if count > 1:
        raise EditFailed(
            f"The text to replace occurs {count} times in {rel}. Include more surrounding lines "
            "so it matches exactly once."
        )
    return FileChange(path, rel, before, before.replace(old, new, 1))


def did_you_mean(text: str, wanted: str) -> str:
    """A hint naming the lines of `text` closest to `wanted` (aider's 'did you mean'), or '.'."""
    lines = text.splitlines()
    size = max(1, len(wanted.splitlines()))
    if not lines:
        return "."
    best, best_ratio = None, 0.6
    for start in range(0, max(1, len(lines) - size + 1)):
        chunk = "\n".join(lines[start:start + size])
        ratio = difflib.SequenceMatcher(None, chunk, wanted, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = chunk, ratio
    return f"; did you mean:\n{best}" if best is not None else "."


def unified_diff(rel: str, before: str | None, after: str) -> str:
    old = "" if before is None else before
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile="/dev/null" if before is None else f"a/{rel}",
            tofile=f"b/{rel}",
        )
    )


def count_changes(diff: str) -> tuple[int, int]:
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


# --- permission --------------------------------------------------------------------------------

Ask = Callable[[str], str | None]


class Gate:
    """Reports each change and asks yes / no / all; `assume_yes` (`--yes`) skips the question.

    `ask` returns the user's answer; None (or no `ask` at all) means nobody can answer (no
    terminal), which is a no.
    """

    def __init__(self, report: Callable[[Event], None], ask: Ask | None,
                 assume_yes: bool = False):
        self.report = report
        self.ask = ask
        self.approve_all = assume_yes

    def approve(self, change: FileChange) -> bool:
        self.report(ProposedEdit(change.rel, change.diff(), change.is_new))
        if self.approve_all:
            return True
        while True:
            answer = self.ask(f"Apply this change to {change.rel}? [y]es / [n]o / [a]ll ") \
                if self.ask is not None else None
            if answer is None:
                self.report(Notice("Not applied: no terminal to confirm on. Run with --yes to "
                                   "apply changes.", "warn"))
                return False
            answer = answer.strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no", ""):
                return False
            if answer in ("a", "all"):
                self.approve_all = True
                return True
            self.report(Notice("Answer y, n or a.", "warn"))


# --- writing -----------------------------------------------------------------------------------


def write_text_atomic(path: Path, text: str, new_mode: int | None = None) -> None:
    """Write through a temporary file in the same folder and a rename: never a half-written file.

    An existing file keeps its mode; a new one gets `new_mode`, by default the mode any program
    gives a new file (0666 less the umask), not the temporary file's private 0600.
    The rename replaces a symlink at `path` rather than following it, so a link swapped in after
    the workspace check cannot redirect the write outside.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        mode = path.stat().st_mode & 0o7777
    else:
        mode = new_file_mode() if new_mode is None else new_mode
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".ai-cli-tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def new_file_mode() -> int:
    """0666 less the process's umask: what `open()` would give a new file."""
    return 0o666 & ~current_umask()


_umask_lock = threading.Lock()


def current_umask() -> int:
    """The umask, read without changing it (Linux: /proc/self/status). Elsewhere it is set and
    set back under a lock; a file another thread creates in that instant gets the stricter 077."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def ensure_unchanged(change: FileChange, then: str = "Ask for the change again.") -> None:
    """`ChangedSinceProposed` unless the file still holds the text the change was planned on.
    Call it holding the workspace's lock, right before the write."""
    if _digest(read_text(change.path, change.rel)) != change.before_sha:
        raise ChangedSinceProposed(
            f"{change.rel} changed since this change to it was proposed; nothing was written. "
            + then
        )


def read_text(path: Path, rel: str) -> str | None:
    """A workspace file's text, None when it does not exist; binary or odd files are EditFailed."""
    if not path.exists():
        return None
    if not path.is_file():
        raise EditFailed(f"{rel} is not a regular file.")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise EditFailed(f"{rel} is not UTF-8 text; /code edits text files only.") from None


# --- undo --------------------------------------------------------------------------------------


def _current_text(path: Path, rel: str) -> str | None:
    try:
        return read_text(path, rel)
    except EditFailed:
        return "\x00unreadable"


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class UndoEntry:
    """One /code run: for each changed file, what it held before and what /code left in it."""

    workspace: str
    files: dict[str, dict] = field(default_factory=dict)  # path -> {"before", "after_sha"}
    at: float = field(default_factory=time.time)
    entry_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict:
        return {"id": self.entry_id, "workspace": self.workspace, "files": self.files, "at": self.at}

    def record(self, change: FileChange) -> None:
        key = str(change.path)
        earlier = self.files.get(key)
        before = earlier["before"] if earlier else change.before
        self.files[key] = {"before": before, "after_sha": _digest(change.after)}


@dataclass(frozen=True)
class UndoReport:
    restored: list[str]
    skipped: list[str]  # changed again since /code wrote them: left alone
    deleted: list[str] = field(default_factory=list)  # /code created them: undo removed them

    def to_json(self) -> dict:
        return {"restored": self.restored, "skipped": self.skipped, "deleted": self.deleted}


class UndoJournal:
    """The last /code runs per workspace, kept in a JSON file in the user's data dir.

    A file so ai-cli in another process (`ai-cli code` then `ai-cli undo`) can undo too.
    """

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> "UndoJournal":
        return cls(Path(data_dir) / "undo.json")

    def workspace_lock(self, workspace: Path):
        """The lock held around every check-then-write in `workspace` (in the data dir)."""
        return held(workspace_lock_path(self.path.parent, workspace), f"to {workspace}")

    def _locked(self):
        return held(journal_lock_path(self.path), "the undo journal")

    def save(self, entry: UndoEntry) -> None:
        """Record `entry` (or its newer state): called after every write, so a crash loses nothing."""
        if not entry.files:
            return
        with self._locked():
            entries = [e for e in self._load() if e.get("id") != entry.entry_id]
            entries.append(entry.to_json())
            self._save(entries[-UNDO_KEPT:])

    def undo(self, workspace: Path) -> UndoReport:
        """Restore the files of the newest /code run in `workspace`; files edited since are skipped."""
        with self.workspace_lock(workspace), self._locked():
            return self._undo(workspace)

    def _undo(self, workspace: Path) -> UndoReport:
        entries = self._load()
        mine = [i for i, e in enumerate(entries) if e["workspace"] == str(workspace)]
        if not mine:
            raise NothingToUndo(f"Nothing to undo: no /code change in {workspace} is recorded.")
        entry = entries.pop(mine[-1])
        restored, skipped, deleted = [], [], []
        for name, state in sorted(entry["files"].items()):
            path = Path(name)
            rel = os.path.relpath(path, workspace)
            if _digest(_current_text(path, rel)) != state["after_sha"]:
                skipped.append(rel)
                continue
            if state["before"] is None:
                path.unlink()
                deleted.append(rel)
                continue
            write_text_atomic(path, state["before"])
            restored.append(rel)
        self._save(entries)
        return UndoReport(restored, skipped, deleted)

    def _load(self) -> list[dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # an unreadable journal only loses undo history; never blocks /code
        if not isinstance(data, list):
            return []
        return [e for e in data if _sound_entry(e)]

    def _save(self, entries: list[dict]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the private data dir
        write_text_atomic(self.path, json.dumps(entries), new_mode=FILE_MODE)


def _sound_entry(entry) -> bool:
    """A journal entry undo can act on; any other (edited by hand, cut short) is left out, so
    a damaged journal only loses history and never breaks /undo."""
    if not isinstance(entry, dict) or not isinstance(entry.get("workspace"), str):
        return False
    files = entry.get("files")
    return isinstance(files, dict) and all(
        isinstance(state, dict) and isinstance(state.get("before"), (str, type(None)))
        and isinstance(state.get("after_sha", 0), (str, type(None)))
        and "after_sha" in state and "before" in state
        for state in files.values())


# --- applying ----------------------------------------------------------------------------------


class EditApplier:
    """Dry run → diff → permission → write, one change at a time; records each write for /undo."""

    def __init__(self, gate: Gate, journal: UndoJournal, workspace: Path):
        self.gate = gate
        self.journal = journal
        self.workspace = workspace
        self.entry = UndoEntry(str(workspace))
        self.applied: list[FileChange] = []
        self.declined: list[FileChange] = []

    def read(self, path: Path, rel: str) -> str | None:
        """A file's text as the tools see it (a proposal's applier shows its planned changes)."""
        return read_text(path, rel)

    def apply(self, change: FileChange) -> bool:
        if change.before == change.after:
            return True
        if not self.gate.approve(change):
            self.declined.append(change)
            return False
        with self.journal.workspace_lock(self.workspace):
            ensure_unchanged(change, "Read the file again and redo the change.")
            self.write(change)
        return True

    def write(self, change: FileChange) -> None:
        """Write one checked change and record it; the caller holds the workspace's lock."""
        write_text_atomic(change.path, change.after)
        self.entry.record(change)
        self.journal.save(self.entry)
        self.applied.append(change)

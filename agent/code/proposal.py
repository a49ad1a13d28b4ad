"""/code without a terminal to ask on: the run's changes become a proposal, written only when applied.

`ProposingApplier` stands in for `EditApplier` in the /code loop: it records each change (a later
change to the same file builds on the earlier one, and the tools read the planned text back) and
writes nothing. `apply_proposal` later writes them through the same temp-file-and-rename path and
undo journal as the terminal's /code, after checking, under the workspace's lock, that no file
changed in between.
Limit: list_files and search_text see the files on disk, not the planned ones, and the plain-text
edit format plans each retry from the files on disk.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from agent.code.edits import EditApplier, FileChange, Gate, UndoJournal, ensure_unchanged, read_text
from agent.code.workspace import Workspace
from agent.errors import PathRefused, ProposalNotFound

KEPT = 32  # proposals a server holds; the oldest is forgotten first


class ProposingApplier(EditApplier):
    def __init__(self, workspace: Path):
        super().__init__(gate=None, journal=None, workspace=workspace)
        self.planned: dict[Path, FileChange] = {}

    def read(self, path: Path, rel: str) -> str | None:
        change = self.planned.get(path)
        return change.after if change is not None else read_text(path, rel)

    def apply(self, change: FileChange) -> bool:
        earlier = self.planned.get(change.path)
        before = earlier.before if earlier is not None else change.before
        self.planned[change.path] = FileChange(change.path, change.rel, before, change.after)
        return True

    def changes(self) -> list[FileChange]:
        return [c for c in self.planned.values() if c.before != c.after]


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    workspace: Path
    changes: tuple[FileChange, ...]
    outcome: dict  # CodeOutcome.to_json()

    def to_json(self) -> dict:
        return {
            "id": self.proposal_id,
            **{k: v for k, v in self.outcome.items() if k not in ("applied", "declined")},
            "changes": [
                {"path": c.rel, "is_new": c.is_new, "summary": c.summary(), "diff": c.diff()}
                for c in self.changes
            ],
        }


@dataclass(frozen=True)
class Applied:
    proposal_id: str
    applied: list[str]

    def to_json(self) -> dict:
        return {"id": self.proposal_id, "applied": self.applied}


class Proposals:
    """The proposals one server holds, by id (thread-safe; in memory only)."""

    def __init__(self, kept: int = KEPT):
        self.kept = kept
        self._items: OrderedDict[str, Proposal] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, workspace: Path, changes: list[FileChange], outcome: dict) -> Proposal:
        proposal = Proposal("proposal_" + secrets.token_hex(4), workspace, tuple(changes), outcome)
        with self._lock:
            self._items[proposal.proposal_id] = proposal
            while len(self._items) > self.kept:
                self._items.popitem(last=False)
        return proposal

    def take(self, proposal_id: str) -> Proposal:
        """The proposal, removed from the store (apply it once)."""
        with self._lock:
            proposal = self._items.pop(proposal_id, None)
        if proposal is None:
            raise ProposalNotFound(proposal_id)
        return proposal


def apply_proposal(proposal: Proposal, journal: UndoJournal) -> Applied:
    """Write every change of `proposal`, or none when a file changed since it was made
    (`ChangedSinceProposed`). The checks and the writes hold the workspace's lock, so of two
    applies that change one file at once, exactly one writes (agent/code/locks.py)."""
    workspace = Workspace.open(proposal.workspace)
    applier = EditApplier(Gate(lambda event: None, None, assume_yes=True), journal,
                          workspace.root)
    with journal.workspace_lock(workspace.root):
        for change in proposal.changes:
            if workspace.resolve(change.rel) != change.path:
                raise PathRefused(f"Refused {change.rel!r}: it no longer leads to the same file.")
            ensure_unchanged(change, "Send the instruction to POST /code again.")
        for change in proposal.changes:
            applier.write(change)
    return Applied(proposal.proposal_id, [c.summary() for c in applier.applied])

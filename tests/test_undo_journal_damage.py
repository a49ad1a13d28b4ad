"""A damaged /undo journal (edited by hand, cut short) never breaks /undo: the damaged entries
are left out, the sound ones still undo."""

from __future__ import annotations

import json

import pytest

from agent.code.edits import UndoJournal
from agent.errors import NothingToUndo


@pytest.mark.parametrize("entry", [
    {"id": "x", "workspace": "W", "files": {"W/a.txt": {"before": "old"}}},  # no after_sha
    {"id": "x", "workspace": "W", "files": {"W/a.txt": {"after_sha": None}}},  # no before
    {"id": "x", "workspace": "W", "files": {"W/a.txt": "not a mapping"}},
    {"id": "x", "workspace": "W", "files": {"W/a.txt": {"before": 5, "after_sha": None}}},
    {"id": "x", "files": {}},  # no workspace
    {"id": "x", "workspace": 3, "files": {}},
])
def test_a_damaged_entry_is_left_out_and_undo_says_nothing_to_undo(tmp_path, entry):
    workspace = tmp_path / "w"
    workspace.mkdir()
    text = json.dumps([json.loads(json.dumps(entry).replace("W", str(workspace)))])
    journal = UndoJournal(tmp_path / "undo.json")
    journal.path.write_text(text, encoding="utf-8")
    with pytest.raises(NothingToUndo):
        journal.undo(workspace)


def test_a_sound_entry_beside_a_damaged_one_still_undoes(tmp_path):
    workspace = tmp_path / "w"
    workspace.mkdir()
    target = workspace / "a.txt"
    target.write_text("new", encoding="utf-8")
    import hashlib

    sound = {"id": "s", "workspace": str(workspace), "at": 1, "files": {
        str(target): {"before": "old", "after_sha": hashlib.sha256(b"new").hexdigest()}}}
    damaged = {"id": "d", "workspace": str(workspace), "at": 2,
               "files": {str(target): {"before": "x"}}}
    journal = UndoJournal(tmp_path / "undo.json")
    journal.path.write_text(json.dumps([sound, damaged]), encoding="utf-8")
    report = journal.undo(workspace)
    assert report.restored == ["a.txt"] and target.read_text(encoding="utf-8") == "old"

"""Edit planning, the diff, the yes/no/all gate, atomic writes and the undo journal."""

from __future__ import annotations

import os

import pytest

from agent.code.edits import (
    EditApplier,
    FileChange,
    Gate,
    UndoJournal,
    count_changes,
    plan_replace,
    write_text_atomic,
)
from agent.errors import EditFailed, NothingToUndo
from agent.events import Notice, ProposedEdit
from cli.views.code import render_diff


class Reported(list):
    """The events a Gate reports, and the text a face would show of them."""

    def __call__(self, event) -> None:
        self.append(event)

    def shown(self) -> str:
        return "\n".join(e.diff if isinstance(e, ProposedEdit) else e.text for e in self)


def test_plan_replace_exactly_once(tmp_path):
    change = plan_replace(tmp_path / "a.py", "a.py", "x = 1\ny = 2\n", "y = 2", "y = 3")
    assert change.after == "x = 1\ny = 3\n"
    assert count_changes(change.diff()) == (1, 1)
    assert change.summary() == "a.py changed (+1 -1)"


def test_plan_replace_not_found_hints_the_closest_lines(tmp_path):
    with pytest.raises(EditFailed, match="did you mean:\ndef greet\\(name\\):"):
        plan_replace(tmp_path / "a.py", "a.py", "def greet(name):\n    pass\n", "def greet(nme):", "x")


def test_plan_replace_ambiguous_or_empty(tmp_path):
    with pytest.raises(EditFailed, match="occurs 2 times"):
        plan_replace(tmp_path / "a", "a", "x\nx\n", "x", "y")
    with pytest.raises(EditFailed, match="empty"):
        plan_replace(tmp_path / "a", "a", "x\n", "", "y")


def test_diff_of_a_new_file_and_colours():
    change = FileChange(None, "new.txt", None, "hello\n[bold]markup[/bold]\n")
    diff = change.diff()
    assert diff.startswith("--- /dev/null\n+++ b/new.txt\n")
    text = render_diff(diff)
    assert "[bold]markup[/bold]" in text.plain  # shown literally, never interpreted
    styles = {span.style for span in text.spans}
    assert "green" in styles and "cyan" in styles


def test_atomic_write_keeps_mode_and_replaces_a_symlink_not_its_target(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old\n")
    os.chmod(target, 0o755)
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o755
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    link = tmp_path / "link.txt"
    os.symlink(outside, link)
    write_text_atomic(link, "written\n")
    assert outside.read_text() == "keep\n"
    assert not link.is_symlink() and link.read_text() == "written\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".ai-cli-tmp")] == []


@pytest.mark.parametrize(
    "answers, expected",
    [(["y", "n"], [True, False]), (["n", "n"], [False, False]), (["a"], [True, True]),
     (["maybe", "yes", "no"], [True, False])],
)
def test_gate_yes_no_all(answers, expected):
    out = Reported()
    queue = list(answers)
    asked = []

    def ask(question):
        asked.append(question)
        return queue.pop(0)

    gate = Gate(out, ask)
    changes = [FileChange(None, f"f{i}", "a\n", "b\n") for i in range(2)]
    assert [gate.approve(c) for c in changes] == expected
    assert ("Answer y, n or a." in out.shown()) == ("maybe" in answers)
    assert [e.path for e in out if isinstance(e, ProposedEdit)] == ["f0", "f1"][:len(expected)]
    assert "-a" in out.shown() and "+b" in out.shown()


def test_gate_assume_yes_never_asks_and_no_terminal_declines():
    out = Reported()
    assert Gate(out, ask=lambda q: pytest.fail("asked"), assume_yes=True).approve(
        FileChange(None, "f", "a\n", "b\n"))
    assert not Gate(out, ask=None).approve(FileChange(None, "f", "a\n", "b\n"))
    assert [e.level for e in out if isinstance(e, Notice)] == ["warn"]
    assert "Run with --yes" in out.shown()


def test_applier_writes_journals_and_undo_restores(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("one\n")
    journal = UndoJournal(tmp_path / "data" / "undo.json")
    out = Reported()
    applier = EditApplier(Gate(out, None, assume_yes=True), journal, ws)
    assert applier.apply(FileChange(ws / "a.txt", "a.txt", "one\n", "two\n"))
    assert applier.apply(FileChange(ws / "a.txt", "a.txt", "two\n", "three\n"))
    assert applier.apply(FileChange(ws / "b.txt", "b.txt", None, "new\n"))
    assert (ws / "a.txt").read_text() == "three\n"
    # A second process reads the same journal file.
    report = UndoJournal(tmp_path / "data" / "undo.json").undo(ws)
    assert report.restored == ["a.txt"] and report.deleted == ["b.txt"] and report.skipped == []
    assert (ws / "a.txt").read_text() == "one\n"
    assert not (ws / "b.txt").exists()
    with pytest.raises(NothingToUndo):
        journal.undo(ws)


def test_undo_skips_files_changed_since(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("one\n")
    journal = UndoJournal(tmp_path / "undo.json")
    out = Reported()
    applier = EditApplier(Gate(out, None, assume_yes=True), journal, ws)
    applier.apply(FileChange(ws / "a.txt", "a.txt", "one\n", "two\n"))
    (ws / "a.txt").write_text("edited by hand\n")
    report = journal.undo(ws)
    assert report.skipped == ["a.txt"] and report.restored == []
    assert (ws / "a.txt").read_text() == "edited by hand\n"


def test_undo_steps_back_one_run_at_a_time_per_workspace(tmp_path):
    ws = tmp_path / "ws"
    other = tmp_path / "other"
    ws.mkdir(), other.mkdir()
    journal = UndoJournal(tmp_path / "undo.json")
    out = Reported()
    (ws / "a.txt").write_text("v1\n")
    EditApplier(Gate(out, None, True), journal, ws).apply(FileChange(ws / "a.txt", "a.txt", "v1\n", "v2\n"))
    EditApplier(Gate(out, None, True), journal, ws).apply(FileChange(ws / "a.txt", "a.txt", "v2\n", "v3\n"))
    EditApplier(Gate(out, None, True), journal, other).apply(FileChange(other / "o", "o", None, "x\n"))
    journal.undo(ws)
    assert (ws / "a.txt").read_text() == "v2\n"
    journal.undo(ws)
    assert (ws / "a.txt").read_text() == "v1\n"
    assert (other / "o").exists()


def test_declined_change_writes_nothing(tmp_path):
    out = Reported()
    journal = UndoJournal(tmp_path / "undo.json")
    applier = EditApplier(Gate(out, lambda q: "n"), journal, tmp_path)
    (tmp_path / "a").write_text("x\n")
    assert not applier.apply(FileChange(tmp_path / "a", "a", "x\n", "y\n"))
    assert (tmp_path / "a").read_text() == "x\n"
    assert not journal.path.exists()


def test_a_corrupt_journal_means_nothing_to_undo(tmp_path):
    path = tmp_path / "undo.json"
    path.write_text("{not json")
    with pytest.raises(NothingToUndo):
        UndoJournal(path).undo(tmp_path)

"""/code under concurrency: applies that touch one file at the same moment (web and web, web and
terminal, two terminals; threads and processes) give exactly one write and one "changed since
proposed"; the undo journal loses no run's record; new files get the umask's mode.

The paths are the engine's own: `apply_proposal` is what `POST /code/{id}/apply` runs,
`EditApplier.apply` what the terminal's /code runs (with the --yes gate), on real files and a real
data dir. Every conflicting pair is planned on the same first content, so exactly one of them
can be right whatever the timing; no assertion here depends on a clock."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from test_code_loop import Scene
from web_support import api, web  # noqa: F401

from agent.code.edits import EditApplier, FileChange, Gate, UndoJournal, current_umask, _digest
from agent.code.locks import held
from agent.code.loop import run_code
from agent.code.tools import ToolContext
from agent.code.workspace import Workspace
from agent.code.proposal import Proposals, apply_proposal
from agent.errors import ChangedSinceProposed, EditFailed, WorkspaceBusy

HERE = Path(__file__).parent
FIRST = "first content\n"


@pytest.fixture
def spaces(tmp_path):
    """(the user's data dir, a workspace): real folders, as ai-cli uses them."""
    data_dir, root = tmp_path / "data", tmp_path / "workspace"
    data_dir.mkdir(mode=0o700)
    root.mkdir()
    return data_dir, root.resolve()


def terminal_apply(journal: UndoJournal, root: Path, change: FileChange) -> bool:
    applier = EditApplier(Gate(lambda event: None, None, assume_yes=True), journal, root)
    return applier.apply(change)


def web_apply(journal: UndoJournal, root: Path, change: FileChange) -> bool:
    proposal = Proposals().add(root, [change], {})
    return bool(apply_proposal(proposal, journal).applied)


def race(*applies) -> list:
    """Run the applies in threads released together; each result is True or the error raised."""
    barrier = threading.Barrier(len(applies))
    results: list = [None] * len(applies)

    def run(i, apply):
        barrier.wait()
        try:
            results[i] = apply()
        except EditFailed as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(applies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def journal_files(data_dir: Path) -> list[str]:
    """Every file path the journal records, one per run's change (a list: duplicates show)."""
    entries = json.loads((data_dir / "undo.json").read_text())
    return [name for entry in entries for name in entry["files"]]


PAIRS = {
    "web and web": (web_apply, web_apply),
    "web and terminal": (web_apply, terminal_apply),
    "two terminals": (terminal_apply, terminal_apply),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_two_applies_of_one_file_at_once_give_one_write_and_one_changed_since(spaces, pair):
    data_dir, root = spaces
    journal = UndoJournal.in_dir(data_dir)
    first, second = PAIRS[pair]
    for n in range(20):  # twenty files, each fought over by two applies at the same moment
        path = root / f"f{n}.txt"
        path.write_text(FIRST)
        results = race(
            lambda: first(journal, root, FileChange(path, path.name, FIRST, "one\n")),
            lambda: second(journal, root, FileChange(path, path.name, FIRST, "two\n")),
        )
        wins = [r for r in results if r is True]
        refusals = [r for r in results if isinstance(r, ChangedSinceProposed)]
        assert len(wins) == 1 and len(refusals) == 1, (n, results)
        (refusal,) = refusals
        assert "changed since" in refusal.message and "\n" not in refusal.message
        assert refusal.http_status == 409
        winner = "one\n" if results[0] is True else "two\n"
        assert path.read_text() == winner  # the refused change wrote nothing
    assert sorted(journal_files(data_dir)) == sorted(str(root / f"f{n}.txt") for n in range(20))


def test_eight_threads_of_runs_in_eight_workspaces_lose_no_undo_record(spaces):
    """One journal serves every workspace: runs in different workspaces share no workspace
    lock, so only the journal's own lock keeps their read-modify-writes apart."""
    data_dir, base = spaces
    journal = UndoJournal.in_dir(data_dir)
    roots = [base / f"ws{w}" for w in range(8)]
    for root in roots:
        root.mkdir()

    def runs(root):
        def go():
            for r in range(5):  # 8 x 5 = 40 runs: exactly what the journal keeps
                path = root / f"{r}.txt"
                terminal_apply(journal, root, FileChange(path, path.name, None, f"{r}\n"))
            return True
        return go

    assert race(*[runs(root) for root in roots]) == [True] * 8
    assert sorted(journal_files(data_dir)) == sorted(
        str(root / f"{r}.txt") for root in roots for r in range(5))
    # and /undo takes each run back, newest first, in its own workspace
    for root in roots:
        deleted = [name for _ in range(5) for name in journal.undo(root).deleted]
        assert deleted == ["4.txt", "3.txt", "2.txt", "1.txt", "0.txt"]
        assert list(root.iterdir()) == []


def test_a_file_changed_between_the_diff_and_the_yes_is_not_overwritten(spaces):
    """The terminal: the diff was shown, someone saved the file, then the user said yes."""
    data_dir, root = spaces
    path = root / "a.py"
    path.write_text("x = 1\n")
    change = FileChange(path, "a.py", "x = 1\n", "x = 2\n")

    def ask(question):
        path.write_text("x = 'edited by hand'\n")
        return "y"

    applier = EditApplier(Gate(lambda event: None, ask), UndoJournal.in_dir(data_dir), root)
    with pytest.raises(ChangedSinceProposed, match="a.py changed since"):
        applier.apply(change)
    assert path.read_text() == "x = 'edited by hand'\n" and applier.applied == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_of_the_users_umask(spaces, umask, mode):
    data_dir, root = spaces
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        for apply in (terminal_apply, web_apply):
            path = root / f"new_{apply.__name__}.py"
            assert apply(UndoJournal.in_dir(data_dir), root, FileChange(path, path.name, None, "x\n"))
            assert stat.S_IMODE(path.stat().st_mode) == mode
        assert stat.S_IMODE((data_dir / "undo.json").stat().st_mode) == 0o600  # the journal: private
        assert stat.S_IMODE((data_dir / "undo.json.lock").stat().st_mode) == 0o600
        locks = data_dir / "locks"
        assert stat.S_IMODE(locks.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in locks.iterdir())
    finally:
        os.umask(old)


def test_an_existing_file_keeps_its_mode(spaces):
    data_dir, root = spaces
    path = root / "run.sh"
    path.write_text("echo 1\n")
    path.chmod(0o750)
    assert terminal_apply(UndoJournal.in_dir(data_dir), root,
                          FileChange(path, "run.sh", "echo 1\n", "echo 2\n"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_the_locks_live_in_the_data_dir_not_in_the_workspace(spaces):
    data_dir, root = spaces
    path = root / "a.txt"
    assert terminal_apply(UndoJournal.in_dir(data_dir), root, FileChange(path, "a.txt", None, "a"))
    assert sorted(p.name for p in root.iterdir()) == ["a.txt"]


def test_a_lock_held_too_long_is_one_clear_line(tmp_path):
    lock = tmp_path / "locks" / "x.lock"
    with held(lock, "to the workspace"):
        with pytest.raises(WorkspaceBusy) as caught:
            with held(lock, "to the workspace", wait=0.1):
                pass
    assert "Another ai-cli has been writing to the workspace" in caught.value.message
    assert caught.value.http_status == 409 and "\n" not in caught.value.message
    with held(lock, "to the workspace", wait=0.1):  # released with its block
        pass


# --- processes -------------------------------------------------------------------------------


@pytest.mark.process
def test_eight_processes_applying_at_once_one_write_per_conflict_and_every_record(spaces,
                                                                                  tmp_path):
    data_dir, root = spaces
    workers, rounds = 8, 4  # 4 contested files + 32 own files = 36 runs (the journal keeps 40)
    owns = [root.parent / f"own_{w}" for w in range(workers)]  # one workspace of its own each
    for r in range(rounds):
        (root / f"shared_{r}.txt").write_text(FIRST)
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    procs = [subprocess.Popen([sys.executable, str(HERE / "code_apply_worker.py"), str(data_dir),
                               str(root), str(w), str(rounds), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for w in range(workers)]
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines()]
    assert len(results) == workers * rounds * 2
    for r in range(rounds):
        contest = [x for x in results if x["file"] == f"shared_{r}.txt"]
        assert sum(x["ok"] for x in contest) == 1, contest
        assert {x["error"] for x in contest if not x["ok"]} == {"ChangedSinceProposed"}
        assert (root / f"shared_{r}.txt").read_text().startswith("worker ")
    assert all(x["ok"] for x in results if x["file"].startswith("own_"))
    written = sorted(str(root / x["file"]) if x["file"].startswith("shared_")
                     else str(owns[int(x["file"].split("_")[1])] / x["file"])
                     for x in results if x["ok"])
    assert len(written) == rounds + workers * rounds
    assert sorted(journal_files(data_dir)) == written  # every run's record, each once
    entries = json.loads((data_dir / "undo.json").read_text())
    for entry in entries:
        for name, state in entry["files"].items():
            assert state["after_sha"] == _digest(Path(name).read_text())


@pytest.mark.process
def test_two_web_applies_of_one_file_at_once_are_200_and_409(api, web, ollama_server):
    """Through a real `ai-cli serve`: two proposals planned on the same text, applied at the
    same moment over HTTP."""
    workspace = web.app.workspace
    ollama_server.add_model("coder")
    added = api.post("/models/coder", json={"url": ollama_server.url, "model_name": "coder"})
    assert added.status_code == 201, added.text
    for n in range(5):
        name = f"a{n}.txt"
        (workspace / name).write_text(FIRST)
        ids = []
        for content in ("one\n", "two\n"):
            ollama_server.reply_tool_call("write_file", {"path": name, "content": content})
            ollama_server.reply("done")
            ids.append(api.post("/code", json={"instruction": content}).json()["id"])
        responses = race(*[lambda i=i: api.post(f"/code/{i}/apply", json={}) for i in ids])
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        (refused,) = [r for r in responses if r.status_code == 409]
        assert set(refused.json()) == {"error"} and "changed since" in refused.json()["error"]
        winner = "one\n" if responses[0].status_code == 200 else "two\n"
        assert (workspace / name).read_text() == winner


def test_the_terminal_says_changed_since_in_one_line_and_tells_the_model(tmp_path, registry,
                                                                          ollama_server, dead_url):
    """A whole terminal /code run (the real router and ChatOllama): the user is shown the diff,
    the file is saved by hand meanwhile, the user says yes."""
    ollama_server.add_model("coder-7b")
    registry.add_model("coder", ollama_server.url, "coder-7b", timeout=10)
    scene = Scene(tmp_path, registry, ollama_server, dead_url)
    calc = scene.root / "pkg" / "calc.py"
    ollama_server.reply_tool_call("edit_file", {"path": "pkg/calc.py", "old_text": "a - b",
                                                "new_text": "a + b"})
    ollama_server.reply("Fixed.")

    def ask(question):
        calc.write_text("edited by hand\n")
        return "y"

    ctx = ToolContext(Workspace.open(scene.root),
                      EditApplier(Gate(scene.face.report, ask), scene.journal, scene.root))
    try:
        outcome = run_code(scene.router, scene.face.report, "fix add", ctx,
                           supports_tools=scene.checker.supports_tools)
    finally:
        scene.face.close()
    assert calc.read_text() == "edited by hand\n"
    assert outcome.applied == [] and outcome.exit_code == 1
    (problem,) = outcome.problems
    assert "pkg/calc.py changed since this change to it was proposed" in problem
    shown = [line for line in scene.stderr.getvalue().splitlines() if "changed since" in line]
    assert len(shown) == 1 and "Traceback" not in scene.stderr.getvalue()
    assert "changed since" in scene.tool_results()[0]  # the model is told, and may read again

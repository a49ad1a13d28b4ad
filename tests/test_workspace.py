"""Workspace path safety: only paths inside the workspace; files outside never change."""

from __future__ import annotations

import os

import pytest

from agent.code.workspace import Workspace
from agent.errors import PathRefused


@pytest.fixture
def layout(tmp_path):
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    return Workspace.open(root), root, outside


def test_relative_path_resolves_inside(layout):
    ws, root, _ = layout
    assert ws.resolve("src/app.py") == root / "src" / "app.py"
    assert ws.resolve("./src/app.py") == root / "src" / "app.py"
    assert ws.resolve("new/file.txt") == root / "new" / "file.txt"


def test_absolute_path_inside_is_allowed(layout):
    ws, root, _ = layout
    assert ws.resolve(str(root / "src" / "app.py")) == root / "src" / "app.py"


@pytest.mark.parametrize("name", ["../outside/secret.txt", "src/../../outside/secret.txt",
                                  "src/..", "..", "src\\..\\..\\x"])
def test_dotdot_is_refused(layout, name):
    ws, _, _ = layout
    with pytest.raises(PathRefused, match=r"'\.\.' is not allowed"):
        ws.resolve(name)


def test_absolute_path_outside_is_refused(layout):
    ws, _, outside = layout
    with pytest.raises(PathRefused, match="outside the workspace"):
        ws.resolve(str(outside / "secret.txt"))
    with pytest.raises(PathRefused, match="outside the workspace"):
        ws.resolve("/etc/passwd")
    with pytest.raises(PathRefused):
        ws.resolve("~/x")


def test_symlinks_that_leave_are_refused(layout):
    ws, root, outside = layout
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    with pytest.raises(PathRefused, match="symlink"):
        ws.resolve("link.txt")
    with pytest.raises(PathRefused, match="symlink"):
        ws.resolve("linkdir/secret.txt")
    with pytest.raises(PathRefused, match="symlink"):
        ws.resolve("linkdir/new.txt")


def test_symlink_inside_is_allowed(layout):
    ws, root, _ = layout
    os.symlink(root / "src" / "app.py", root / "alias.py")
    assert ws.resolve("alias.py") == root / "src" / "app.py"


@pytest.mark.parametrize("name", ["", "   ", "a\x00b"])
def test_empty_or_nul_is_refused(layout, name):
    ws, _, _ = layout
    with pytest.raises(PathRefused):
        ws.resolve(name)


def test_walk_skips_tool_dirs_and_escaping_links(layout):
    ws, root, outside = layout
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    names = [ws.relative(p) for p in ws.walk_files(root)]
    assert names == ["src/app.py"]


def test_open_refuses_a_missing_folder(tmp_path):
    with pytest.raises(PathRefused, match="not a folder"):
        Workspace.open(tmp_path / "nope")

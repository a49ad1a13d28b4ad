"""Workspace path safety: only paths inside the workspace; files outside never change.

`PathRefused.reason` says which check refused, so a test fails when one check is deleted and
another refuses the same path by accident (the symlink check's message also says "outside").
"""

from __future__ import annotations

import os

import pytest

from agent.code.tools import ListFilesArgs, SearchTextArgs, ToolContext, list_files, search_text
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


def refusal(ws: Workspace, name) -> PathRefused:
    with pytest.raises(PathRefused) as caught:
        ws.resolve(name)
    return caught.value


# --- inside: allowed -----------------------------------------------------------------------


def test_relative_path_resolves_inside(layout):
    ws, root, _ = layout
    assert ws.resolve("src/app.py") == root / "src" / "app.py"
    assert ws.resolve("./src/app.py") == root / "src" / "app.py"
    assert ws.resolve("new/file.txt") == root / "new" / "file.txt"


def test_absolute_path_inside_is_allowed(layout):
    ws, root, _ = layout
    assert ws.resolve(str(root / "src" / "app.py")) == root / "src" / "app.py"


def test_symlink_inside_is_allowed(layout):
    ws, root, _ = layout
    os.symlink(root / "src" / "app.py", root / "alias.py")
    assert ws.resolve("alias.py") == root / "src" / "app.py"


# --- each check, named by its reason ---------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside/secret.txt", "src/../../outside/secret.txt",
                                  "src/..", "..", "src\\..\\..\\x"])
def test_dotdot_is_refused(layout, name):
    ws, _, _ = layout
    with pytest.raises(PathRefused, match=r"'\.\.' is not allowed"):
        ws.resolve(name)


@pytest.mark.parametrize("name", ["/etc/passwd", "/", "~/anything", "{outside}/secret.txt"])
def test_an_absolute_path_outside_is_refused_by_the_outside_check(layout, name):
    ws, root, outside = layout
    refused = refusal(ws, name.format(outside=outside))
    assert refused.reason == "outside"
    assert f"outside the workspace {root}" in str(refused)


def test_an_outside_link_into_the_workspace_is_refused_by_the_outside_check(layout):
    """Its real path is inside, so only the first check can refuse it."""
    ws, root, outside = layout
    link = outside / "alias.py"
    os.symlink(root / "src" / "app.py", link)
    refused = refusal(ws, str(link))
    assert refused.reason == "outside"


@pytest.mark.parametrize("name", ["link.txt", "linkdir/secret.txt", "linkdir/new.txt"])
def test_a_symlink_that_leaves_is_refused_by_the_symlink_check(layout, name):
    ws, root, outside = layout
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    refused = refusal(ws, name)
    assert refused.reason == "symlink"
    assert "symlink" in str(refused)


@pytest.mark.parametrize(
    "name, reason",
    [("", "empty"), ("  ", "empty"), ("   ", "empty"), (None, "empty"), ("a\x00b", "nul"),
     ("src/../x", "dotdot")],
)
def test_each_other_check_names_itself(layout, name, reason):
    ws, _, _ = layout
    assert refusal(ws, name).reason == reason


# --- what each refusal says --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "The path is empty. Give a path relative to the workspace."),
        ("a\x00b", "The path contains a NUL character."),
        ("src/../x", "Refused 'src/../x': '..' is not allowed. Use a path inside the workspace."),
        ("/etc/passwd", "Refused '/etc/passwd': it is outside the workspace {root}. "
                        "Use a path relative to the workspace."),
    ],
)
def test_each_refusal_is_one_line_saying_what_to_do(layout, name, message):
    ws, root, _ = layout
    assert str(refusal(ws, name)) == message.format(root=root)


def test_the_symlink_refusal_names_the_path(layout):
    ws, root, outside = layout
    os.symlink(outside, root / "linkdir")
    assert str(refusal(ws, "linkdir/x")) == (
        "Refused 'linkdir/x': it is a symlink that leads outside the workspace.")


# --- opening and walking the workspace ---------------------------------------------------------


def test_a_missing_workspace_is_refused_as_not_a_folder_and_named(tmp_path):
    with pytest.raises(PathRefused) as caught:
        Workspace.open(tmp_path / "nope")
    assert caught.value.reason == "not_a_folder"
    assert str(caught.value) == (
        f"The workspace {str(tmp_path / 'nope')!r} is not a folder. Pass an existing one.")


def test_the_workspace_defaults_to_the_current_folder(tmp_path):
    assert Workspace.open().root == tmp_path.resolve()  # the isolated_state fixture's cwd


def test_the_root_itself_is_shown_as_a_dot(layout):
    ws, root, _ = layout
    assert ws.relative(root) == "."
    assert ws.relative(root / "src" / "app.py") == "src/app.py"


def test_walk_skips_tool_dirs_and_escaping_links(layout):
    ws, root, outside = layout
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    names = [ws.relative(p) for p in ws.walk_files(root)]
    assert names == ["src/app.py"]


def test_walk_files_on_a_single_file_yields_that_file(layout):
    ws, root, _ = layout
    assert list(ws.walk_files(root / "src" / "app.py")) == [root / "src" / "app.py"]


def test_list_and_search_accept_a_file_path(layout):
    ws, _, _ = layout
    ctx = ToolContext(ws, applier=None, max_output=2000)
    assert list_files(ctx, ListFilesArgs(path="src/app.py")) == "src/app.py"
    assert search_text(ctx, SearchTextArgs(query="hi", path="src/app.py")) == (
        "src/app.py:1: print('hi')")

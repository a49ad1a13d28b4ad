"""Workspace checks a mutation run found untested: each check is named by the reason it gives.

`PathRefused.reason` says which check refused, so a test fails when one check is deleted and
another refuses the same path by accident (the symlink check's message also says "outside").
"""

from __future__ import annotations

import os

import pytest

from agent.code.tools import ListFilesArgs, SearchTextArgs, ToolContext, list_files, search_text
from agent.code.workspace import Workspace
from agent.errors import PathRefused
from test_workspace import layout  # noqa: F401  (the same workspace and outside folder)




def refusal(ws: Workspace, name) -> PathRefused:
    with pytest.raises(PathRefused) as caught:
        ws.resolve(name)
    return caught.value


@pytest.mark.parametrize("name", ["/etc/passwd", "/", "~/anything"])
def test_an_absolute_path_outside_is_refused_by_the_outside_check(layout, name):
    ws, root, _ = layout
    refused = refusal(ws, name)
    assert refused.reason == "outside"
    assert f"outside the workspace {root}" in str(refused)


def test_an_outside_link_into_the_workspace_is_refused_by_the_outside_check(layout):
    """Its real path is inside, so only the first check can refuse it."""
    ws, root, outside = layout
    link = outside / "alias.py"
    os.symlink(root / "src" / "app.py", link)
    refused = refusal(ws, str(link))
    assert refused.reason == "outside"


def test_a_symlink_that_leaves_is_refused_by_the_symlink_check(layout):
    ws, root, outside = layout
    os.symlink(outside / "secret.txt", root / "link.txt")
    refused = refusal(ws, "link.txt")
    assert refused.reason == "symlink"
    assert "symlink" in str(refused)


@pytest.mark.parametrize(
    "name, reason",
    [("", "empty"), ("  ", "empty"), (None, "empty"), ("a\x00b", "nul"), ("src/../x", "dotdot")],
)
def test_each_other_check_names_itself(layout, name, reason):
    ws, _, _ = layout
    assert refusal(ws, name).reason == reason


def test_a_missing_workspace_is_refused_as_not_a_folder(tmp_path):
    with pytest.raises(PathRefused) as caught:
        Workspace.open(tmp_path / "nope")
    assert caught.value.reason == "not_a_folder"


def test_walk_files_on_a_single_file_yields_that_file(layout):
    ws, root, _ = layout
    assert list(ws.walk_files(root / "src" / "app.py")) == [root / "src" / "app.py"]


def test_list_and_search_accept_a_file_path(layout):
    ws, _, _ = layout
    ctx = ToolContext(ws, applier=None, max_output=2000)
    assert list_files(ctx, ListFilesArgs(path="src/app.py")) == "src/app.py"
    assert search_text(ctx, SearchTextArgs(query="hi", path="src/app.py")) == (
        "src/app.py:1: print('hi')")


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


def test_a_missing_workspace_is_named(tmp_path):
    with pytest.raises(PathRefused) as caught:
        Workspace.open(tmp_path / "nope")
    assert str(caught.value) == (
        f"The workspace {str(tmp_path / 'nope')!r} is not a folder. Pass an existing one.")


def test_the_workspace_defaults_to_the_current_folder(tmp_path):
    assert Workspace.open().root == tmp_path.resolve()  # the isolated_state fixture's cwd


def test_the_root_itself_is_shown_as_a_dot(layout):
    ws, root, _ = layout
    assert ws.relative(root) == "."
    assert ws.relative(root / "src" / "app.py") == "src/app.py"

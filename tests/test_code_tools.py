"""The five /code tools run directly: results, caps, refusals, and malformed calls."""

from __future__ import annotations

import os

import pytest

from agent.code.edits import EditApplier, Gate, UndoJournal
from agent.code.tools import TOOLS, ToolContext, cap_output, langchain_tools, run_tool_call
from agent.code.workspace import Workspace


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "README.md").write_text("# Demo\nuses add()\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("do not touch\n")
    os.symlink(outside, root / "escape.txt")
    answers = []
    gate = Gate(lambda event: None, ask=lambda q: answers.pop(0) if answers else "n")
    ctx = ToolContext(Workspace.open(root), EditApplier(gate, UndoJournal(tmp_path / "undo.json"), root),
                      max_output=2000)
    return ctx, root, outside, answers


def call(ctx, name, **args):
    return run_tool_call(ctx, name, args)


def test_list_read_search(setup):
    ctx, root, _, _ = setup
    assert call(ctx, "list_files") == ("README.md\npkg/mod.py", True)
    assert call(ctx, "list_files", path="pkg") == ("pkg/mod.py", True)
    assert call(ctx, "read_file", path="pkg/mod.py")[0] == "def add(a, b):\n    return a - b\n"
    text, ok = call(ctx, "read_file", path="pkg/mod.py", start_line=2, end_line=2)
    assert ok and text == "[pkg/mod.py: lines 2-2 of 2]\n    return a - b\n"
    assert call(ctx, "search_text", query="ADD", ignore_case=True)[0] == (
        "README.md:2: uses add()\npkg/mod.py:1: def add(a, b):")
    assert call(ctx, "search_text", query="nothing here")[0] == "No match for 'nothing here'."


def test_edit_and_write_with_confirmation(setup):
    ctx, root, _, answers = setup
    answers += ["y", "y"]
    text, ok = call(ctx, "edit_file", path="pkg/mod.py", old_text="a - b", new_text="a + b")
    assert ok and text == "Done: pkg/mod.py changed (+1 -1)."
    assert (root / "pkg" / "mod.py").read_text().endswith("return a + b\n")
    text, ok = call(ctx, "write_file", path="pkg/new.py", content="X = 1\n")
    assert ok and text == "Done: pkg/new.py created (+1 -0)."


def test_declined_edit_tells_the_model(setup):
    ctx, root, _, answers = setup
    answers.append("n")
    text, ok = call(ctx, "edit_file", path="pkg/mod.py", old_text="a - b", new_text="a + b")
    assert ok and "declined" in text
    assert "a - b" in (root / "pkg" / "mod.py").read_text()


@pytest.mark.parametrize("name, args, message", [
    ("read_file", {"path": "../outside.txt"}, "'..' is not allowed"),
    ("read_file", {"path": "escape.txt"}, "symlink"),
    ("write_file", {"path": "escape.txt", "content": "pwned"}, "symlink"),
    ("edit_file", {"path": "/etc/hostname", "old_text": "a", "new_text": "b"}, "outside the workspace"),
    ("list_files", {"path": "/"}, "outside the workspace"),
])
def test_escapes_are_refused_and_nothing_outside_changes(setup, name, args, message):
    ctx, _, outside, answers = setup
    answers += ["y"] * 3
    text, ok = run_tool_call(ctx, name, args)
    assert not ok and text.startswith("Error: Refused") and message in text
    assert outside.read_text() == "do not touch\n"


@pytest.mark.parametrize("name, args, message", [
    ("delete_everything", {}, "there is no tool 'delete_everything'"),
    (None, {}, "there is no tool None"),
    ("read_file", {}, "bad arguments for read_file: path: Field required."),
    ("read_file", {"path": 42}, "path: Input should be a valid string"),
    ("read_file", {"path": "README.md", "start_line": "first"}, "start_line"),
    ("read_file", "README.md", "must be a JSON object"),
    ("edit_file", {"path": "pkg/mod.py", "old_text": "missing", "new_text": "x"}, "was not found"),
    ("edit_file", {"path": "nope.py", "old_text": "a", "new_text": "b"}, "does not exist"),
    ("read_file", {"path": "pkg"}, "not a regular file"),
])
def test_malformed_calls_are_error_texts(setup, name, args, message):
    ctx, _, _, _ = setup
    text, ok = run_tool_call(ctx, name, args)
    assert not ok and text.startswith("Error:") and message in text


def test_output_is_capped(setup):
    ctx, root, _, _ = setup
    (root / "big.txt").write_text("x" * 5000)
    text, ok = call(ctx, "read_file", path="big.txt")
    assert ok and text.startswith("x" * 2000) and "3000 more characters not shown" in text
    assert len(text) < 2300
    assert cap_output("short", 10) == "short"


def test_langchain_tools_carry_names_and_schemas(setup):
    ctx, root, _, answers = setup
    tools = langchain_tools(ctx)
    assert [t.name for t in tools] == list(TOOLS)
    from langchain_core.utils.function_calling import convert_to_openai_tool

    schema = convert_to_openai_tool(tools[1])["function"]
    assert schema["name"] == "read_file" and schema["parameters"]["required"] == ["path"]
    assert tools[1].invoke({"path": "README.md"}) == "# Demo\nuses add()\n"

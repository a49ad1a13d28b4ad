"""The SEARCH/REPLACE plain-text edit format: parsing and planning (pure)."""

from __future__ import annotations

import os

import pytest

from agent.code.plaintext import (
    EditBlock,
    apply_block,
    feedback,
    parse_blocks,
    plan_blocks,
    workspace_context,
)
from agent.code.workspace import Workspace
from agent.errors import EditFailed

ANSWER = """I'll fix the subtraction.

pkg/mod.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
```

And add a note to `README.md`:
```
<<<<<<< SEARCH
=======
More text.
>>>>>>> REPLACE
```
"""


def test_parse_blocks_with_fences_and_path_lines():
    result = parse_blocks(ANSWER)
    assert result.errors == []
    assert result.blocks == [
        EditBlock("pkg/mod.py", "    return a - b\n", "    return a + b\n"),
        EditBlock("README.md", "", "More text.\n"),
    ]


def test_parse_path_in_fence_info_and_reuse_of_last_path():
    text = "```src/a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n" \
           "```\n<<<<<<< SEARCH\nz\n=======\nw\n>>>>>>> REPLACE\n```\n"
    blocks = parse_blocks(text).blocks
    assert [(b.path, b.search, b.replace) for b in blocks] == [("src/a.py", "x\n", "y\n"),
                                                               ("src/a.py", "z\n", "w\n")]


@pytest.mark.parametrize("text, message", [
    ("a.py\n<<<<<<< SEARCH\nx\n", "no ======= line"),
    ("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n", "no >>>>>>> REPLACE"),
    ("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "no file path"),
])
def test_malformed_blocks_are_reported(text, message):
    result = parse_blocks(text)
    assert result.blocks == [] and message in result.errors[0]


def test_no_blocks_in_a_plain_answer():
    assert parse_blocks("Just an explanation, no edits.").blocks == []


def test_apply_block_rules():
    assert apply_block("a", "x\ny\n", EditBlock("a", "y\n", "z\n")) == "x\nz\n"
    assert apply_block("a", "x\ny", EditBlock("a", "y\n", "z\n")) == "x\nz"  # no final newline
    assert apply_block("a", None, EditBlock("a", "", "new\n")) == "new\n"
    assert apply_block("a", "old", EditBlock("a", "", "more\n")) == "old\nmore\n"
    with pytest.raises(EditFailed, match="does not match"):
        apply_block("a", "x\n", EditBlock("a", "q\n", "z\n"))
    with pytest.raises(EditFailed, match="matches 2 places"):
        apply_block("a", "x\nx\n", EditBlock("a", "x\n", "z\n"))
    with pytest.raises(EditFailed, match="does not exist"):
        apply_block("a", None, EditBlock("a", "x\n", "z\n"))


def test_plan_blocks_combines_per_file_and_refuses_escapes(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("one\ntwo\n")
    (tmp_path / "outside.txt").write_text("keep\n")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    ws = Workspace.open(root)
    plan = plan_blocks(ws, [
        EditBlock("a.py", "one\n", "1\n"),
        EditBlock("a.py", "two\n", "2\n"),
        EditBlock("../outside.txt", "keep\n", "pwned\n"),
        EditBlock("link.txt", "keep\n", "pwned\n"),
        EditBlock("a.py", "three\n", "3\n"),
    ])
    assert [(c.rel, c.before, c.after) for c in plan.changes] == [("a.py", "one\ntwo\n", "1\n2\n")]
    assert len(plan.errors) == 3
    assert "'..' is not allowed" in plan.errors[0] and "symlink" in plan.errors[1]
    assert "does not match" in plan.errors[2]
    assert (root / "a.py").read_text() == "one\ntwo\n"  # planning writes nothing


def test_workspace_context_lists_files_and_includes_named_ones(tmp_path):
    (tmp_path / "main.py").write_text("print(1)\n")
    (tmp_path / "other.py").write_text("secret = 2\n")
    context = workspace_context(Workspace.open(tmp_path), "fix main.py please", 1000)
    assert "Files in the workspace:\nmain.py\nother.py" in context
    assert "print(1)" in context and "secret" not in context


def test_feedback_names_failures_and_applied():
    text = feedback(["X failed"], ["a.py"])
    assert "applied: a.py" in text and "- X failed" in text

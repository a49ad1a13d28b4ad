"""The plain-text edit format for models without tool support: fenced SEARCH/REPLACE blocks.

    path/to/file.py
    ```python
    <<<<<<< SEARCH
    exact lines now in the file
    =======
    the lines to put there
    >>>>>>> REPLACE
    ```

An empty SEARCH part creates the file (or appends to it). Parsing and planning are pure; the
resulting `FileChange`s go through the same diff, confirmation and undo as the tool edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from agent.code.edits import FileChange, did_you_mean, read_text
from agent.code.workspace import Workspace
from agent.errors import EditFailed
from registry.errors import AiCliError

HEAD = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
DIVIDER = re.compile(r"^\s*={5,9}\s*$")
TAIL = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
MAX_RETRIES = 3  # rounds of failed blocks sent back to the model (aider's rule)
MAX_CONTEXT_FILES = 200

FORMAT_GUIDE = """\
You are a coding assistant editing files in the user's workspace. You cannot run tools. To change \
a file, answer with one or more SEARCH/REPLACE blocks, each in exactly this form:

path/relative/to/workspace.ext
```
<<<<<<< SEARCH
the exact lines currently in the file, copied character for character
=======
the new lines
>>>>>>> REPLACE
```

Rules: the path line comes right before the fence; SEARCH must match the file exactly and only \
once, so include enough lines; to create a new file, leave SEARCH empty; keep each block small; \
explain briefly what you change. Paths are relative to the workspace; never use '..' or absolute \
paths."""


@dataclass(frozen=True)
class EditBlock:
    path: str
    search: str
    replace: str


@dataclass
class ParseResult:
    blocks: list[EditBlock] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_blocks(text: str) -> ParseResult:
    """Every SEARCH/REPLACE block in a model's answer; malformed blocks become error texts."""
    result = ParseResult()
    lines = text.splitlines()
    last_path: str | None = None
    i = 0
    while i < len(lines):
        if not HEAD.match(lines[i]):
            i += 1
            continue
        path = _path_before(lines, i) or last_path
        search, i = _collect(lines, i + 1, DIVIDER)
        if i >= len(lines):
            result.errors.append(f"A SEARCH block for {path or 'a file'} has no ======= line.")
            break
        replace, i = _collect(lines, i + 1, TAIL)
        if i >= len(lines):
            result.errors.append(f"A block for {path or 'a file'} has no >>>>>>> REPLACE line.")
            break
        i += 1
        if path is None:
            result.errors.append("A SEARCH/REPLACE block has no file path on the line before it.")
            continue
        last_path = path
        result.blocks.append(EditBlock(path, search, replace))
    return result


def _collect(lines: list[str], start: int, end: re.Pattern) -> tuple[str, int]:
    i = start
    while i < len(lines) and not end.match(lines[i]) and not HEAD.match(lines[i]):
        i += 1
    if i < len(lines) and HEAD.match(lines[i]):
        return "", len(lines)  # a new block began: this one is unterminated
    return "".join(line + "\n" for line in lines[start:i]), i


def _path_before(lines: list[str], head: int) -> str | None:
    """The file name on the nearest non-blank line above a block, skipping one fence line."""
    j = head - 1
    skipped_fence = False
    while j >= 0:
        line = lines[j].strip()
        if not line:
            j -= 1
            continue
        if FENCE.match(line) and not skipped_fence:
            skipped_fence = True
            rest = line.lstrip("`~").strip()
            if rest and ("/" in rest or "." in rest):
                return _clean_path(rest)
            j -= 1
            continue
        if TAIL.match(line) or FENCE.match(line):
            return None
        return _clean_path(line)
    return None


def _clean_path(line: str) -> str | None:
    quoted = re.findall(r"`([^`\s]+)`", line)
    if quoted and " " in line.strip():
        line = quoted[-1]  # "Change `src/app.py`:" names src/app.py
    name = line.strip().strip("*`'\"").rstrip(":").strip()
    name = re.sub(r"^#+\s*", "", name)
    name = re.sub(r"^(file|path)\s*:\s*", "", name, flags=re.IGNORECASE)
    if not name or " " in name and not Path(name).suffix:
        return None
    return name


# --- planning ----------------------------------------------------------------------------------


@dataclass
class PlanResult:
    changes: list[FileChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def plan_blocks(workspace: Workspace, blocks: list[EditBlock]) -> PlanResult:
    """Apply the blocks in memory, in order; one `FileChange` per file, failures as error texts."""
    result = PlanResult()
    texts: dict[Path, tuple[str, str | None, str]] = {}  # path -> (rel, before, current)
    for block in blocks:
        try:
            path = workspace.resolve(block.path)
            rel = workspace.relative(path)
            if path not in texts:
                before = read_text(path, rel)
                texts[path] = (rel, before, before)
            rel, before, current = texts[path]
            texts[path] = (rel, before, apply_block(rel, current, block))
        except AiCliError as exc:
            result.errors.append(str(exc))
    for path, (rel, before, current) in texts.items():
        if current is not None and current != before:
            result.changes.append(FileChange(path, rel, before, current))
    return result


def apply_block(rel: str, current: str | None, block: EditBlock) -> str:
    if block.search == "":
        if current is None:
            return block.replace
        joiner = "" if current == "" or current.endswith("\n") else "\n"
        return current + joiner + block.replace
    if current is None:
        raise EditFailed(f"{rel} does not exist; to create it, leave the SEARCH part empty.")
    text, added_newline = (current, False) if current.endswith("\n") else (current + "\n", True)
    count = text.count(block.search)
    if count == 0:
        raise EditFailed(
            f"The SEARCH part for {rel} does not match the file exactly{did_you_mean(current, block.search)}"
        )
    if count > 1:
        raise EditFailed(
            f"The SEARCH part for {rel} matches {count} places; include more lines so it matches once."
        )
    result = text.replace(block.search, block.replace, 1)
    if added_newline and result.endswith("\n"):
        result = result[:-1]
    return result


# --- the prompt --------------------------------------------------------------------------------


def workspace_context(workspace: Workspace, instruction: str, max_chars: int) -> str:
    """The file list, and the text of the files the instruction names, for a model without tools."""
    files = [workspace.relative(p) for p in workspace.walk_files(workspace.root)]
    listing = "\n".join(files[:MAX_CONTEXT_FILES])
    if len(files) > MAX_CONTEXT_FILES:
        listing += f"\n[... {len(files) - MAX_CONTEXT_FILES} more files]"
    parts = [f"Files in the workspace:\n{listing or '(none)'}"]
    budget = max_chars
    for rel in files:
        if budget <= 0 or not _named_in(rel, instruction):
            continue
        try:
            text = read_text(workspace.resolve(rel), rel) or ""
        except AiCliError:
            continue
        text = text[:budget]
        budget -= len(text)
        parts.append(f"{rel}\n```\n{text}\n```")
    return "\n\n".join(parts)


def _named_in(rel: str, instruction: str) -> bool:
    name = Path(rel).name
    return rel in instruction or re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", instruction) is not None


def feedback(errors: list[str], applied: list[str]) -> str:
    """What goes back to the model after a round with failed blocks."""
    done = f"These edits were applied: {', '.join(applied)}. " if applied else ""
    problems = "\n".join(f"- {e}" for e in errors)
    return (
        f"{done}These SEARCH/REPLACE blocks failed:\n{problems}\n"
        "Send corrected blocks for the failed edits only."
    )

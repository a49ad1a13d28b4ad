"""The five file tools /code offers a model, and the one place a tool call is checked and run.

Each tool is a plain function over a `ToolContext`; `run_tool_call` validates the model's
arguments against the tool's schema and turns every failure (unknown tool, missing or wrong-typed
argument, a refused path, an edit that does not apply) into an error text the model reads. A tool
never raises into the loop, and no result is longer than `max_output` characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.code.edits import EditApplier, FileChange, plan_replace
from agent.code.workspace import Workspace
from agent.errors import EditFailed
from registry.errors import AiCliError

DEFAULT_MAX_OUTPUT = 20_000
MAX_LISTED = 1_000
MAX_MATCHES = 200
MAX_SEARCHED_FILE = 2_000_000  # bytes; bigger files are data, not code


@dataclass
class ToolContext:
    workspace: Workspace
    applier: EditApplier
    max_output: int = DEFAULT_MAX_OUTPUT


def cap_output(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was left out and how to get it."""
    if len(text) <= limit:
        return text
    rest = len(text) - limit
    return (
        text[:limit]
        + f"\n[... {rest} more characters not shown. Narrow the request: a sub-folder, a more "
        "specific search, or read_file with start_line/end_line.]"
    )


# --- argument schemas (the model sees these as JSON schema) -----------------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ListFilesArgs(_Args):
    path: str = Field(".", description="Folder relative to the workspace root; '.' for all.")


class ReadFileArgs(_Args):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int | None = Field(None, ge=1, description="First line to return (1-based).")
    end_line: int | None = Field(None, ge=1, description="Last line to return (inclusive).")


class SearchTextArgs(_Args):
    query: str = Field(description="Exact text to find (not a regular expression).")
    path: str = Field(".", description="Folder or file to search, relative to the workspace.")
    ignore_case: bool = Field(False, description="Match regardless of upper/lower case.")


class WriteFileArgs(_Args):
    path: str = Field(description="File path relative to the workspace root.")
    content: str = Field(description="The complete new content of the file.")


class EditFileArgs(_Args):
    path: str = Field(description="File path relative to the workspace root.")
    old_text: str = Field(description="Exact text currently in the file; must occur exactly once.")
    new_text: str = Field(description="Text to put in its place.")


# --- the tools ---------------------------------------------------------------------------------


def list_files(ctx: ToolContext, args: ListFilesArgs) -> str:
    start = ctx.workspace.resolve(args.path)
    if not start.exists():
        raise EditFailed(f"{args.path} does not exist.")
    names = []
    for path in ctx.workspace.walk_files(start):
        names.append(ctx.workspace.relative(path))
        if len(names) >= MAX_LISTED:
            names.append(f"[stopped after {MAX_LISTED} files; list a sub-folder]")
            break
    return "\n".join(names) if names else "(no files)"


def read_file(ctx: ToolContext, args: ReadFileArgs) -> str:
    path = ctx.workspace.resolve(args.path)
    rel = ctx.workspace.relative(path)
    text = ctx.applier.read(path, rel)
    if text is None:
        raise EditFailed(f"{rel} does not exist. Use list_files to see the files.")
    if args.start_line is None and args.end_line is None:
        return text if text else "(empty file)"
    lines = text.splitlines(keepends=True)
    first = args.start_line or 1
    last = min(args.end_line or len(lines), len(lines))
    if first > len(lines) or first > last:
        raise EditFailed(f"{rel} has {len(lines)} lines; lines {first}-{last} do not exist.")
    return f"[{rel}: lines {first}-{last} of {len(lines)}]\n" + "".join(lines[first - 1:last])


def search_text(ctx: ToolContext, args: SearchTextArgs) -> str:
    if not args.query:
        raise EditFailed("The search text is empty.")
    start = ctx.workspace.resolve(args.path)
    flags = re.IGNORECASE if args.ignore_case else 0
    pattern = re.compile(re.escape(args.query), flags)
    matches: list[str] = []
    for path in ctx.workspace.walk_files(start):
        for number, line in _text_lines(path):
            if pattern.search(line):
                matches.append(f"{ctx.workspace.relative(path)}:{number}: {line.rstrip()}")
                if len(matches) >= MAX_MATCHES:
                    matches.append(f"[stopped after {MAX_MATCHES} matches; search a sub-folder]")
                    return "\n".join(matches)
    return "\n".join(matches) if matches else f"No match for {args.query!r}."


def write_file(ctx: ToolContext, args: WriteFileArgs) -> str:
    path = ctx.workspace.resolve(args.path)
    rel = ctx.workspace.relative(path)
    return _apply(ctx, FileChange(path, rel, ctx.applier.read(path, rel), args.content))


def edit_file(ctx: ToolContext, args: EditFileArgs) -> str:
    path = ctx.workspace.resolve(args.path)
    rel = ctx.workspace.relative(path)
    before = ctx.applier.read(path, rel)
    if before is None:
        raise EditFailed(f"{rel} does not exist. Use write_file to create it.")
    return _apply(ctx, plan_replace(path, rel, before, args.old_text, args.new_text))


def _apply(ctx: ToolContext, change: FileChange) -> str:
    if change.before == change.after:
        return f"{change.rel} already has that content; nothing changed."
    if ctx.applier.apply(change):
        return f"Done: {change.summary()}."
    return f"The user declined the change to {change.rel}; the file is unchanged. Do not retry it."


def _text_lines(path: Path):
    try:
        if path.stat().st_size > MAX_SEARCHED_FILE:
            return
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line
    except (UnicodeDecodeError, OSError):
        return


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: type[_Args]
    run: Callable[[ToolContext, Any], str]


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec("list_files", "List the files in the workspace or one of its folders.",
                 ListFilesArgs, list_files),
        ToolSpec("read_file", "Read a text file of the workspace, whole or a range of lines.",
                 ReadFileArgs, read_file),
        ToolSpec("search_text", "Find lines containing a text in the workspace's files.",
                 SearchTextArgs, search_text),
        ToolSpec("write_file", "Create a file, or replace a file's whole content. The user is "
                 "shown a diff and may decline.", WriteFileArgs, write_file),
        ToolSpec("edit_file", "Replace one exact occurrence of old_text with new_text in a file. "
                 "The user is shown a diff and may decline.", EditFileArgs, edit_file),
    )
}


def run_tool_call(ctx: ToolContext, name: Any, args: Any) -> tuple[str, bool]:
    """(result text for the model, ok?) for one call; a bad call is an error text, never a raise."""
    spec = TOOLS.get(name) if isinstance(name, str) else None
    if spec is None:
        known = ", ".join(TOOLS)
        return f"Error: there is no tool {name!r}. The tools are: {known}.", False
    if not isinstance(args, dict):
        return f"Error: the arguments of {spec.name} must be a JSON object.", False
    try:
        parsed = spec.schema.model_validate(_restore_json_text(spec.schema, args))
    except ValidationError as exc:
        return f"Error: bad arguments for {spec.name}: {describe_validation(exc)}", False
    try:
        result = spec.run(ctx, parsed)
    except AiCliError as exc:
        return cap_output(f"Error: {exc}", ctx.max_output), False
    except OSError as exc:
        return f"Error: {spec.name} failed: {exc.strerror or exc}.", False
    return cap_output(result, ctx.max_output), True


def _restore_json_text(schema: type[_Args], args: dict) -> dict:
    """langchain-ollama parses a string argument that holds JSON into a dict or list (a band-aid
    for an Ollama quirk); a text field (a JSON file's content) gets its text back."""
    fixed = dict(args)
    for name, info in schema.model_fields.items():
        if info.annotation is str and isinstance(fixed.get(name), (dict, list)):
            fixed[name] = json.dumps(fixed[name], indent=2, ensure_ascii=False)
    return fixed


def describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) + "."


def langchain_tools(ctx: ToolContext) -> list:
    """The tools as LangChain `StructuredTool`s for `bind_tools` (langchain imported only here)."""
    from langchain_core.tools import StructuredTool

    def runner(name: str):
        return lambda **kwargs: run_tool_call(ctx, name, kwargs)[0]

    return [
        StructuredTool.from_function(
            func=runner(spec.name), name=spec.name, description=spec.description,
            args_schema=spec.schema,
        )
        for spec in TOOLS.values()
    ]

"""How /code's results show in a terminal: coloured diffs, what changed, and /undo's report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output

if TYPE_CHECKING:
    from rich.text import Text

    from agent.code.loop import CodeOutcome
    from agent.commands.code import Undone


def render_diff(diff: str) -> Text:
    """The diff coloured line by line; built from Text parts, so no markup in it is interpreted."""
    from rich.text import Text

    from cli.inert import shown_name

    text = Text()
    for line in diff.splitlines(keepends=True):
        if not line.endswith("\n"):
            line += "\n"
        if line.startswith(("+++", "---")):
            line = shown_name(line[:-1]) + "\n"  # the file's name: invisible characters shown
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        text.append(line, style=style)
    return text


def show_code_outcome(result: CodeOutcome, out: Output) -> None:
    from cli.inert import shown_name

    for name in result.applied:
        out.info(shown_name(name))
    for name in result.declined:
        out.notice(f"Not changed (declined): {shown_name(name)}")
    if result.stopped == "step_limit":
        out.warn(f"Stopped after {result.steps} tool calls (code.max_steps in config.yaml).")
    elif result.stopped == "interrupted":
        out.warn("Stopped (Ctrl-C).")
    elif result.stopped == "edits_failed":
        out.warn("Some edits could not be applied: " + " | ".join(result.problems))
    if result.applied:
        out.notice("Undo these changes with '/undo'.")  # 'ai-cli undo' in the shell
    elif result.exit_code:
        out.warn("No file was changed: every proposed edit was refused, declined or failed.")
    elif result.stopped is None:
        out.notice("No file was changed.")


def show_undone(result: Undone, out: Output) -> None:
    for name in result.restored:
        out.line(f"Restored {name}", style="green")
    for name in result.deleted:
        out.line(f"Deleted {name} (/code created it)", style="green")
    for name in result.skipped:
        out.warn(f"Left {name} alone: it changed after /code wrote it.")
    if not result.restored and not result.skipped and not result.deleted:
        out.line("Nothing was restored.")

"""`/code <instruction>` and `/undo`: the coder model edits files in the workspace, with consent."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.commands.base import Arg, Args, Command
from agent.output import Output
from registry.errors import AiCliError

if TYPE_CHECKING:  # rich loads when something is shown, not with the command table
    from rich.text import Text


def code(app, args: Args):
    from agent.code.edits import EditApplier, Gate, UndoJournal
    from agent.code.loop import CodeSettings, run_code
    from agent.code.tools import ToolContext
    from agent.code.workspace import Workspace

    settings = CodeSettings.from_config(app.config)
    workspace = Workspace.open(app.workspace)
    quiet = app.flags.json
    gate = Gate(app.output.err if quiet else app.output.out, _asker(app), assume_yes=app.flags.yes)
    applier = EditApplier(gate, UndoJournal.in_dir(app.config.data_dir), workspace.root)
    context = ToolContext(workspace, applier, settings.max_tool_output)
    outcome = run_code(
        app.router, app.output, args.instruction, context,
        supports_tools=app.router.checker.supports_tools,
        settings=settings, pinned_model_id=_pinned_coder(app), quiet=quiet,
    )
    if quiet and not app.flags.yes and _asker(app) is None:
        from agent.code.loop import as_dry_run

        return as_dry_run(outcome, applier)  # --json with nobody to ask: the diffs, not applied
    return outcome


def undo(app, args: Args) -> "Undone":
    from agent.code.edits import UndoJournal
    from agent.code.workspace import Workspace

    workspace = Workspace.open(app.workspace)
    report = UndoJournal.in_dir(app.config.data_dir).undo(workspace.root)
    return Undone(report.restored, report.skipped, report.deleted)


@dataclass(frozen=True)
class Undone:
    restored: list[str]
    skipped: list[str]
    deleted: list[str] = ()  # files /code created, removed again

    def to_json(self) -> dict:
        return {"restored": self.restored, "skipped": self.skipped, "deleted": list(self.deleted)}

    def render(self, out: Output) -> None:
        for name in self.restored:
            out.line(f"Restored {name}", style="green")
        for name in self.deleted:
            out.line(f"Deleted {name} (/code created it)", style="green")
        for name in self.skipped:
            out.warn(f"Left {name} alone: it changed after /code wrote it.")
        if not self.restored and not self.skipped and not self.deleted:
            out.line("Nothing was restored.")


def _asker(app):
    """How the yes/no/all question is asked: on the terminal, or not at all (None: decline)."""
    if not (getattr(app, "interactive", False) or sys.stdin.isatty()):
        return None

    def ask(question: str) -> str:
        from rich.text import Text

        try:
            return app.output.err.input(Text(question))  # a Text: no markup in file names
        except EOFError:
            return "n"

    return ask


def _pinned_coder(app) -> str | None:
    if app.session_id is None:
        return None
    try:
        from agent.commands.session import session_store

        return session_store(app).get(app.session_id).pinned.get("coder")
    except AiCliError:
        return None  # sessions unreachable: the active coder model serves


COMMANDS = [
    Command(
        ("code",), "Let the coder model read and edit files in the workspace", code,
        args=(Arg("instruction", help="what to change", rest=True),),
        needs="code",
        details="Every change is shown as a diff and needs yes / no / all (--yes skips the "
                "question). Files outside the workspace (--workspace, default: the current "
                "folder) are never touched. /undo restores the files the last /code changed.",
    ),
    Command(("undo",), "Restore the files the last /code changed", undo),
]

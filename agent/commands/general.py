"""/help and /quit: commands about the program itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import REPL, Args, Command, LeaveRepl
from agent.output import WARN, Output


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    help: str
    heading: str
    off_reason: str | None


@dataclass(frozen=True)
class Help:
    entries: list[HelpEntry]

    def to_json(self) -> Any:
        return [{"usage": e.usage, "help": e.help, "off": e.off_reason} for e in self.entries]

    def render(self, out: Output) -> None:
        heading = None
        for e in self.entries:
            if e.heading != heading and heading is not None:
                out.line()
            heading = e.heading
            out.line(e.usage, style="dim" if e.off_reason else "bold")
            out.line(f"    {e.help}")
            if e.off_reason:
                out.line(f"    {WARN} off now: {e.off_reason.removeprefix('⚠').strip()}",
                         style="yellow")
        out.line()
        out.line("Anything not starting with '/' is sent to the general model as chat.")


def help_entries(app, face: str, prefix: str) -> list[HelpEntry]:
    """The table as /help shows it, each command marked with why it is off right now."""
    reasons: dict[str, str | None] = {}
    entries = []
    for command in app.table.for_face(face):
        if command.needs is not None and command.needs not in reasons:
            reasons[command.needs] = command.off_reason(app)
        off = reasons.get(command.needs) if command.needs else None
        entries.append(HelpEntry(command.usage(prefix), command.help, command.heading, off))
    return entries


def show_help(app, args: Args) -> Help:
    face, prefix = (REPL, "/") if app.interactive or app.in_repl else ("subcommand", "ai-cli ")
    return Help(help_entries(app, face, prefix))


def leave(app, args: Args) -> None:
    raise LeaveRepl


COMMANDS = [
    Command(("help",), "Show the commands, marking those that are off right now and why",
            show_help, group="program"),
    Command(("quit",), "Leave ai-cli (also /exit and Ctrl-D)", leave, faces=frozenset({REPL}),
            aliases=(("exit",),), group="program"),
]

"""/help and /quit: commands about the program itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import REPL, SUBCOMMAND, Args, LeaveRepl


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
    face, prefix = (REPL, "/") if app.face.interactive or app.in_repl else (SUBCOMMAND, "ai-cli ")
    return Help(help_entries(app, face, prefix))


def leave(app, args: Args) -> None:
    raise LeaveRepl

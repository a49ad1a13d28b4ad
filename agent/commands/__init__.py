"""The engine's commands: the catalog of every command (catalog.py), the parser that finds one in a
REPL line or argv (table.py), and their handlers, which take the `App` and return data."""

from __future__ import annotations

from agent.commands.base import Command
from agent.commands.table import CommandTable


def command_table(face_commands: list[Command] | tuple = ()) -> CommandTable:
    """The catalog's commands, with a face's own placed at the end of their group (the
    terminal adds the wizard and `serve`)."""
    from agent.commands.catalog import COMMANDS

    commands = list(COMMANDS)
    for command in face_commands:
        same = [i for i, c in enumerate(commands) if c.heading == command.heading]
        commands.insert(same[-1] + 1 if same else len(commands), command)
    return CommandTable(commands)

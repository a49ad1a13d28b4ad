"""The one command table, collected from the command modules listed in `MODULES`.

Each module declares `COMMANDS: list[Command]`; a new command module is added to `MODULES`.
"""

from __future__ import annotations

import importlib

from agent.commands.base import Command
from agent.commands.table import CommandTable

# Order is the order of /help and docs/COMMANDS.md.
MODULES = (
    "agent.commands.chat",
    "agent.commands.model",
    "agent.commands.repair",
    "agent.commands.session",
    "agent.commands.usage",  # log, model stats
    "agent.commands.code",
    "agent.commands.migrate",
    "cli.serve",
    "agent.commands.general",  # help, quit, setup
)


# A subcommand with one of these first words loads only the modules that declare such commands:
# `ai-cli model list` does not import the session, code, chat or web commands (issue 15).
# Every other start (the REPL, help, serve, an unknown word) loads the whole table.
# tests/test_commands_table.py checks this map against the modules.
MODULES_BY_FIRST_WORD = {
    "model": ("agent.commands.model", "agent.commands.repair", "agent.commands.usage"),
    "session": ("agent.commands.session",),
    "chat": ("agent.commands.chat",),
    "log": ("agent.commands.usage",),
    "code": ("agent.commands.code",),
    "undo": ("agent.commands.code",),
    "migrate": ("agent.commands.migrate",),
}


def collect(modules: tuple[str, ...] = MODULES) -> list[Command]:
    commands: list[Command] = []
    for name in modules:
        commands.extend(importlib.import_module(name).COMMANDS)
    return commands


def command_table(modules: tuple[str, ...] = MODULES) -> CommandTable:
    return CommandTable(collect(modules))


def command_table_for(words: list[str]) -> CommandTable:
    """The table a subcommand's words need: its group's modules, or the whole table."""
    modules = MODULES_BY_FIRST_WORD.get(words[0]) if words else None
    return command_table(modules) if modules else command_table()

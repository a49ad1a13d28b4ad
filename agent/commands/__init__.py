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
    "agent.commands.serve",
    "agent.commands.general",  # help, quit, setup
)


def collect(modules: tuple[str, ...] = MODULES) -> list[Command]:
    commands: list[Command] = []
    for name in modules:
        commands.extend(importlib.import_module(name).COMMANDS)
    return commands


def command_table(modules: tuple[str, ...] = MODULES) -> CommandTable:
    return CommandTable(collect(modules))

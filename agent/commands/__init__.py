"""The one command table, collected from the command modules listed in `MODULES`.

Each module declares `COMMANDS: list[Command]`. A module that does not exist yet (it is being
written by someone else) is skipped; any other import failure is a bug and is raised.
"""

from __future__ import annotations

import importlib

from agent.commands.base import Command
from agent.commands.table import CommandTable

# Order is the order of /help and docs/COMMANDS.md.
MODULES = (
    "agent.commands.chat",
    "agent.commands.model",
    "agent.commands.session",
    "agent.commands.code",
    "agent.commands.migrate",
    "agent.commands.serve",
    "agent.commands.general",  # help, quit, setup
)


def collect(modules: tuple[str, ...] = MODULES) -> list[Command]:
    commands: list[Command] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a missing dependency inside an existing module: a real error
                raise
            continue
        commands.extend(module.COMMANDS)
    return commands


def command_table(modules: tuple[str, ...] = MODULES) -> CommandTable:
    return CommandTable(collect(modules))

"""The terminal's command table: the engine's catalog, plus the two commands only the terminal
runs — the wizard (it asks with questionary) and `serve` (it starts the web face, ui/)."""

from __future__ import annotations

from agent.commands import command_table
from agent.commands.base import SUBCOMMAND, Command, Option
from agent.commands.table import CommandTable

WIZARD = Command(
    ("model", "wizard"), "Guided setup: add, switch or remove a model", "cli.wizard:run_wizard",
    aliases=(("setup",),), group="model",
    details="Also `ai-cli setup`. Needs a terminal; Ctrl-C at any step changes nothing.",
)
SERVE = Command(
    ("serve",), "Serve the HTTP API and the web page (http://127.0.0.1:8765/)", "cli.serve:serve",
    options=(
        Option("--host", "address to listen on (default 127.0.0.1; the token is needed on "
               "every address)", "HOST"),
        Option("--port", "port to listen on (default 8765; 0 picks a free one)", "PORT"),
        Option("--no-auth", "no token (a single-user machine only; loopback only): other "
               "accounts on this machine could use the server"),
    ),
    faces=frozenset({SUBCOMMAND}),
    group="program",
    details="Every request needs the server's token (the file web-token in the data dir, or "
            "AI_CLI_API_TOKEN); the printed address carries it. Routes, JSON shapes and the "
            "security rules: docs/WEB.md. `--workspace DIR` confines the page's /code to DIR, "
            "as in the terminal.",
)
FACE_COMMANDS = [WIZARD, SERVE]


def terminal_table() -> CommandTable:
    return command_table(FACE_COMMANDS)

"""The terminal's command table: the engine's catalog, plus the commands only the terminal runs —
the wizard (it asks with questionary), `serve` (it starts the web face, ui/), `/raw` (how answers
show here), `/edit` (a message written in $EDITOR) and `completion` (scripts for the shells)."""

from __future__ import annotations

from agent.commands import command_table
from agent.commands.base import REPL, SUBCOMMAND, Command, Option, Slot
from agent.commands.table import CommandTable

WIZARD = Command(
    ("model", "wizard"), "Guided setup: add, switch or remove a model, or create a preset",
    "cli.wizard:run_wizard",
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
RAW = Command(
    ("raw", Slot("state", ("on", "off"))),
    "Show answers as the model's markdown, as it arrives (on), or rendered (off)",
    "cli.repl_commands:set_raw", faces=frozenset({REPL}), group="chat",
    details="The same as starting with `ai-cli -r`. Piped output is always the raw text.",
)
EDIT = Command(
    ("edit",), "Write a message in your editor ($VISUAL or $EDITOR), then send it",
    "cli.repl_commands:edit", faces=frozenset({REPL}), group="chat",
    details="As llm's `!edit` and aider's `/editor`. An empty file sends nothing. For a few "
            "lines without an editor: start the message with triple quotes (\"\"\"), end it "
            "with them; Alt-Enter (Esc Enter) also adds a line.",
)
THINKING = Command(
    ("thinking", Slot("state", ("show", "hide"))),
    "Show a thinking model's reasoning dimmed above its answers (show), or not (hide)",
    "cli.repl_commands:set_thinking", faces=frozenset({REPL}), group="chat",
    details="Hidden thinking is still stored with the answer (session show lists it) and "
            "counted in the answer log (thinking_tokens).",
)


def _check_shell(word: str) -> None:
    from cli.completion import check_shell  # the scripts' module loads only when one is asked for

    check_shell(word)


COMPLETION = Command(
    ("completion", Slot("shell", ("bash", "zsh", "fish"), _check_shell)),
    "Print a shell completion script (commands, options, model and session names)",
    "cli.completion:completion_script", faces=frozenset({SUBCOMMAND}), group="program",
    details="Generated from the command table. Install for bash: `ai-cli completion bash > "
            "~/.local/share/bash-completion/completions/ai-cli`; zsh: `ai-cli completion zsh > "
            "\"${fpath[1]}/_ai-cli\"`; fish: `ai-cli completion fish > "
            "~/.config/fish/completions/ai-cli.fish`. Model and session names are completed by "
            "calling `ai-cli completion names`.",
)
COMPLETION_NAMES = Command(
    ("completion", "names", Slot("kind", ("model", "session", "preset"))),
    "Model ids and names, session ids or preset names, one a line (what the completion "
    "scripts call)",
    "cli.completion:completion_names", faces=frozenset({SUBCOMMAND}), group="program",
)
FACE_COMMANDS = [WIZARD, SERVE, RAW, EDIT, THINKING, COMPLETION, COMPLETION_NAMES]


def terminal_table() -> CommandTable:
    return command_table(FACE_COMMANDS)

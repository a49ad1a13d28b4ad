"""`ai-cli`: the entry point and the composition root. No arguments: the REPL. Otherwise the words
of a slash command.

Global flags may appear anywhere (before or after the command words); `--` ends them.
Everything the program needs (config, output, the terminal face, command table, App) is built
here, once, and passed in.
"""

from __future__ import annotations

import os
import sys

from agent import __version__
from agent.app import App, Flags
from agent.errors import UsageError
from registry.errors import debugging
from cli.dispatch import OK, run_as_subcommand, show_subcommand_error
from cli.output import Output
from cli.terminal_face import AnswerMode, TerminalFace
from registry.errors import AiCliError

VALUE_FLAGS = {"--config": "config", "--redis-url": "redis_url", "--session": "session",
               "--workspace": "workspace"}
BOOL_FLAGS = {"--json": "json", "--yes": "yes", "-y": "yes", "--version": "version",
              "--help": "help", "-h": "help"}
# How answers show: the terminal's own flags (cli/terminal_face.py, AnswerMode), as llm's.
ANSWER_FLAGS = {"--raw": "raw", "-r": "raw", "--no-stream": "no_stream", "--extract": "extract",
                "-x": "extract"}
GLOBAL_HELP = (
    ("--json", "machine-readable output on stdout (errors as {\"error\": ...})"),
    ("--config PATH", "use this config.yaml"),
    ("--redis-url URL", "use this Redis for the registry (overrides AI_CLI_REDIS_URL)"),
    ("--session ID", "continue this chat session"),
    ("--workspace PATH", "the folder /code may read and edit (default: the current one)"),
    ("--yes, -y", "answer yes to questions"),
    ("--raw, -r", "answers as the model's markdown, as it arrives, unrendered"),
    ("--no-stream", "wait for the whole answer, then print it once"),
    ("--extract, -x", "print only the answer's first fenced code block"),
    ("--version", "print the version"),
    ("--help, -h", "this help; after command words, that command's help"),
)


def split_answer_flags(argv: list[str]) -> tuple[AnswerMode, list[str]]:
    """The answer flags (`-r`, `--no-stream`, `-x`) out of argv, anywhere before `--`. Pure."""
    found: set[str] = set()
    rest: list[str] = []
    for i, token in enumerate(argv):
        if token == "--":
            rest.extend(argv[i:])
            break
        if token in ANSWER_FLAGS:
            found.add(ANSWER_FLAGS[token])
        else:
            rest.append(token)
    return AnswerMode(raw="raw" in found, stream="no_stream" not in found,
                      extract="extract" in found), rest


def split_flags(argv: list[str]) -> tuple[Flags, list[str]]:
    """Global flags out of argv, anywhere in it; the rest keeps its order. Pure."""
    values: dict = {}
    rest: list[str] = []
    tail: list[str] = []  # --force goes to the end, so it reaches `add` wherever it was typed
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token.split("=", 1)[0]
        if token == "--":  # kept: the command's own flags end there too (`chat -- -m is text`)
            rest.extend(argv[i:])
            break
        if name in VALUE_FLAGS:
            if "=" in token:
                values[VALUE_FLAGS[name]] = token.split("=", 1)[1]
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                values[VALUE_FLAGS[name]] = argv[i + 1]
                i += 1
            else:
                raise UsageError(f"{name} needs a value. Run 'ai-cli --help' for the flags.")
        elif token in BOOL_FLAGS:
            values[BOOL_FLAGS[token]] = True
        elif token == "--force":
            values["force"] = True
            tail.append(token)
        else:
            rest.append(token)
        i += 1
    return Flags(**values), rest + tail


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    output = Output()
    output.face = "shell" if argv else "repl"
    try:
        answer_mode, argv = split_answer_flags(argv)
        flags, words = split_flags(argv)
    except AiCliError as exc:
        return show_subcommand_error(output, exc, "--json" in argv)
    try:
        code = _run(flags, words, output, answer_mode)
        output.stdout.flush()
        return _reader_left() if output.reader_left else code
    except BrokenPipeError:
        return _reader_left()
    except AiCliError as exc:
        return show_subcommand_error(output, exc, flags.json)
    except KeyboardInterrupt:
        output.notice("Interrupted; nothing more was done.")
        return 130
    except Exception as exc:  # the last guard: no traceback reaches a user
        if debugging():
            raise
        output.error(f"Unexpected error: {type(exc).__name__}: {exc}. "
                     "Run again with AI_CLI_DEBUG=1 to see the traceback.")
        return 1


READER_LEFT = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`'s yes


def _reader_left() -> int:
    """stdout's reader went away (`ai-cli ... | head`): end quietly. stdout now goes to
    /dev/null, so Python's own flush at exit finds no broken pipe to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (a test's StringIO)
        pass
    return READER_LEFT


def _run(flags: Flags, words: list[str], output: Output,
         answer_mode: AnswerMode | None = None) -> int:
    if flags.version:
        output.line(f"ai-cli {__version__}")
        return OK
    from cli.commands import terminal_table

    table = terminal_table()
    output.face = "shell" if words or flags.help else "repl"
    if flags.help:
        return _help(table, words, output)
    face = _terminal_face(flags, output, answer_mode)
    app = _build_app(flags, face, table, output)
    invocation = _invocation(table, words)
    lasting = _lasting(invocation, output)
    if lasting is not None:
        from cli import collector

        collector.lasts(after_warm_up=lasting == "after the warm-up")
    if invocation is None:
        from cli.repl import run_repl

        return run_repl(app, face, __version__)
    if invocation.command.needs:  # it talks to a model: LangChain imports while Redis is read
        from cli import warmup

        warmup.start(terminal=output.is_terminal)
    if app.session_id is None:  # one-shot commands continue the session `session use ID` chose
        from agent.session_file import read_in_use

        app.session_id = read_in_use(app.config.data_dir)
    if not _is_migration(invocation.command):
        notice = app.migrate_on_start()
        if notice:
            output.info(notice)
    return run_as_subcommand(app, face, invocation.command, invocation.args)


def _invocation(table, words: list[str]):
    """The command the words name, or `chat` with them (`ai-cli "question"`: cli/first_word.py);
    None for no words (the REPL)."""
    if not words:
        return None
    from cli.first_word import as_command_words, with_question_hint

    command_words = as_command_words(table, words)
    try:
        return table.parse_argv(command_words)
    except UsageError as exc:
        raise with_question_hint(exc, command_words) from None


def _lasting(invocation, output: Output) -> str | None:
    """Whether this process lasts, and from when Python's cyclic garbage collector runs again
    (cli/collector.py); the one place that decides it.

    None: a one-shot command ends soon, with the collector still paused. The REPL (no command
    words), `serve` and the wizard wait on a person or on requests: "after the warm-up" where one
    imports LangChain, which is most of start-up (the REPL's prompt starts it once drawn, `serve`
    once it listens), else "now" (a piped REPL, the wizard)."""
    from cli.commands import SERVE, WIZARD

    if invocation is None:
        from cli.repl import on_terminal

        return "after the warm-up" if on_terminal(output) else "now"
    if invocation.command is SERVE:
        return "after the warm-up"
    if invocation.command is WIZARD:
        return "now"
    return None


def _terminal_face(flags: Flags, output: Output,
                   answer_mode: AnswerMode | None = None) -> TerminalFace:
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    return TerminalFace(output, output.face, interactive=terminal and not flags.json,
                        quiet=flags.json, answer_mode=answer_mode)


def _build_app(flags: Flags, face: TerminalFace, table, output: Output) -> App:
    from registry.config import ConfigManager

    overrides = {"redis_url": flags.redis_url} if flags.redis_url else {}
    config = ConfigManager.load(flags.config, overrides=overrides)
    for path in config.pickup.looks_like_ours:  # an old ai-cli config.yaml: say why it is unread
        output.notice(f"ℹ Not reading {path}: it has no `ai_cli: 1` line (ai-cli reads "
                      "./config.yaml only with it); add the line, or pass --config, to use it.")
    if config.ignores(("redis", "url")) and not flags.redis_url:
        output.notice(f"ℹ {config.path} sets redis.url, which ai-cli takes only from a config file "
                      "you named (--config, AI_CLI_CONFIG) or keep in your config dir; it is not "
                      "contacted.")

    def open_registry(config: ConfigManager):
        from registry import open_registry

        # a busy or loading embedded Redis is waited for under a spinner on stderr
        return open_registry(config, waiting=output.spinner)

    return App(config, face, table, flags, open_registry=open_registry)


def _group_help(table, words: list[str], output: Output) -> int:
    """`ai-cli model --help`, `ai-cli session model --help`: every command of the group."""
    from agent.commands.base import SUBCOMMAND

    commands = table.group(words, SUBCOMMAND)
    if not commands:
        table.parse_argv(words)  # raises the parser's own message (with a did-you-mean)
        raise UsageError(f"No command '{' '.join(words)}'. Run 'ai-cli --help' for the list.")
    output.line(f"Usage of ai-cli {' '.join(words)}:")
    for command in commands:
        output.line(f"  {command.usage('ai-cli ')}")
        output.line(f"      {command.help}")
    output.line()
    output.line("Run 'ai-cli <command words> --help' for one command's arguments.")
    return OK


def _is_migration(command) -> bool:
    return command.words[:1] == ("migrate",)


def _help(table, words: list[str], output: Output) -> int:
    from agent.commands.base import SUBCOMMAND

    if words:
        command = table.find(words, SUBCOMMAND)
        if command is None:
            return _group_help(table, words, output)
        output.line(f"Usage: {command.usage('ai-cli ')}")
        output.line()
        output.line(command.help)
        if command.details:
            output.line(command.details)
        for arg in command.args:
            if arg.help:
                output.line(f"  <{arg.name}>  {arg.help}")
        for option in command.options:
            output.line(f"  {option.shown}  {option.help}")
        return OK
    output.line(f"ai-cli {__version__} — a terminal agent for your own Ollama models.")
    output.line()
    output.line("Usage: ai-cli                 start the interactive prompt")
    output.line("       ai-cli <command> ...   run one command (the words of its /slash form)")
    output.line("       ai-cli \"question\"      ask the general model (as 'ai-cli chat'): words that")
    output.line("                             are not a command, or a first word with a space")
    output.line()
    output.line("Commands:")
    for command in table.for_face(SUBCOMMAND):
        output.line(f"  {command.usage('ai-cli ')}")
        output.line(f"      {command.help}")
    output.line()
    output.line("Global flags (anywhere on the line):")
    for flag, text in GLOBAL_HELP:
        output.line(f"  {flag:<18} {text}")
    output.line()
    output.line("Exit codes: 0 success, 1 failed operation, 2 bad usage, 130 answer stopped by "
                "Ctrl-C, 141 stdout's reader left (| head).")
    return OK


def run() -> int:
    """The program (the `ai-cli` script runs it through cli/__main__.py): `main`, then the
    exit."""
    code = main()
    from cli import warmup

    warmup.exit_if_warming(code)
    return code


if __name__ == "__main__":
    sys.exit(run())

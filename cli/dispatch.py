"""The terminal's one place where a command runs, its result is drawn and an error becomes output.

REPL: one line on stderr, and the loop goes on. Subcommand: one line on stderr (or
`{"error": ...}` on stdout with --json) and the error's exit code (1 failed, 2 bad usage).
`AI_CLI_DEBUG=1` re-raises, so a developer sees the traceback.
"""

from __future__ import annotations

from agent.commands.base import Args, Command
from registry.errors import debugging
from cli.output import Output
from cli.terminal_face import TerminalFace
from registry.errors import AiCliError

OK = 0
INTERRUPTED = 130  # Ctrl-C stopped the answer (128 + SIGINT, as a shell reports it)


def run_in_repl(app, face: TerminalFace, command: Command, args: Args) -> None:
    """Run one command for the REPL; errors become one line and the REPL continues."""
    try:
        reason = command.off_reason(app)
        if reason is not None:
            face.output.warn(reason)
            return
        result = _run(app, face, command, args)
        if result is not None:
            from cli.views import show

            show(result, face.output)
    except AiCliError as exc:
        show_repl_error(face.output, exc)
    except BrokenPipeError:  # `ai-cli < questions | head`: the REPL ends (cli/repl.py)
        face.output.reader_left = True
    except Exception as exc:  # a bug must not end the REPL, nor show a traceback
        if debugging():
            raise
        face.output.error(f"Unexpected error: {type(exc).__name__}: {exc}. "
                          "Run again with AI_CLI_DEBUG=1 to see the traceback.")


def show_repl_error(output: Output, exc: AiCliError) -> None:
    if debugging():
        raise exc
    output.error(exc.message)


def run_as_subcommand(app, face: TerminalFace, command: Command, args: Args) -> int:
    """Run one command as `ai-cli ...`; returns the exit code."""
    try:
        reason = command.off_reason(app)
        if reason is not None:
            from router.errors import FeatureOff  # router/ loads only for commands that need it

            raise FeatureOff(reason)
        result = _run(app, face, command, args)
    except AiCliError as exc:
        return show_subcommand_error(face.output, exc, app.flags.json)
    if face.output.reader_left:
        return OK  # cli/main.py ends quietly
    if result is not None:
        if app.flags.json:
            face.output.json(result.to_json())
        else:
            from cli.views import show

            show(result, face.output)
    if getattr(result, "interrupted", False):  # the answer was stopped: saved, but not whole
        return INTERRUPTED
    return getattr(result, "exit_code", OK)  # a result may say the operation failed (/code)


def _run(app, face: TerminalFace, command: Command, args: Args):
    """The handler's result, with whatever it left on the screen (a spinner, a live table, an
    answer cut short) finished first."""
    try:
        return command.run(app, args)
    finally:
        face.close()


def show_subcommand_error(output: Output, exc: AiCliError, as_json: bool) -> int:
    if debugging():
        raise exc
    if as_json:
        from cli.command_forms import SHELL, in_form

        output.json({"error": in_form(exc.message, SHELL)})
    else:
        output.error(exc.message)
    return exc.exit_code

"""The one place per face where an `AiCliError` becomes output.

REPL: one line on stderr, and the loop goes on. Subcommand: one line on stderr (or
`{"error": ...}` on stdout with --json) and the error's exit code (1 failed, 2 bad usage).
`AI_CLI_DEBUG=1` re-raises, so a developer sees the traceback.
"""

from __future__ import annotations

import os

from agent.commands.base import Args, Command
from agent.output import Output
from registry.errors import AiCliError

OK, FAILED, BAD_USAGE = 0, 1, 2


def debugging() -> bool:
    return os.environ.get("AI_CLI_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def run_in_repl(app, command: Command, args: Args) -> None:
    """Run one command for the REPL; errors become one line and the REPL continues."""
    try:
        reason = command.off_reason(app)
        if reason is not None:
            app.output.warn(reason)
            return
        result = command.handler(app, args)
        if result is not None:
            result.render(app.output)
    except AiCliError as exc:
        show_repl_error(app.output, exc)
    except Exception as exc:  # a bug must not end the REPL, nor show a traceback
        if debugging():
            raise
        app.output.error(f"Unexpected error: {type(exc).__name__}: {exc}. "
                         "Run again with AI_CLI_DEBUG=1 to see the traceback.")


def show_repl_error(output: Output, exc: AiCliError) -> None:
    if debugging():
        raise exc
    output.error(exc.message)


def run_as_subcommand(app, command: Command, args: Args) -> int:
    """Run one command as `ai-cli ...`; returns the exit code."""
    try:
        reason = command.off_reason(app)
        if reason is not None:
            from router.errors import FeatureOff

            raise FeatureOff(reason)
        result = command.handler(app, args)
    except AiCliError as exc:
        return show_subcommand_error(app.output, exc, app.flags.json)
    if result is not None:
        if app.flags.json:
            app.output.json(result.to_json())
        else:
            result.render(app.output)
    return getattr(result, "exit_code", OK)  # a result may say the operation failed (/code)


def show_subcommand_error(output: Output, exc: AiCliError, as_json: bool) -> int:
    if debugging():
        raise exc
    if as_json:
        from agent.command_forms import SHELL, in_form

        output.json({"error": in_form(exc.message, SHELL)})
    else:
        output.error(exc.message)
    return exc.exit_code

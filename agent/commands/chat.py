"""`ai-cli chat "message"` (or on stdin), and every REPL line that is not a slash command."""

from __future__ import annotations

import sys

from agent.commands.base import Arg, Args, Command
from registry.errors import AiCliError, UsageError


def chat(app, args: Args):
    from agent.chat import chat_once
    from agent.commands.session import session_in_use, session_store

    question = args.message or _read_stdin()
    store = session = None
    try:
        store = session_store(app)
        session = session_in_use(app, store, create=getattr(app, "in_repl", False))
    except AiCliError as exc:
        if app.session_id is not None and not getattr(app, "in_repl", False):
            raise  # --session was asked for: do not answer without its history
        if getattr(app, "in_repl", False):
            app.output.warn(f"This chat is not saved: {exc.message}")
        store = None
    return chat_once(
        app.router, app.output, question,
        store=store if session is not None else None,
        session_id=session.session_id if session is not None else None,
        quiet=app.flags.json,
    )


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError('Nothing to send. Usage: ai-cli chat "message" (or pipe the message in).')
    text = sys.stdin.read().strip()
    if not text:
        raise UsageError("The message on stdin is empty.")
    return text


COMMANDS = [
    Command(
        ("chat",), "Ask the general model; the answer streams as it arrives", chat,
        args=(Arg("message", help="the question; read from stdin when left out",
                  optional=True, rest=True),),
        needs="chat",
        details="With --session ID the session's history is sent along and the exchange is "
                "saved to it. Ctrl-C stops the answer.",
    ),
]

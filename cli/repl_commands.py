"""Handlers of the commands only the terminal's REPL has (cli/commands.py): they change how this
terminal shows answers, or read a message from the user's editor."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from agent.commands.base import Args, Message
from agent.errors import NeedsTerminal, UsageError


def set_raw(app, args: Args) -> Message:
    """`/raw on|off`: answers as the model's markdown, unrendered, or rendered."""
    app.face.answer_mode.raw = args.state == "on"
    if app.face.answer_mode.raw:
        return Message("Answers now show as the model's markdown, as it arrives (/raw off renders "
                       "them).")
    return Message("Answers now show rendered (/raw on shows the model's markdown).")


def set_thinking(app, args: Args) -> Message:
    """`/thinking show|hide`: a thinking model's reasoning above its answers, or not."""
    app.face.answer_mode.thinking = args.state == "show"
    if app.face.answer_mode.thinking:
        return Message("A thinking model's reasoning now shows dimmed above its answers.")
    return Message("Thinking is hidden now (still stored with each answer; /thinking show).")


def edit(app, args: Args):
    """`/edit`: a new message written in $VISUAL or $EDITOR (as click and git choose), sent as
    chat; an empty file sends nothing."""
    import sys

    from registry.errors import InvalidInput

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise UsageError("No editor is set: set $EDITOR (for example: export EDITOR=nano) to "
                         "write a message with /edit.")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NeedsTerminal("/edit needs a terminal for the editor.")
    try:
        command = shlex.split(editor)
    except ValueError:
        raise InvalidInput(f"$EDITOR is not a command line: {editor!r}.") from None
    handle, name = tempfile.mkstemp(prefix="ai-cli-message-", suffix=".md")  # 0600, private
    os.close(handle)
    path = Path(name)
    try:
        try:
            status = subprocess.run([*command, str(path)]).returncode
        except OSError as exc:
            raise InvalidInput(f"Cannot run the editor {command[0]!r}: "
                               f"{exc.strerror or exc}. Set $EDITOR to one that is installed."
                               ) from None
        if status != 0:
            raise InvalidInput(f"The editor exited with status {status}; nothing was sent.")
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    finally:
        path.unlink(missing_ok=True)
    if not text:
        return Message("The message is empty; nothing was sent.")
    for line in text.splitlines():
        app.face.output.notice(f"│ {line}")  # what is sent, as typed lines would show
    return send_as_chat(app, text)


def send_as_chat(app, message: str):
    """`message` through the `chat` command, as a line that is not a command is sent."""
    chat = next(c for c in app.table.commands if c.words == ("chat",))
    reason = chat.off_reason(app)
    if reason is not None:
        from router.errors import FeatureOff

        raise FeatureOff(reason)
    return chat.run(app, Args({"message": message}))

"""Handlers of the commands only the terminal's REPL has (cli/commands.py): they change how this
terminal shows answers, or read a message from the user's editor."""

from __future__ import annotations

from agent.commands.base import Args, Message


def set_raw(app, args: Args) -> Message:
    """`/raw on|off`: answers as the model's markdown, unrendered, or rendered."""
    app.face.answer_mode.raw = args.state == "on"
    if app.face.answer_mode.raw:
        return Message("Answers now show as the model's markdown, as it arrives (/raw off renders "
                       "them).")
    return Message("Answers now show rendered (/raw on shows the model's markdown).")

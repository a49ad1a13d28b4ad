"""How the results about the program itself show in a terminal: /help, a message, a chat's end,
the migration's report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import WARN, Output

if TYPE_CHECKING:
    from agent.chat import ChatReply
    from agent.commands.base import Message
    from agent.commands.general import Help
    from agent.commands.migrate import MigrationResult


def show_help(result: Help, out: Output) -> None:
    heading = None
    for e in result.entries:
        if e.heading != heading and heading is not None:
            out.line()
        heading = e.heading
        out.line(e.usage, style="dim" if e.off_reason else "bold")
        out.line(f"    {e.help}")
        if e.off_reason:
            out.line(f"    {WARN} off now: {e.off_reason.removeprefix('⚠').strip()}",
                     style="yellow")
    out.line()
    out.line("Anything not starting with '/' is sent to the general model as chat.")
    out.line('Several lines: start with """ and end with """ (or Alt-Enter for a new line); '
             "/edit writes a message in $EDITOR. Only /quit, /exit or Ctrl-D leave.")


def show_message(result: Message, out: Output) -> None:
    out.line(result.text, style=result.style)


def show_chat_reply(result: ChatReply, out: Output) -> None:
    """The answer was streamed while it arrived; only an interruption is left to say."""
    if result.interrupted:
        out.notice("(answer stopped)")


def show_exactly(result, out: Output) -> None:
    """Text printed as it is (a completion script): no wrapping, no markup, no styling."""
    out.stdout.write(result.text)
    out.stdout.flush()


def show_migration(result: MigrationResult, out: Output) -> None:
    summary, *changes = result.report.lines()
    out.line(summary, style="green" if result.report.changed and not result.report.dry_run else None)
    for line in changes:
        out.line(line)
    presets = result.presets
    if presets is not None and (presets.from_config or presets.shipped):
        verb = "would add" if result.report.dry_run else "added"
        out.line(f"Presets {verb}: "
                 + ", ".join(p.name for p in (*presets.from_config, *presets.shipped)))

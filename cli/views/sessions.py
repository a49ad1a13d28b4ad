"""How the /session results show in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output
from cli.views.models import narrow
from cli.views.usage import usage_line

if TYPE_CHECKING:
    from agent.commands.session import SessionExport, SessionList, SessionResult, SessionShow
    from agent.sessions import Session


def show_session_result(result: SessionResult, out: Output) -> None:
    out.line(f"Session {result.session.session_id} {result.verb}.", style="green")
    _defaults_lines(out, result.session)
    if result.hint:
        out.notice(result.hint)


def show_session_list(result: SessionList, out: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    if not result.sessions:
        if result.query is not None:
            out.line(f"No session holds {result.query!r}.")
            return
        out.line("No saved sessions. Start one by chatting, or with /session new.")
        return
    if narrow(out):  # stacked: an id is never cut to "session_…"
        for s in result.sessions:
            mark = "* " if s.session_id == result.current else "  "
            out.print(Text(mark + s.session_id, style="bold"))
            out.line(f"    {_title(s)}")
            out.line(f"    {s.message_count} messages, last used {s.updated_at}"
                     + (f", pinned {_pins_text(s)}" if _pins_text(s) else ""))
        out.notice("* = the session in use")
        _damaged_warning(out, result.sessions)
        return
    table = Table(title="Sessions", title_justify="left")
    for column in ("In use", "ID", "Title", "Messages", "Last used", "Pinned"):
        table.add_column(column, no_wrap=column == "ID")
    for s in result.sessions:
        mark = "*" if s.session_id == result.current else ""
        table.add_row(mark, s.session_id, Text(_title(s)), str(s.message_count),
                      s.updated_at, Text(_pins_text(s) or "-"))
    out.print(table)
    _damaged_warning(out, result.sessions)


def _title(session: Session) -> str:
    if session.problem is not None:
        return f"damaged: {session.problem}"
    return session.title or "(empty)"


def _damaged_warning(out: Output, sessions) -> None:
    damaged = [s.session_id for s in sessions if s.problem is not None]
    if damaged:
        out.warn(f"{len(damaged)} damaged session(s) cannot be continued: delete each with "
                 f"'/session delete <id>' ({', '.join(damaged)}).")


def show_session(result: SessionShow, out: Output) -> None:
    s = result.session
    out.line(f"Session {s.session_id}: {s.title or '(empty)'}", style="bold")
    out.line(f"  created {s.created_at}, last used {s.updated_at}, {s.message_count} messages")
    _defaults_lines(out, s)
    for m in result.messages:
        if m.role == "user":
            out.line(f"you: {m.content}", style="cyan")
            for attached in m.attachments or ():
                out.line(f"  attached: {attachment_text(attached)}", style="dim")
        else:
            if m.thinking:
                out.line(f"  thought: {m.thinking}", style="dim")
            who = m.model_name or "model"
            stopped = " (stopped)" if m.interrupted else " (broke off)" if m.broken else ""
            out.line(f"{who}{stopped}: {m.content}")
            if usage_line(m.usage):
                out.line(f"  {usage_line(m.usage)}", style="dim")


def attachment_text(attached: dict) -> str:
    """`cat.png (12.3 KB, image/png)`: what a session or the log recorded about an image."""
    size = attached.get("size")
    shown = "? bytes" if not isinstance(size, int) else (
        f"{size:,} bytes" if size < 1024 else f"{size / 1024:,.1f} KB" if size < 1024 ** 2
        else f"{size / 1024 ** 2:,.1f} MB")
    return f"{attached.get('name', '')} ({shown}, {attached.get('type', '')})"


def _defaults_lines(out: Output, session: Session) -> None:
    from router.options import format_options

    if _pins_text(session):
        out.line(f"  pinned: {_pins_text(session)}")
    if session.system:
        out.line(f"  system: {session.system}")
    if session.options:
        out.line(f"  options: {format_options(session.options)}")
    if session.preset:
        out.line(f"  preset: {session.preset}")


def _pins_text(session: Session) -> str:
    return ", ".join(f"{t}={m}" for t, m in session.pinned.items() if m)


def show_session_export(result: SessionExport, out: Output) -> None:
    """The export as it is: byte for byte into a file or a pipe; inert on a terminal."""
    out.write(result.text)

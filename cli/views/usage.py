"""How `ai-cli log` and the answer records of a session show in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output

if TYPE_CHECKING:
    from rich.text import Text

    from agent.commands.usage import RecentAnswers


def seconds(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def number(value) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def usage_line(usage: dict | None) -> str | None:
    """`312 → 85 tokens · first token 420 ms · 2.1 s · 41.3 tokens/s`, from a stored answer's
    record (and what was left out, and how it ended when not ok); None without a record."""
    if not isinstance(usage, dict):
        return None
    parts = [f"{number(usage.get('input_tokens'))} → {number(usage.get('output_tokens'))} tokens",
             f"first token {seconds(usage.get('ttft_ms'))}", seconds(usage.get("total_ms"))]
    if usage.get("tokens_per_s") is not None:
        parts.append(f"{number(usage['tokens_per_s'])} tokens/s")
    if usage.get("trimmed"):
        parts.append(f"{usage['trimmed']} earlier messages left out")
    if usage.get("status") not in (None, "ok"):
        parts.append(str(usage["status"]).replace("_", " "))
    return " · ".join(parts)


def show_recent_answers(result: RecentAnswers, out: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    if not result.records:
        out.line("No answers logged yet. Every answer (ai-cli chat, the REPL, /code) is "
                 "logged here.")
        return
    if result.with_text:
        _show_recent_with_text(result, out)
        return
    table = Table(title="Recent answers (newest first)", title_justify="left")
    for column in ("time", "model", "via", "in", "out", "first token", "total", "tokens/s",
                   "left out", "status", "session"):
        table.add_column(column, justify="right" if column in (
            "in", "out", "first token", "total", "tokens/s", "left out") else "left",
            overflow="fold", no_wrap=column in ("session",))
    for r in result.records:
        table.add_row(
            r.time.replace("T", " ").replace("+00:00", ""),
            Text(f"{r.model_name} ({r.model_label})"), Text(r.via),
            number(r.input_tokens), number(r.output_tokens), seconds(r.ttft_ms),
            seconds(r.total_ms), number(r.tokens_per_s), str(r.trimmed or ""),
            _status_text(r.status), Text(r.session_id or "-"),
        )
    from cli.views import fits

    if fits(table, out):
        out.print(table)
        return
    _show_recent_stacked(result, out)


def _show_recent_with_text(result: RecentAnswers, out: Output) -> None:
    """Each answer as `llm logs` shows one: a heading line (when, model, session and message),
    the prompt, then the answer. Newest first. The text is the user's and the model's own:
    shown as text, never as markup."""
    from rich.text import Text

    for r in result.records:
        head = Text(r.time.replace("T", " ").replace("+00:00", "") + "  ", style="bold")
        head.append(f"{r.model_name} ({r.model_label})", style="bold")
        if r.status != "ok":
            head.append("  ")
            head.append_text(_status_text(r.status))
        out.print(head, overflow="fold")
        where = f"session {r.session_id}" + (f" · {r.message_id}" if r.message_id else "") \
            if r.session_id else "not saved to a session"
        usage = usage_line({**r.to_json(), "status": None}) or ""
        out.print(Text(f"via {r.via} · {where} · {usage}", style="dim"), overflow="fold")
        if r.prompt is None and r.response is None:
            out.print(Text("(no text kept: log.store_text is false, or a /code step)",
                           style="dim italic"))
        else:
            out.print(Text("> " + (r.prompt or "").replace("\n", "\n> "), style="cyan"),
                      overflow="fold")
            out.print(Text(r.response or ""), overflow="fold")
        out.line()


def _show_recent_stacked(result: RecentAnswers, out: Output) -> None:
    """One answer in two lines or more, for a terminal narrower than the table: nothing cut,
    the long parts wrapping at their words."""
    from rich.text import Text

    out.line("Recent answers (newest first)", style="italic")
    for r in result.records:
        head = Text(r.time.replace("T", " ").replace("+00:00", "") + "  ")
        head.append(f"{r.model_name} ({r.model_label})", style="bold")
        head.append("  ")
        head.append_text(_status_text(r.status))
        out.print(head, overflow="fold")
        usage = usage_line({**r.to_json(), "status": None}) or ""
        session = f" · session {r.session_id}" if r.session_id else ""
        out.print(Text(f"    via {r.via} · {usage}{session}", style="dim"), overflow="fold")


def _status_text(status: str) -> Text:
    from rich.text import Text

    style = {"ok": "green", "stopped": "yellow", "failed_over": "yellow"}.get(status, "red")
    return Text(status.replace("_", " "), style=style)

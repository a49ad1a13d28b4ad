"""`ai-cli log` and `/model stats`: the answer log (registry/answer_log.py) for people and scripts.

`log` lists recent answers newest first, like `llm logs`; `model stats` sums them up per model,
so a user with several Ollama hosts can see which one is fast. Both read the `log:answers`
stream every ai-cli process writes to; neither imports the router or langchain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.commands.base import Args, Command, Option
from agent.output import Output
from registry.errors import InvalidInput

if TYPE_CHECKING:  # rich and the log load when used, not with the command table
    from rich.table import Table
    from rich.text import Text

    from registry.answer_log import AnswerLog, AnswerRecord, ModelStats

DEFAULT_COUNT = 20


def answer_log(app) -> AnswerLog:
    from registry.answer_log import AnswerLog

    return AnswerLog(app.registry)


# --- formatting (pure) -----------------------------------------------------------------------


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


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogView:
    records: list[AnswerRecord]

    def to_json(self) -> Any:
        return [r.to_json() for r in self.records]

    def render(self, out: Output) -> None:
        from rich.table import Table
        from rich.text import Text

        if not self.records:
            out.line("No answers logged yet. Every answer (ai-cli chat, the REPL, /code) is "
                     "logged here.")
            return
        table = Table(title="Recent answers (newest first)", title_justify="left")
        for column in ("time", "model", "via", "in", "out", "first token", "total", "tokens/s",
                       "left out", "status", "session"):
            table.add_column(column, justify="right" if column in (
                "in", "out", "first token", "total", "tokens/s", "left out") else "left")
        for r in self.records:
            table.add_row(
                r.time.replace("T", " ").replace("+00:00", ""),
                Text(f"{r.model_name} ({r.model_label})"), Text(r.via),
                number(r.input_tokens), number(r.output_tokens), seconds(r.ttft_ms),
                seconds(r.total_ms), number(r.tokens_per_s), str(r.trimmed or ""),
                _status_text(r.status), Text(r.session_id or "-"),
            )
        out.print(table)


@dataclass(frozen=True)
class StatsView:
    stats: list[ModelStats]

    def to_json(self) -> Any:
        return [s.to_json() for s in self.stats]

    def render(self, out: Output) -> None:
        from rich.table import Table
        from rich.text import Text

        if not self.stats:
            out.line("No answers logged yet: the numbers appear after the first answers.")
            return
        table = Table(title="Answers per model (from the answer log)", title_justify="left")
        for column in ("ID", "Model", "URL", "answers", "first token (median)", "p90",
                       "tokens/s (median)", "failures", "failovers"):
            table.add_column(column, justify="left" if column in ("ID", "Model", "URL")
                             else "right")
        for s in self.stats:
            table.add_row(
                Text(s.model_id or "fallback"), Text(s.model_name), Text(s.url), str(s.answers),
                seconds(s.ttft_ms_median), seconds(s.ttft_ms_p90), number(s.tokens_per_s_median),
                str(s.failures), str(s.failovers),
            )
        out.print(table)
        out.notice("failovers: requests this model failed that another model then answered")


def _status_text(status: str) -> Text:
    from rich.text import Text

    style = {"ok": "green", "stopped": "yellow", "failed_over": "yellow"}.get(status, "red")
    return Text(status.replace("_", " "), style=style)


# --- handlers --------------------------------------------------------------------------------


def show_log(app, args: Args) -> LogView:
    count = _count(args.count)
    # `--session ID` is the global flag (agent/cli.py): `ai-cli log --session ID` filters by it
    session_id = getattr(app.flags, "session", None)
    return LogView(answer_log(app).recent(count, model=args.model, session_id=session_id))


def stats(app, args: Args) -> StatsView:
    return StatsView(answer_log(app).stats())


def _count(text: str | None) -> int:
    if text is None:
        return DEFAULT_COUNT
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(f"-n/--count takes a whole number of at least 1, not {text!r}. "
                           "Example: ai-cli log -n 50")
    return value


COMMANDS = [
    Command(
        ("log",), "Recent answers: model, tokens, time to first token, speed, status", show_log,
        options=(
            Option("--count", f"how many (default {DEFAULT_COUNT})", "N", short="-n"),
            Option("--model", "only this model (id or name)", "ID|NAME"),
        ),
        details="Newest first, from the `log:answers` stream every ai-cli process writes "
                "(one-shot `ai-cli chat` answers too). A request that failed over logs the "
                "model that failed (status failed_over) and the one that answered. With the "
                "global `--session ID`, only that session's answers. "
                "See docs/CONTEXT.md.",
    ),
    Command(
        ("model", "stats"), "Per model: answers, time to first token, tokens/s, failures",
        stats, group="model",
        details="Over the answer log: median and p90 time to first token, median tokens per "
                "second, failures (answers that broke off or failed) and failovers.",
    ),
]

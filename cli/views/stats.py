"""How `model stats` shows in a terminal: a table per model, a table per host."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output
from cli.views.usage import number, seconds

if TYPE_CHECKING:
    from agent.commands.stats import ModelStatsReport
    from registry.stats import GroupStats

COLUMNS = ("requests", "success", "broken", "failed over", "first token p50", "p90",
           "tokens/s p50", "in flight", "cooling down")


def show_model_stats(result: ModelStatsReport, out: Output) -> None:
    stats = result.stats
    if not stats.entries:
        out.line("No answers logged yet: the numbers appear after the first answers.")
        return
    out.print(_table("Per model", "model", "hosts", stats.models))
    out.print(_table("Per host", "host", "parallel", stats.hosts, parallel=True))
    span = f", {_when(stats.oldest)} to {_when(stats.newest)}" if stats.oldest else ""
    out.notice(f"From the newest {stats.entries:,} answer-log entries{span}. success: ok "
               "answers of the requests not stopped by you; failed over: failed before any "
               "output, the next model answered; in flight and cooling down: not kept yet.")


def _table(title: str, name: str, second: str, groups: list[GroupStats], parallel=False):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for column in (name, second, *COLUMNS):
        table.add_column(column, justify="left" if column in (name, "hosts") else "right",
                         overflow="fold")
    for g in groups:
        table.add_row(
            Text(g.name), Text(number(g.parallel)) if parallel else Text(", ".join(g.members)),
            str(g.requests), _rate(g.success_rate), str(g.failures["broken"]),
            str(g.failures["failed_over"]), seconds(g.ttft_ms_p50), seconds(g.ttft_ms_p90),
            number(g.tokens_per_s_p50), number(g.in_flight), g.cooling_down_until or "-",
        )
    return table


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _when(time: str | None) -> str:
    return (time or "").replace("T", " ").replace("+00:00", " UTC")

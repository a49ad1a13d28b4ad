"""How `model stats` shows in a terminal: a table per model and per host, stacked when narrow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output
from cli.views.usage import number, seconds

if TYPE_CHECKING:
    from agent.commands.stats import ModelStatsReport
    from registry.stats import GroupStats

# A host cooling down is said under the tables (one line each), not in a column of its own;
# the in-flight column shows only while requests run (at rest the table keeps its width).
COLUMNS = ("requests", "success", "broken", "failed over", "first token p50", "p90",
           "tokens/s p50")
IN_FLIGHT = "in flight"


def show_model_stats(result: ModelStatsReport, out: Output) -> None:
    stats = result.stats
    if not stats.entries:
        out.line("No answers logged yet: the numbers appear after the first answers.")
        return
    _show_groups(out, "Per model", "model", "hosts", stats.models, parallel=False)
    _show_groups(out, "Per host", "host", "parallel", stats.hosts, parallel=True)
    for host in stats.hosts:
        if host.cooling_down_until:
            out.warn(f"{host.name} is cooling down until {_when(host.cooling_down_until)} "
                     "(refused or timed out lately): other hosts answer meanwhile.")
    span = f", {_when(stats.oldest)} to {_when(stats.newest)}" if stats.oldest else ""
    out.notice(f"From the newest {stats.entries:,} answer-log entries{span}. success: ok "
               "answers of the requests not stopped by you; failed over: failed before any "
               "output, the next model answered.")


def _show_groups(out: Output, title: str, name: str, second: str, groups: list[GroupStats],
                 parallel: bool) -> None:
    from cli.views import fits

    table = _table(title, name, second, groups, parallel)
    if fits(table, out):
        out.print(table)
        return
    _show_stacked(out, title, second, groups, parallel)  # nothing cut on a narrow terminal


def _columns(groups: list[GroupStats]) -> tuple[str, ...]:
    return COLUMNS + ((IN_FLIGHT,) if any(g.in_flight for g in groups) else ())


def _cells(g: GroupStats, parallel: bool, running: bool = False) -> list[str]:
    second = number(g.parallel) if parallel else str(len(g.members))  # the hosts are listed below
    return [second, str(g.requests), _rate(g.success_rate), str(g.failures["broken"]),
            str(g.failures["failed_over"]), seconds(g.ttft_ms_p50), seconds(g.ttft_ms_p90),
            number(g.tokens_per_s_p50), *([number(g.in_flight)] if running else [])]


def _table(title: str, name: str, second: str, groups: list[GroupStats], parallel: bool):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    running = any(g.in_flight for g in groups)
    for column in (name, second, *_columns(groups)):
        table.add_column(column, justify="left" if column == name else "right",
                         no_wrap=True)  # "10 ms" never split: the table fits whole or stacks
    for g in groups:
        table.add_row(Text(g.name), *(Text(cell) for cell in _cells(g, parallel, running)))
    return table


def _show_stacked(out: Output, title: str, second: str, groups: list[GroupStats],
                  parallel: bool) -> None:
    from rich.text import Text

    from cli.views import fitted_lines

    out.line(title, style="italic")
    running = any(g.in_flight for g in groups)
    for g in groups:
        out.print(Text(g.name, style="bold"), overflow="fold")
        pairs = [Text(f"{label} {value}") for label, value in
                 zip((second, *_columns(groups)), _cells(g, parallel, running))]
        for line in fitted_lines(Text("  "), pairs, out.out.width, sep=" · ", indent="  "):
            out.print(line, overflow="fold")


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _when(time: str | None) -> str:
    return (time or "").replace("T", " ").replace("+00:00", " UTC")

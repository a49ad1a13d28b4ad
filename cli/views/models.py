"""How the /model results show in a terminal: tables for lists, one line per change.

Every string that came from a user or a server goes through `esc` or a `Text`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from cli.output import FAIL, INFO, OK, WARN, Output, esc
from cli.views import fitted_lines

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from agent.commands.model_changes import ModelAdded, ModelChanged
    from agent.commands.model_list import ModelList
    from agent.commands.probes import CheckResult, Discovered, Status
    from agent.commands.repair import RepairReport

ACTIVE_MARK = "●"
NARROW = 80  # below this many columns, tables become stacked lists (ids are never cut)


def narrow(out: Output) -> bool:
    return out.out.width < NARROW


def availability_text(is_available: bool | None) -> Text:
    from rich.text import Text

    if is_available is None:
        return Text("unknown", style="dim")
    return Text(f"{OK} reachable", style="green") if is_available else Text(
        f"{FAIL} unreachable", style="red"
    )


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`12s ago`, `5m ago`, `3h ago`, `2d ago`, or `never`."""
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(timezone.utc)) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


# --- model list ------------------------------------------------------------------------------


def where(model) -> str:
    """Where an entry is served, as the list shows it: `host:port`, and the path when the URL
    has one (a reverse proxy's); `https://` kept, since it says something `http://` does not."""
    url = model.shown_url.rstrip("/")
    return url.removeprefix("http://") if url.startswith("http://") else url


def show_model_list(result: ModelList, out: Output) -> None:
    """One model per type, its hosts beneath it (host:port; the scheme says nothing here)."""
    from rich.table import Table
    from rich.text import Text

    if not result.models:
        which = f"{result.model_type} " if result.model_type else ""
        kind = result.model_type or "general"
        out.line(f"No {which}models registered. Add one with "
                 f"'/model {kind} add <url> <model_name>' or '/model wizard'.")
        return
    if narrow(out):
        _show_stacked(result, out)
        return
    table = Table(title="Registered models", title_justify="left")
    columns = ("", "Model", "Type", "Host", "ID", "Timeout", "Availability", "Checked")
    with_speed = any(m.model_id in result.speeds for m in result.models)  # once answers exist
    with_load = any(load.known for load in result.load.values())
    extra = (("Speed",) if with_speed else ()) + (("Load",) if with_load else ())
    for column in columns + extra:
        # Names and hosts wrap at their words (folded, never cut); ids and numbers never wrap.
        table.add_column(column, no_wrap=column in ("ID", "Timeout", "Speed", "Load"),
                         overflow="fold")
    for group in result.groups:
        for index, m in enumerate(group.entries):
            # The model's name and type once, on its first host's row.
            name = Text(m.model_name) if index == 0 else ""
            kind = Text(m.model_type) if index == 0 else ""
            if m.corrupt:
                row = [Text("!", style="bold red"), name, kind, Text(where(m)), Text(m.model_id),
                       "", Text(f"corrupt: {m.problem}", style="red"), ""]
                table.add_row(*row, *([""] * len(extra)))
                continue
            speed = result.speeds.get(m.model_id)
            row = [
                Text(ACTIVE_MARK, style="bold green") if m.is_active else "",
                name, kind, Text(where(m)), Text(m.model_id), f"{m.timeout}s",
                availability_text(m.is_available), ago(m.last_checked),
            ]
            if with_speed:
                row.append("-" if speed is None else f"{speed:,.1f} tok/s")
            if with_load:
                row.append(" · ".join(load_parts(result.load.get(m.model_id))) or "-")
            table.add_row(*row, end_section=index == len(group.entries) - 1)
    from cli.views import fits

    if not fits(table, out):  # a long name or host: stacked, so nothing is cut
        _show_stacked(result, out)
        return
    out.print(table)
    out.notice(f"{ACTIVE_MARK} = active model of its type")
    _warn_corrupt(result, out)


def load_parts(load) -> list[str]:
    """A host's load as the list shows it: `1 in flight`, `p50 320 ms`, `98% ok` (known ones)."""
    from cli.views.usage import seconds

    if load is None:
        return []
    parts = [] if load.in_flight is None else [f"{load.in_flight} in flight"]
    if load.ttft_p50_ms is not None:
        parts.append(f"p50 {seconds(load.ttft_p50_ms)}")
    if load.success_rate is not None:
        parts.append(f"{load.success_rate:.0%} ok")
    return parts


def _warn_corrupt(result: ModelList, out: Output) -> None:
    corrupt = [m for m in result.models if m.corrupt]
    if corrupt:
        out.warn(f"{len(corrupt)} corrupt registry entr{'y' if len(corrupt) == 1 else 'ies'} "
                 "(never used): remove with '/model {general|coder} remove <id>', "
                 "or run '/model repair'.")


def _show_stacked(result: ModelList, out: Output) -> None:
    """A model per paragraph, a line per host: narrow terminals and long names."""
    from rich.text import Text

    out.line("Registered models", style="italic")
    for group in result.groups:
        first = group.entries[0]
        if first.corrupt:
            head = Text("! ", style="bold red")
            head.append(first.model_id, style="bold")
            head.append(f"  {first.model_type}  {first.model_name} @ {where(first)}")
            out.print(head, overflow="fold")
            out.print(Text(f"    corrupt: {first.problem}", style="red"), overflow="fold")
            continue
        active = any(m.is_active for m in group.entries)
        head = Text(f"{ACTIVE_MARK if active else ' '} ", style="bold green")
        head.append(first.model_name, style="bold")
        head.append(f"  {first.model_type}")
        if len(group.entries) > 1:
            head.append(f"  {len(group.entries)} hosts", style="dim")
        out.print(head, overflow="fold")
        for m in group.entries:
            mark = Text(f"  {ACTIVE_MARK if m.is_active and len(group.entries) > 1 else ' '} ",
                        style="bold green")
            host = Text(where(m), style="bold").append(f"  {m.model_id}", style="")
            state = Text(f"{m.timeout}s  ").append_text(availability_text(m.is_available))
            more = Text(f"checked {ago(m.last_checked)}", style="dim")
            speed = result.speeds.get(m.model_id)
            if speed is not None:
                more.append(f"  {speed:,.1f} tok/s")
            load = [Text(part) for part in load_parts(result.load.get(m.model_id))]
            for line in fitted_lines(mark, [host, state, more, *load], out.out.width):
                out.print(line, overflow="fold")
    out.notice(f"{ACTIVE_MARK} = active model of its type")
    _warn_corrupt(result, out)


# --- add, use, remove ------------------------------------------------------------------------


def show_model_added(result: ModelAdded, out: Output) -> None:
    m = result.model
    if result.already:
        out.print(f"{INFO} {esc(m.model_name)} @ {esc(m.host)} is already registered as a "
                  f"{esc(m.model_type)} model ({esc(m.model_id)}): nothing changed.")
        return
    out.line("Model registered successfully!", style="bold green")
    for label, value in (
        ("ID", m.model_id), ("Type", m.model_type), ("Model", m.model_name), ("URL", m.shown_url),
        ("Status", "Active" if m.is_active else "Inactive"),
        ("Context", f"{m.num_ctx:,} tokens" if m.num_ctx else "the model's window, capped by "
         "defaults.max_context"), ("Parallel", str(m.parallel)),
    ):
        out.print(f"  [bold]{label}:[/bold] {esc(value)}")
    if result.probe_reason:
        out.warn(f"Added without a working server: {result.probe_reason}")
    if result.hosts > 1:
        out.print(f"{INFO} {esc(m.model_name)} is now served by {result.hosts} hosts: a request "
                  "for it goes to another of them when one does not answer.")
    out.line()
    if result.probe_reason and m.is_active:  # --force on a server that did not answer
        out.line(f"It answers once {m.host} does: until then requests go down the fallback "
                 "chain. Run '/model check' to probe it again.")
    elif m.is_active and m.model_type == "general":
        out.line("You can now start chatting!")
    elif m.is_active:
        out.line("Code features are now available via '/code'.")
    else:
        out.line(f"Make it active with '/model {m.model_type} use {m.model_id}'.")


def show_model_changed(result: ModelChanged, out: Output) -> None:
    m = result.model
    out.print(
        f"[green]{OK}[/green] {esc(m.model_type.capitalize())} model {esc(m.model_name)} "
        f"@ {esc(m.host)} ({esc(m.model_id)}) {result.what}."
    )
    if result.note:
        out.info(result.note)
    if result.warning:
        out.warn(result.warning)


# --- discover, check, status, repair ----------------------------------------------------------


def show_discovered(result: Discovered, out: Output) -> None:
    if not result.names:
        out.line(f"{result.shown_url} answers but has no models. Pull one there: "
                 "ollama pull llama3.1:8b")
        return
    out.line(f"Models on {result.shown_url}:", style="bold")
    for name in result.names:
        out.line(f"  {name}")


def check_table(result: CheckResult) -> Table:
    """The probes as a table; rows still waiting for their answer say so."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Availability", title_justify="left")
    for column in ("ID", "Model", "URL", "Status", "Latency", "Reason"):
        table.add_column(column)
    for row in result.rows:
        r = row.result
        if r is None:
            status, latency, reason = Text("checking…", style="dim"), "", ""
        else:
            status = availability_text(r.is_available)
            latency = "" if r.latency_ms is None else f"{r.latency_ms} ms"
            reason = r.reason or ""
        table.add_row(Text(row.label), Text(row.name), Text(row.url), status, latency,
                      Text(reason))
    return table


def show_check(result: CheckResult, out: Output) -> None:
    out.print(check_table(result))


def show_status(result: Status, out: Output) -> None:
    status = result.status
    for request_type, route in status.get("routes", {}).items():
        _show_route(out, request_type, route)
    fallback = status.get("fallback") or {}
    if fallback:
        state = {True: " (reachable)", False: " (unreachable)"}.get(fallback.get("is_available"), "")
        out.print(f"[cyan]{INFO}[/cyan] Fallback: {esc(fallback.get('model_name', ''))} @ "
                  f"{esc(fallback.get('url', ''))}{state}", soft_wrap=not out.is_terminal)
    features = status.get("features", {})
    on = [name for name, value in features.items() if value is True]
    off = [name for name, value in features.items() if value is False]
    out.line(f"Features on: {', '.join(on) or 'none'}" + (f"; off: {', '.join(off)}" if off else ""))


def _show_route(out: Output, request_type: str, route: dict) -> None:
    model = route.get("model")
    title = f"{request_type.capitalize()}"
    if model is None:
        notice = (route.get("notice") or "feature off").removeprefix("⚠").strip()
        out.print(f"[yellow]{WARN}[/yellow] {esc(title)}: no model. {esc(out.form(notice))}",
                  soft_wrap=not out.is_terminal)
        return
    icon = f"[green]{OK}[/green]" if route.get("via") == "active" else f"[yellow]{WARN}[/yellow]"
    ident = model.get("model_id") or "fallback"
    out.print(f"{icon} {esc(title)}: {esc(model.get('model_name', ''))} @ "
              f"{esc(model.get('url', ''))} ({esc(ident)}, via {esc(route.get('via', ''))})",
              soft_wrap=not out.is_terminal)
    if route.get("notice"):
        out.notice(f"  {route['notice']}")


def show_repair(result: RepairReport, out: Output) -> None:
    if not result.fixes and not result.remaining:
        out.line(f"{OK} The registry is sound: nothing to repair.")
        return
    verb = "Would fix" if result.dry_run else "Fixed"
    for text in result.fixes:
        out.line(f"{verb}: {text}")
    for text in result.remaining:
        out.warn(f"Not fixed: {text}")
    if result.dry_run and result.fixes:
        out.line("Nothing was changed (--dry-run). Run '/model repair' to apply these fixes.")

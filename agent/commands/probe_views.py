"""What `/model discover`, `check` and `status` return (each asks the models' servers): rendered
by rich or as JSON (agent/commands/model_views.py has the shared parts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.commands.model_views import availability_text
from agent.output import INFO, OK, WARN, Output, esc
from registry.model import mask_url

if TYPE_CHECKING:  # rich loads when something is shown
    from rich.table import Table


@dataclass(frozen=True)
class Discovered:
    url: str
    names: list[str]

    @property
    def shown_url(self) -> str:
        return mask_url(self.url)

    def to_json(self) -> Any:
        return {"url": self.shown_url, "models": self.names}

    def render(self, out: Output) -> None:
        if not self.names:
            out.line(f"{self.shown_url} answers but has no models. Pull one there: ollama pull llama3.1:8b")
            return
        out.line(f"Models on {self.shown_url}:", style="bold")
        for name in self.names:
            out.line(f"  {name}")


@dataclass
class CheckRow:
    label: str  # model id, or "fallback"
    name: str
    url: str  # as shown: password masked
    result: Any = None  # ProbeResult once the probe is back


@dataclass
class CheckResult:
    rows: list[CheckRow] = field(default_factory=list)

    def to_json(self) -> Any:
        return [row.result.to_json() for row in self.rows]

    def table(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Availability", title_justify="left")
        for column in ("ID", "Model", "URL", "Status", "Latency", "Reason"):
            table.add_column(column)
        for row in self.rows:
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

    def render(self, out: Output) -> None:
        out.print(self.table())


@dataclass(frozen=True)
class Status:
    status: dict  # Router.status()
    registry_note: str | None = None

    def to_json(self) -> Any:
        return self.status

    def render(self, out: Output) -> None:
        for request_type, route in self.status.get("routes", {}).items():
            _render_route(out, request_type, route)
        fallback = self.status.get("fallback") or {}
        if fallback:
            state = {True: " (reachable)", False: " (unreachable)"}.get(fallback.get("is_available"), "")
            out.print(f"[cyan]{INFO}[/cyan] Fallback: {esc(fallback.get('model_name', ''))} @ "
                      f"{esc(fallback.get('url', ''))}{state}", soft_wrap=not out.is_terminal)
        features = self.status.get("features", {})
        on = [name for name, value in features.items() if value is True]
        off = [name for name, value in features.items() if value is False]
        out.line(f"Features on: {', '.join(on) or 'none'}" + (f"; off: {', '.join(off)}" if off else ""))


def _render_route(out: Output, request_type: str, route: dict) -> None:
    model = route.get("model")
    title = f"{request_type.capitalize()}"
    if model is None:
        notice = (route.get("notice") or "feature off").removeprefix("⚠").strip()
        out.print(f"[yellow]{WARN}[/yellow] {esc(title)}: no model. {esc(out.form(notice))}", soft_wrap=not out.is_terminal)
        return
    icon = f"[green]{OK}[/green]" if route.get("via") == "active" else f"[yellow]{WARN}[/yellow]"
    ident = model.get("model_id") or "fallback"
    out.print(f"{icon} {esc(title)}: {esc(model.get('model_name', ''))} @ "
              f"{esc(model.get('url', ''))} ({esc(ident)}, via {esc(route.get('via', ''))})",
              soft_wrap=not out.is_terminal)
    if route.get("notice"):
        out.notice(f"  {route['notice']}")

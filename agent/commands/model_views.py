"""What `/model list` returns, and what the other /model views share: one object per command,
rendered by rich for people or as JSON.

JSON shapes are DESIGN.md's ("JSON shapes"), the same the web API returns.
Every string that came from a user or a server goes through `esc` or a `Text`.
The views of the other /model commands live in model_change_views.py (add, use, remove) and
probe_views.py (discover, check, status): each dataclass costs its definition at import, and
`model list`, the command scripts call most, defines only its own (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from agent.output import FAIL, OK, Output
from registry.model import ModelConfig

if TYPE_CHECKING:  # rich loads when something is shown, not with the command table
    from rich.text import Text

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


@dataclass(frozen=True)
class ModelList:
    models: list[ModelConfig]
    model_type: str | None = None
    speeds: dict[str, float] = field(default_factory=dict)  # model id -> median tokens/s (log)

    def to_json(self) -> Any:
        return [m.to_json() for m in self.models]

    def render(self, out: Output) -> None:
        from rich.table import Table
        from rich.text import Text

        if not self.models:
            which = f"{self.model_type} " if self.model_type else ""
            kind = self.model_type or "general"
            out.line(f"No {which}models registered. Add one with "
                     f"'/model {kind} add <url> <model_name>' or '/model wizard'.")
            return
        if narrow(out):
            self._render_stacked(out)
            return
        table = Table(title="Registered models", title_justify="left")
        columns = ("", "ID", "Type", "Model", "URL", "Timeout", "Availability", "Checked")
        with_speed = any(m.model_id in self.speeds for m in self.models)  # once answers exist
        for column in columns + (("Speed",) if with_speed else ()):
            table.add_column(column, no_wrap=column in ("ID", "Timeout", "Speed"))
        for m in self.models:
            if m.corrupt:
                row = [
                    Text("!", style="bold red"), Text(m.model_id), Text(m.model_type),
                    Text(m.model_name), Text(m.shown_url), "",
                    Text(f"corrupt: {m.problem}", style="red"), "",
                ]
                table.add_row(*row, *([""] if with_speed else []))
                continue
            speed = self.speeds.get(m.model_id)
            row = [
                Text(ACTIVE_MARK, style="bold green") if m.is_active else "",
                Text(m.model_id), Text(m.model_type), Text(m.model_name), Text(m.shown_url),
                f"{m.timeout}s", availability_text(m.is_available), ago(m.last_checked),
            ]
            if with_speed:
                row.append("-" if speed is None else f"{speed:,.1f} tok/s")
            table.add_row(*row)
        out.print(table)
        out.notice(f"{ACTIVE_MARK} = active model of its type")
        corrupt = [m for m in self.models if m.corrupt]
        if corrupt:
            out.warn(f"{len(corrupt)} corrupt registry entr{'y' if len(corrupt) == 1 else 'ies'} "
                     "(never used): remove with '/model {general|coder} remove <id>', "
                     "or run '/model repair'.")

    def _render_stacked(self, out: Output) -> None:
        from rich.text import Text

        out.line("Registered models", style="italic")
        for m in self.models:
            head = Text(f"{ACTIVE_MARK} " if m.is_active else "  ", style="bold green")
            head.append(m.model_id, style="bold")
            head.append(f"  {m.model_type}")
            out.print(head)
            details = Text(f"    {m.model_name} @ {m.shown_url}  {m.timeout}s  ")
            details.append_text(availability_text(m.is_available))
            details.append(f"  checked {ago(m.last_checked)}", style="dim")
            out.print(details)
        out.notice(f"{ACTIVE_MARK} = active model of its type")

"""How `config path` and `config show` look in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.output import Output

if TYPE_CHECKING:
    from agent.commands.config import ConfigPath, ConfigShow


def show_config_path(result: ConfigPath, out: Output) -> None:
    from rich.text import Text

    out.print(Text(result.path or "(none)", style="bold"))
    out.print(Text(f"  {result.why}"))
    for path, why in result.skipped:
        out.print(Text(f"  passed over {path}: {why}", style="dim"))


def show_config_show(result: ConfigShow, out: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Settings (file: {result.path or 'none'})", title_justify="left")
    for column in ("setting", "value", "source"):
        table.add_column(column, overflow="fold")
    for s in result.settings:
        table.add_row(Text(s.name), Text(_shown(s.value)), Text(s.source))
    out.print(table)
    for s in result.settings:
        if s.note:
            out.warn(f"{s.name}: {s.note}")


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "[]"
    return "" if value is None else str(value)

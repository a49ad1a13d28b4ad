"""How the /preset results, and `chat --explain`, show in a terminal. Every string from Redis is
drawn as plain `Text` (no markup) and made inert."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.inert import inert
from cli.output import Output

if TYPE_CHECKING:
    from agent.commands.chat import ChatExplained
    from agent.commands.preset import (PresetExport, PresetInUse, PresetList, PresetRemoved,
                                       PresetSaved, PresetShow, PresetsImported)
    from registry.presets import Preset


def show_preset_saved(result: PresetSaved, out: Output) -> None:
    verb = "replaced" if result.replaced else "saved"
    out.line(f"Preset {inert(result.preset.name)} {verb}; nothing was sent.", style="green")
    _preset_lines(out, result.preset)


def show_preset_removed(result: PresetRemoved, out: Output) -> None:
    out.line(f"Preset {inert(result.preset.name)} removed.", style="green")


def show_preset_list(result: PresetList, out: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    if not result.presets:
        out.line("No presets. Add one with: /preset add NAME -m MODEL -s TEXT -o KEY VALUE")
        return
    table = Table(title="Presets", title_justify="left")
    for column in ("", "Name", "Model", "Options", "Description"):
        table.add_column(column, no_wrap=column == "Name")
    for p in result.presets:
        mark = "!" if p.name in result.problems else ""
        table.add_row(mark, Text(inert(p.name)), Text(inert(p.model or "(route)")),
                      Text(inert(_options(p.options))), Text(inert(p.description)))
    out.print(table)
    for name, problem in result.problems.items():
        out.warn(f"! {inert(name)}: {inert(problem)}")


def show_preset(result: PresetShow, out: Output) -> None:
    out.line(f"Preset {inert(result.preset.name)}", style="bold")
    if result.problem:
        out.warn(inert(result.problem))
    if not result.preset.corrupt:
        _preset_lines(out, result.preset)
    if result.resolved is not None:
        out.line("The request it makes now (nothing was sent):", style="bold")
        _resolved_lines(out, result.resolved, result.route)


def show_preset_export(result: PresetExport, out: Output) -> None:
    out.write(result.text)
    if result.skipped:
        out.warn(f"Left out, damaged: {inert(', '.join(result.skipped))}.")


def show_presets_imported(result: PresetsImported, out: Output) -> None:
    for preset, replaced in result.saved:
        out.line(f"Preset {inert(preset.name)} {'replaced' if replaced else 'added'}.",
                 style="green")


def show_preset_in_use(result: PresetInUse, out: Output) -> None:
    if result.name is None:
        out.line(f"Session {result.session_id} uses no preset now.", style="green")
    else:
        out.line(f"Session {result.session_id} uses preset {inert(result.name)}.", style="green")


def show_chat_explained(result: ChatExplained, out: Output) -> None:
    out.line("The request (nothing was sent):", style="bold")
    if result.preset:
        out.line(f"  preset: {inert(result.preset)}")
    for line in result.notices:
        out.warn(inert(line))
    _resolved_lines(out, result.resolved, result.route)


def _preset_lines(out: Output, preset: Preset) -> None:
    if preset.description:
        out.line(f"  description: {inert(preset.description)}")
    out.line(f"  model: {inert(preset.model or '(the command route)')}")
    if preset.system:
        out.line(f"  system: {inert(preset.system)}")
    if preset.options:
        out.line(f"  options: {inert(_options(preset.options))}")
    if preset.requires:
        out.line(f"  requires: {', '.join(preset.requires)}")


def _resolved_lines(out: Output, resolved, route: dict | None) -> None:
    if route is not None:
        model = route["model"] or "none"
        where = f" at {inert(route['url'])}" if route.get("url") else ""
        out.line(f"  answered by: {inert(model)}{where} ({route['request_type']} route, via "
                 f"{route['via']})")
        if route.get("notice"):
            out.notice(f"  {inert(route['notice'])}")
        if route.get("unmet_requires"):
            out.warn(f"The preset requires {', '.join(route['unmet_requires'])}, which this "
                     "model does not support.")
    if resolved.model is not None:
        out.line(f"  model asked: {inert(str(resolved.model.value))}  "
                 f"[{resolved.model.source}]")
    system = resolved.system
    out.line("  system: " + (f"{inert(system.value)}  [{system.source}]" if system else "(none)"))
    if not resolved.options:
        out.line("  options: (none)")
    for key, sourced in resolved.options.items():
        out.line(f"  {key} = {inert(_value(sourced.value))}  [{sourced.source}]")


def _options(options: dict) -> str:
    from router.options import format_options

    return format_options(options)


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)

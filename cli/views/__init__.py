"""The terminal's view of every result a command returns: `show(result, out)`.

Results are data (agent/commands/*, agent/chat.py, agent/code/loop.py); how each is drawn is
here, one function per result type, in the module named beside it below. The module is imported
only when such a result is shown, so `ai-cli model list --json` never loads a view.
"""

from __future__ import annotations

import importlib

from cli.output import Output

# result type name -> (module under cli.views, function)
VIEWS = {
    "ModelList": ("models", "show_model_list"),
    "ModelAdded": ("models", "show_model_added"),
    "ModelChanged": ("models", "show_model_changed"),
    "Discovered": ("models", "show_discovered"),
    "CheckResult": ("models", "show_check"),
    "Status": ("models", "show_status"),
    "RepairReport": ("models", "show_repair"),
    "CapsShown": ("models", "show_caps"),
    "SessionResult": ("sessions", "show_session_result"),
    "SessionList": ("sessions", "show_session_list"),
    "SessionShow": ("sessions", "show_session"),
    "SessionExport": ("sessions", "show_session_export"),
    "RecentAnswers": ("usage", "show_recent_answers"),
    "ModelStatsReport": ("stats", "show_model_stats"),
    "CodeOutcome": ("code", "show_code_outcome"),
    "Undone": ("code", "show_undone"),
    "Help": ("general", "show_help"),
    "ConfigPath": ("config", "show_config_path"),
    "ConfigShow": ("config", "show_config_show"),
    "Message": ("general", "show_message"),
    "BalanceState": ("general", "show_message"),
    "ChatReply": ("general", "show_chat_reply"),
    "MigrationResult": ("general", "show_migration"),
    "CompletionText": ("general", "show_exactly"),
    "PresetSaved": ("presets", "show_preset_saved"),
    "PresetRemoved": ("presets", "show_preset_removed"),
    "PresetList": ("presets", "show_preset_list"),
    "PresetShow": ("presets", "show_preset"),
    "PresetExport": ("presets", "show_preset_export"),
    "PresetsImported": ("presets", "show_presets_imported"),
    "PresetInUse": ("presets", "show_preset_in_use"),
    "ChatExplained": ("presets", "show_chat_explained"),
    "EmbedResult": ("general", "show_exactly"),
}


UNLIMITED = 100_000  # columns: a width no table needs


def fitted_lines(first, parts: list, width: int, sep: str = "  ", indent: str = "      ") -> list:
    """rich Texts: `parts` `sep` apart after `first`; a part that would wrap starts a line of its
    own after `indent` (wrapped, it would go on at the left edge, in the middle of a word)."""
    from rich.text import Text

    lines, started = [first.copy()], False  # started: the line holds a part already
    for part in parts:
        if started and lines[-1].cell_len + len(sep) + part.cell_len > width:
            lines.append(Text(indent))
            started = False
        if started:
            lines[-1].append(sep)
        lines[-1].append_text(part)
        started = True
    return lines


def fits(table, out: Output) -> bool:
    """`fit_columns` on stdout's width."""
    return fit_columns(table, out.out, out.out.width)


def fit_columns(table, console, width: int) -> bool:
    """Give `table`'s columns widths that fit `width` with no word cut: each at least its
    longest word (a no-wrap column: its longest cell), the room left shared out to the columns
    that want more. False, and the table unchanged, when even those least widths do not fit.

    Rich would squeeze wrapping columns below their longest word and fold ids and URLs in the
    middle; fixed widths stop that."""
    options = console.options.update_width(UNLIMITED)
    try:  # rich's own per-column measure (private, but in every rich since 10)
        ranges = [table._measure_column(console, options, column) for column in table.columns]
        room = width - table._extra_width
    except AttributeError:  # a rich without it: fit only what fits at natural widths
        from rich.measure import Measurement

        return Measurement.get(console, options, table).maximum <= width
    most = [max(r.maximum, r.minimum) for r in ranges]
    # rich measures a no-wrap column's least width by its longest word, then cuts its cells
    # ("10,000.0 t"): such a column needs its longest cell whole
    least = [m if column.no_wrap else r.minimum
             for r, m, column in zip(ranges, most, table.columns)]
    if sum(least) > room:
        return False
    if sum(most) <= room:
        return True  # rich's own layout: every column at its natural width
    widths = list(least)
    spare = room - sum(least)
    wants = [m - n for m, n in zip(most, least)]
    total = sum(wants)
    for i, want in enumerate(wants):  # in proportion to how much more each would take
        share = min(want, spare * want // total) if total else 0
        widths[i] += share
    left = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: wants[i], reverse=True):
        if left <= 0:
            break
        more = min(left, most[i] - widths[i])
        widths[i] += more
        left -= more
    for index, (column, shown) in enumerate(zip(table.columns, widths)):
        column.width = max(1, shown - table._get_padding_width(index))
    return True


def show(result, out: Output) -> None:
    module, function = VIEWS[type(result).__name__]
    getattr(importlib.import_module(f"cli.views.{module}"), function)(result, out)


# result type name -> (module, function) giving a renderable of the result while it fills in
PROGRESS = {
    "CheckResult": ("models", "check_table"),
}


def progress(result):
    module, function = PROGRESS[type(result).__name__]
    return getattr(importlib.import_module(f"cli.views.{module}"), function)(result)

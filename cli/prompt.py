"""The REPL's prompt on a terminal: prompt_toolkit's session, with the history file, Tab
completion from the command table, several lines in one message, and Enter on only the first
words of a command showing the commands that may follow (the line stays, to be finished).

Only the interactive REPL imports this module: cli/repl.py reads a pipe line by line, without
prompt_toolkit. What may follow typed words, and when a message is still open, is decided in
cli/repl.py (`completions`, `group_usage`, `opens_block`: pure, tested without a terminal).
"""

from __future__ import annotations

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.filters import Condition, completion_is_selected
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings

from cli.history import MaskedFileHistory
from cli.output import Output
from cli.repl import CONTINUATION, completions, group_usage, opens_block
from registry.config.private_files import private_file, secure_data_dir

HISTORY_FILE = "history"


def prompt_session(app, output: Output) -> PromptSession:
    history = InMemoryHistory()
    try:
        history_path = private_file(secure_data_dir(app.config.data_dir) / HISTORY_FILE)
        history = MaskedFileHistory(history_path)
    except OSError as exc:
        output.warn(f"History is not saved: cannot create {app.config.data_dir} ({exc.strerror}).")
    return PromptSession(history=history, completer=CommandCompleter(app),
                         complete_while_typing=False, key_bindings=prompt_keys(app, output),
                         prompt_continuation=CONTINUATION)


def prompt_keys(app, output: Output) -> KeyBindings:
    """Enter on a completion in the menu takes that completion; it does not run the line yet
    (`/sess`, Tab, Enter gives `/session `, not the incomplete command). Enter inside an open
    triple-quoted message adds a line; Alt-Enter (Esc Enter) adds one anywhere. Enter on only a
    group's words (`/model`) prints the group's commands above the prompt and keeps the line."""
    keys = KeyBindings()
    open_block = Condition(lambda: opens_block(_buffer_text()))
    only_a_group = Condition(lambda: group_usage(app.table, _buffer_text().strip()) is not None)

    @keys.add("escape", "enter")
    @keys.add("enter", filter=open_block & ~completion_is_selected)
    def _new_line(event) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add("enter", filter=only_a_group & ~completion_is_selected)
    def _show_group(event) -> None:
        from prompt_toolkit.application import run_in_terminal

        usage = group_usage(app.table, event.current_buffer.text.strip()) or []

        def show() -> None:
            for line in usage:
                output.line(line)

        run_in_terminal(show)

    @keys.add("enter", filter=completion_is_selected)
    def _take_completion(event) -> None:
        buffer = event.current_buffer
        buffer.complete_state = None
        if not buffer.text.endswith(" "):
            buffer.insert_text(" ")

    return keys


def _buffer_text() -> str:
    from prompt_toolkit.application import get_app

    return get_app().current_buffer.text


class CommandCompleter(Completer):
    """Tab completion of command words, slot values, options and model ids, from the table."""

    def __init__(self, app):
        self.app = app

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if not text.startswith("/"):
            return
        words = text[1:].split()
        if text.endswith(" ") or not words:
            words.append("")
        current = words[-1]
        hints: dict[str, str] = {}  # a model name -> its hosts, shown beside it
        for candidate in sorted(set(completions(self.app, words[:-1], current, hints))):
            yield Completion(candidate, start_position=-len(current),
                             display_meta=hints.get(candidate))

"""The REPL's prompt on a terminal: prompt_toolkit's session, with the history file, Tab
completion from the command table, and Enter refused on only the first words of a command.

Only the interactive REPL imports this module: cli/repl.py reads a pipe line by line, without
prompt_toolkit. What may follow typed words is decided in cli/repl.py (`completions`,
`incomplete_hint`: pure, tested without a terminal).
"""

from __future__ import annotations

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.filters import completion_is_selected
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.validation import ValidationError, Validator

from cli.history import MaskedFileHistory
from cli.output import Output
from cli.repl import completions, incomplete_hint
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
                         complete_while_typing=False, key_bindings=completion_keys(),
                         validator=IncompleteCommand(app.table), validate_while_typing=False)


class IncompleteCommand(Validator):
    """Enter on only the first words of a command (`/session`) does not run it: the line stays,
    and the words that may follow are shown under it."""

    def __init__(self, table):
        self.table = table

    def validate(self, document) -> None:
        hint = incomplete_hint(self.table, document.text)
        if hint:
            raise ValidationError(message=hint, cursor_position=len(document.text))


def completion_keys() -> KeyBindings:
    """Enter on a completion in the menu takes that completion; it does not run the line yet
    (`/sess`, Tab, Enter gives `/session `, not the incomplete command)."""
    keys = KeyBindings()

    @keys.add("enter", filter=completion_is_selected)
    def _take_completion(event) -> None:
        buffer = event.current_buffer
        buffer.complete_state = None
        if not buffer.text.endswith(" "):
            buffer.insert_text(" ")

    return keys


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
        for candidate in sorted(set(completions(self.app, words[:-1], current))):
            yield Completion(candidate, start_position=-len(current))

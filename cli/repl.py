"""The interactive loop: banner, prompt with history and completion, slash commands, chat.

A line starting with '/' is a command from the table; anything else goes to the `chat` command
(agent/commands/chat.py), whose `needs="chat"` switches it off with the router's warning when no
model can answer. Nothing a model or Redis does ends the loop: only /quit, /exit and Ctrl-D do.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator

from cli import banner, warmup
from agent.commands.base import REPL, Args, LeaveRepl, Slot
from cli.dispatch import run_in_repl, show_repl_error
from cli.output import Output
from cli.terminal_face import TerminalFace
from registry.errors import AiCliError

PROMPT = "> "
HISTORY_FILE = "history"
CHAT_WORDS = ("chat",)


def run_repl(app, face: TerminalFace, version: str) -> int:
    app.in_repl = True
    output = face.output
    banner.render(output, banner.banner_lines(banner.gather(app, version)))
    notice = app.migrate_on_start()
    if notice:
        output.info(notice)
    for line in _read_lines(app, output):
        try:
            handle_line(app, face, line)
        except LeaveRepl:
            break
        except KeyboardInterrupt:
            output.notice("Interrupted.")
    return 0


def handle_line(app, face: TerminalFace, line: str) -> None:
    text = line.strip()
    if not text:
        return
    try:
        if text.startswith("/"):
            invocation = app.table.parse_line(text)
            command, args = invocation.command, invocation.args
        else:
            command = next((c for c in app.table.commands if c.words == CHAT_WORDS), None)
            if command is None:
                reason = app.feature_off_reason("chat")
                face.output.warn((reason or "Chat is not part of this build.").removeprefix("⚠ "))
                return
            args = Args({command.args[-1].name: text}) if command.args else Args()
    except AiCliError as exc:
        show_repl_error(face.output, exc)
        return
    run_in_repl(app, face, command, args)
    for message in app.registry_messages():
        face.output.info(message)


def on_terminal(output: Output) -> bool:
    """Whether the REPL reads a person's typing (a prompt), rather than lines from a pipe."""
    return sys.stdin.isatty() and output.stdout.isatty()


def _read_lines(app, output: Output) -> Iterator[str]:
    """Lines from a prompt_toolkit prompt on a terminal, else plain lines from stdin."""
    if not on_terminal(output):
        for line in sys.stdin:
            yield line
        return
    session = _prompt_session(app, output)
    warm_up = warmup.when_drawn(app)  # LangChain imports while the user types (cli/warmup.py)
    while True:
        try:
            yield session.prompt(PROMPT, pre_run=warm_up)
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line, as in a shell
        except EOFError:
            output.line()
            return


def _prompt_session(app, output: Output):
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    from cli.history import MaskedFileHistory

    history = InMemoryHistory()
    try:
        from registry.config.private_files import private_file, secure_data_dir

        history_path = private_file(secure_data_dir(app.config.data_dir) / HISTORY_FILE)
        history = MaskedFileHistory(history_path)
    except OSError as exc:
        output.warn(f"History is not saved: cannot create {app.config.data_dir} ({exc.strerror}).")
    return PromptSession(history=history, completer=CommandCompleter(app),
                         complete_while_typing=False, key_bindings=_completion_keys(),
                         validator=_IncompleteCommand(app.table), validate_while_typing=False)


def _validator_base():
    from prompt_toolkit.validation import Validator

    return Validator


class _IncompleteCommand(_validator_base()):
    """Enter on only the first words of a command (`/session`) does not run it: the line stays,
    and the words that may follow are shown under it."""

    def __init__(self, table):
        self.table = table

    def validate(self, document) -> None:
        from prompt_toolkit.validation import ValidationError

        hint = incomplete_hint(self.table, document.text)
        if hint:
            raise ValidationError(message=hint, cursor_position=len(document.text))


def incomplete_hint(table, text: str) -> str | None:
    """For a line that names only a group (`/session`, `/model general`): what may follow."""
    if not text.startswith("/"):
        return None
    words = text[1:].split()
    if not words or table.find(words, REPL) is not None:
        return None
    try:
        group = table.group(words, REPL)
    except AiCliError:
        return None
    if not group:
        return None
    following = []
    for command in group:
        word = command.words[len(words)] if len(command.words) > len(words) else None
        shown = word.usage() if isinstance(word, Slot) else word
        if shown and shown not in following:
            following.append(shown)
    return f"/{' '.join(words)} needs more: {' | '.join(following)} (Tab completes)"


def _completion_keys():
    """Enter on a completion in the menu takes that completion; it does not run the line yet
    (`/sess`, Tab, Enter gives `/session `, not the incomplete command)."""
    from prompt_toolkit.filters import completion_is_selected
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter", filter=completion_is_selected)
    def _take_completion(event) -> None:
        buffer = event.current_buffer
        buffer.complete_state = None
        if not buffer.text.endswith(" "):
            buffer.insert_text(" ")

    return keys


def _completer_base():
    from prompt_toolkit.completion import Completer

    return Completer


class CommandCompleter(_completer_base()):
    """Tab completion of command words, slot values, options and model ids, from the table."""

    def __init__(self, app):
        self.app = app

    def get_completions(self, document, complete_event):
        from prompt_toolkit.completion import Completion

        text = document.text_before_cursor
        if not text.startswith("/"):
            return
        words = text[1:].split()
        if text.endswith(" ") or not words:
            words.append("")
        current = words[-1]
        for candidate in sorted(set(completions(self.app, words[:-1], current))):
            yield Completion(candidate, start_position=-len(current))


def completions(app, before: list[str], current: str) -> Iterable[str]:
    """What may follow the words `before` and starts with `current`."""
    for command in app.table.for_face(REPL):
        for form in (command.words, *command.aliases):
            yield from _form_completions(app, command, form, before, current)


def _form_completions(app, command, form, before, current) -> Iterable[str]:
    for word, typed in zip(form, before):
        if isinstance(word, Slot) and typed.lower() not in word.choices:
            return
        if isinstance(word, str) and typed.lower() != word:
            return
    n = len(before)
    if n < len(form):
        word = form[n]
        choices = word.choices if isinstance(word, Slot) else (word,)
        yield from (c for c in choices if c.startswith(current.lower()))
        return
    if current.startswith("-"):
        yield from (o.flag for o in command.options if o.flag.startswith(current))
        return
    index = len([t for t in before[len(form):] if not t.startswith("-")])
    wanted = command.args[index].complete if index < len(command.args) else None
    if wanted == "model_id":
        model_type = next((t.lower() for w, t in zip(form, before) if isinstance(w, Slot)), None)
        yield from (i for i in _model_ids(app, model_type) if i.startswith(current))
    elif wanted == "session_id":
        yield from (i for i in _session_ids(app) if i.startswith(current))


def _session_ids(app) -> list[str]:
    try:
        from agent.commands.session import session_store

        return [s.session_id for s in session_store(app).list()]
    except AiCliError:
        return []  # Redis is down: nothing to offer, and no error while typing


def _model_ids(app, model_type: str | None) -> list[str]:
    try:
        return [m.model_id for m in app.registry.list_models(model_type)]
    except AiCliError:
        return []  # Redis is down: nothing to offer, and no error while typing

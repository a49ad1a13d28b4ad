"""The interactive loop: banner, prompt (cli/prompt.py on a terminal; a pipe is read line by
line), slash commands, chat.

A line starting with '/' is a command from the table; anything else goes to the `chat` command
(agent/commands/chat.py), whose `needs="chat"` switches it off with the router's warning when no
model can answer. Nothing a model or Redis does ends the loop: only /quit, /exit and Ctrl-D do.

Several lines make one message between `\"\"\"` and `\"\"\"` (as in `ollama run`): on a terminal
Enter adds a line while the block is open, and Alt-Enter (Esc Enter) adds one anywhere; from a
pipe the lines up to the closing `\"\"\"` are read as one message. `/edit` writes one in $EDITOR.
`--help` (or `-h`) is `/help`; only the first words of a command (`/model`) show the commands
that begin with them.
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
CONTINUATION = "... "  # the prompt of a multi-line message's further lines
CHAT_WORDS = ("chat",)
BLOCK = '"""'
HELP_WORDS = ("--help", "-h")


def opens_block(text: str) -> bool:
    """Whether `text` starts a `\"\"\"` message that is not closed yet. Pure."""
    body = text.lstrip()
    if not body.startswith(BLOCK):
        return False
    return not body[len(BLOCK):].rstrip().endswith(BLOCK)


def block_message(text: str) -> str:
    """The message inside triple quotes (either end may be missing). Pure."""
    body = text.strip()
    body = body[len(BLOCK):] if body.startswith(BLOCK) else body
    body = body[:-len(BLOCK)] if body.endswith(BLOCK) else body
    lines = body.split("\n")
    if len(lines) > 1 and not lines[0].strip():
        lines = lines[1:]  # the opening line held only the quotes
    else:
        lines[0] = lines[0].lstrip()
    return "\n".join(lines).rstrip()  # the lines' own indentation kept


def read_blocks(lines: Iterable[str]) -> Iterator[str]:
    """Lines from a pipe, with the lines of a `\"\"\"` message joined into one. A block still open
    at the end is given as it is (handle_line says it was not closed). Pure."""
    block: list[str] | None = None
    for line in lines:
        line = line.rstrip("\n")
        if block is not None:
            block.append(line)
            if line.rstrip().endswith(BLOCK):
                yield "\n".join(block)
                block = None
            continue
        if opens_block(line):
            block = [line]
            continue
        yield line
    if block is not None:
        yield "\n".join(block)


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
        if output.reader_left:
            break
    return 0


def handle_line(app, face: TerminalFace, line: str) -> None:
    text = line.strip()
    if not text:
        return
    if text in HELP_WORDS:
        text = "/help"
    if opens_block(text):
        face.output.warn('The message opened with """ was not closed; nothing was sent. '
                         'End it with """ on its last line.')
        return
    if text.startswith(BLOCK):
        text = block_message(text)
        if not text.strip():
            return
        send_chat(app, face, text)
        return
    usage = group_usage(app.table, text)
    if usage is not None:
        for shown in usage:
            face.output.line(shown)
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


def send_chat(app, face: TerminalFace, message: str) -> None:
    """`message` to the `chat` command, as a line that is not a command is sent."""
    command = next((c for c in app.table.commands if c.words == CHAT_WORDS), None)
    if command is None:
        reason = app.feature_off_reason("chat")
        face.output.warn((reason or "Chat is not part of this build.").removeprefix("⚠ "))
        return
    run_in_repl(app, face, command, Args({command.args[-1].name: message}))
    for shown in app.registry_messages():
        face.output.info(shown)


def group_usage(table, text: str) -> list[str] | None:
    """For only the first words of a command (`/model`, `/session model`): what may follow, then
    each command of the group with its help, as `ai-cli model --help` lists them. Pure."""
    hint = incomplete_hint(table, text)
    if hint is None:
        return None
    shown = [hint]
    for command in table.group(text[1:].split(), REPL):
        shown.append(f"  {command.usage('/')}")
        shown.append(f"      {command.help}")
    return shown


def on_terminal(output: Output) -> bool:
    """Whether the REPL reads a person's typing (a prompt), rather than lines from a pipe."""
    return sys.stdin.isatty() and output.stdout.isatty()


def _read_lines(app, output: Output) -> Iterator[str]:
    """Lines from a prompt_toolkit prompt on a terminal, else plain lines from stdin."""
    if not on_terminal(output):
        yield from read_blocks(sys.stdin)
        return
    from cli.prompt import prompt_session  # prompt_toolkit: on a terminal only

    session = prompt_session(app, output)
    warm_up = warmup.when_drawn(app)  # LangChain imports while the user types (cli/warmup.py)
    while True:
        try:
            yield session.prompt(PROMPT, pre_run=warm_up)
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line, as in a shell
        except EOFError:
            output.line()
            return


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


def completions(app, before: list[str], current: str, hints: dict | None = None) -> Iterable[str]:
    """What may follow the words `before` and starts with `current`. `hints`, when given, gets
    a few words to show beside a candidate (a model name's hosts)."""
    for command in app.table.for_face(REPL):
        for form in (command.words, *command.aliases):
            yield from _form_completions(app, command, form, before, current, hints)


def _form_completions(app, command, form, before, current, hints=None) -> Iterable[str]:
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
        choices = _model_choices(app, model_type)
        if hints is not None:
            hints.update(choices)
        yield from (i for i in choices if i.lower().startswith(current.lower()))
    elif wanted == "session_id":
        yield from (i for i in _session_ids(app) if i.startswith(current))
    elif wanted == "preset":
        yield from (i for i in _preset_names(app) if i.startswith(current))


def _preset_names(app) -> list[str]:
    try:
        from agent.commands.preset import preset_store

        return [p.name for p in preset_store(app).list()]
    except AiCliError:
        return []  # Redis is down: nothing to offer, and no error while typing


def _session_ids(app) -> list[str]:
    try:
        from agent.commands.session import session_store

        return [s.session_id for s in session_store(app).list()]
    except AiCliError:
        return []  # Redis is down: nothing to offer, and no error while typing


def _model_choices(app, model_type: str | None) -> dict[str, str]:
    try:
        models = app.registry.list_models(model_type)
    except AiCliError:
        return {}  # Redis is down: nothing to offer, and no error while typing
    from registry.lookup import name_choices

    return name_choices(models)

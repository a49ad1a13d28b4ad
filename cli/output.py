"""All terminal output: answers and JSON to stdout, notices, warnings and spinners to stderr.

Rich decides colour by itself: none when `NO_COLOR` is set or the stream is not a terminal.
Every method here that takes `text` treats it as plain text (never as rich markup), so a string
from a user, a model or a server can be passed as is. Code that builds markup itself uses `esc`.

On a terminal, everything rendered or written here passes `cli.inert.inert` (one place for
every output path: lines, tables, markdown, live answers, notices, errors), so control characters
in outside text are shown, never obeyed. Piped output is not touched: it stays byte-exact.

rich is imported when something is first shown through it, not with this module: `ai-cli model
list --json` and other piped, JSON-only commands never load it (docs/STARTUP.md).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any, Iterator

from cli.inert import inert, inert_json

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def esc(text: str) -> str:
    """The one name for escaping untrusted strings into markup (`rich.markup.escape`)."""
    from rich.markup import escape

    return escape(text)

OK, WARN, INFO, FAIL = "✓", "⚠", "ℹ", "✗"


class Output:
    def __init__(self, stdout: IO[str] | None = None, stderr: IO[str] | None = None):
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.face: str | None = None  # "repl" | "shell": commands named in that form (cli.py)
        self.reader_left = False  # stdout's reader went away (`ai-cli ... | head`)

    @functools.cached_property
    def out(self) -> "Console":
        return _console(self.stdout)

    @functools.cached_property
    def err(self) -> "Console":
        return _console(self.stderr)

    @property
    def is_terminal(self) -> bool:
        if not _may_be_terminal(self.stdout):
            return False
        return self.out.is_terminal

    # --- stdout: answers and results ------------------------------------------------------

    def line(self, text: str = "", style: str | None = None) -> None:
        from rich.text import Text

        self.out.print(Text(self.form(text), style=style or ""), soft_wrap=_soft(self.out))

    def print(self, *renderables: RenderableType, **kwargs) -> None:
        """Rich renderables or markup the caller built with `esc` around every outside string."""
        self.out.print(*renderables, **kwargs)

    def json(self, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
        self.stdout.write(inert_json(text) if self.is_terminal else text)
        self.stdout.flush()

    def write(self, chunk: str) -> None:
        """Streamed answer text, as it arrives (byte-exact unless stdout is a terminal)."""
        self.stdout.write(inert(chunk) if self.is_terminal else chunk)
        self.stdout.flush()

    # --- stderr: everything about the answer ----------------------------------------------

    def notice(self, text: str) -> None:
        from rich.text import Text

        self.err.print(Text(self.form(text), style="dim"), soft_wrap=_soft(self.err))

    def info(self, text: str) -> None:
        from rich.text import Text

        self.err.print(Text(_marked(INFO, self.form(text)), style="cyan"), soft_wrap=_soft(self.err))

    def warn(self, text: str) -> None:
        from rich.text import Text

        self.err.print(Text(_marked(WARN, self.form(text)), style="yellow"),
                       soft_wrap=_soft(self.err))

    def error(self, text: str) -> None:
        # A message that carries its own mark (the seed's "⚠ No general model available...")
        # keeps it: one mark a line.
        from rich.text import Text

        self.err.print(Text(_marked(FAIL, self.form(text)), style="bold red"),
                       soft_wrap=_soft(self.err))

    def form(self, text: str) -> str:
        """`text` with the commands it names in this face's form (cli/command_forms.py)."""
        from cli.command_forms import in_form

        return in_form(text, self.face)

    @contextlib.contextmanager
    def spinner(self, text: str) -> Iterator[None]:
        """A spinner on stderr while a slow step runs; a plain line when stderr is no terminal."""
        from rich.text import Text

        if self.err.is_terminal:
            with self.err.status(Text(text), spinner="dots"):
                yield
        else:
            self.err.print(Text(text), soft_wrap=True)
            yield


def _soft(console: Console) -> bool:
    """Terminals wrap at word boundaries (rich); piped text keeps its lines whole."""
    return not console.is_terminal


def _marked(mark: str, text: str) -> str:
    return text if text[:1] in (OK, WARN, INFO, FAIL) else f"{mark} {text}"


PIPED_WIDTH = 200  # piped output has no width; 80 would cut ids and URLs in tables to "…"


def _may_be_terminal(stream: IO[str]) -> bool:
    """False when rich would surely say "not a terminal" (a pipe, a file, no forcing variable),
    decided without importing rich."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _console(stream: IO[str]) -> "Console":
    from cli.inert_console import InertConsole

    console = InertConsole(file=stream, highlight=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    return console


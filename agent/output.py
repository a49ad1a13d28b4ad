"""All terminal output: answers and JSON to stdout, notices, warnings and spinners to stderr.

Rich decides colour by itself: none when `NO_COLOR` is set or the stream is not a terminal.
Every method here that takes `text` treats it as plain text (never as rich markup), so a string
from a user, a model or a server can be passed as is. Code that builds markup itself uses `esc`.

On a terminal, everything rendered or written here passes `agent.terminal.inert` (one place for
every output path: lines, tables, markdown, live answers, notices, errors), so control characters
in outside text are shown, never obeyed. Piped output is not touched: it stays byte-exact.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import IO, Any, Iterator

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.segment import Segment
from rich.text import Span, Text

from agent.terminal import inert, inert_json, unsafe_spans

esc = escape  # the one name for escaping untrusted strings into markup

OK, WARN, INFO, FAIL = "✓", "⚠", "ℹ", "✗"


class Output:
    def __init__(self, stdout: IO[str] | None = None, stderr: IO[str] | None = None):
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.out = _console(self.stdout)
        self.err = _console(self.stderr)
        self.face: str | None = None  # "repl" | "shell": commands named in that form (cli.py)

    @property
    def is_terminal(self) -> bool:
        return self.out.is_terminal

    # --- stdout: answers and results ------------------------------------------------------

    def line(self, text: str = "", style: str | None = None) -> None:
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
        self.err.print(Text(self.form(text), style="dim"), soft_wrap=_soft(self.err))

    def info(self, text: str) -> None:
        self.err.print(Text(_marked(INFO, self.form(text)), style="cyan"), soft_wrap=_soft(self.err))

    def warn(self, text: str) -> None:
        self.err.print(Text(_marked(WARN, self.form(text)), style="yellow"),
                       soft_wrap=_soft(self.err))

    def error(self, text: str) -> None:
        # A message that carries its own mark (the seed's "⚠ No general model available...")
        # keeps it: one mark a line.
        self.err.print(Text(_marked(FAIL, self.form(text)), style="bold red"),
                       soft_wrap=_soft(self.err))

    def form(self, text: str) -> str:
        """`text` with the commands it names in this face's form (agent/command_forms.py)."""
        from agent.command_forms import in_form

        return in_form(text, self.face)

    @contextlib.contextmanager
    def spinner(self, text: str) -> Iterator[None]:
        """A spinner on stderr while a slow step runs; a plain line when stderr is no terminal."""
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


class InertConsole(Console):
    """A rich Console that, on a terminal, renders the text of every segment through `inert`.

    Rich's own escape codes (styles, cursor moves of Live and spinners) are added after this
    step or travel as control segments, so they are untouched; only content is made inert.
    """

    def render(self, renderable, options=None):
        if not self.is_terminal:
            yield from super().render(renderable, options)
            return
        if isinstance(renderable, str):  # markup parsed as rich would, then made inert
            given = options or self.options
            renderable = self.render_str(renderable, highlight=given.highlight,
                                         markup=given.markup)
        if isinstance(renderable, Text):  # before layout, so widths count what is shown
            renderable = _inert_text(renderable)
        for segment in super().render(renderable, options):  # and whatever else yields text
            if segment.control is None and segment.text:
                text = inert(segment.text)
                if text is not segment.text:
                    segment = Segment(text, segment.style)
            yield segment


def _inert_text(text: Text) -> Text:
    """`text` with `inert` applied, its styles kept on the characters around and in place."""
    spans = unsafe_spans(text.plain)
    if not spans:
        return text
    result = text.blank_copy()
    for piece in text.divide(sorted({i for span in spans for i in span})):
        shown = inert(piece.plain)
        if shown is not piece.plain:
            styles = [Span(0, len(shown), s.style) for s in piece.spans]
            piece = Text(shown, style=piece.style, spans=styles)
        result.append_text(piece)
    return result


def _console(stream: IO[str]) -> Console:
    console = InertConsole(file=stream, highlight=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    return console


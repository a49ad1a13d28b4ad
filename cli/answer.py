"""How a streamed answer shows in a terminal: live markdown, or the raw text when stdout is piped,
with a spinner on stderr until the first piece arrives.

The engine reports the answer as `Token` events (agent/chat.py); the terminal face
(cli/terminal_face.py) feeds them into an `AnswerView` and closes it when the answer ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

if TYPE_CHECKING:
    from cli.output import Output
    from cli.terminal_face import AnswerMode

REFRESH_PER_SECOND = 8
ECHO_ROOM = 3  # columns kept free while streaming for the terminal's "^C" echo
TAIL_SOURCE_LINES = 2  # source lines parsed per screen line while streaming (cli/markdown.py)


# --- rendering the stream --------------------------------------------------------------------


class _MarkdownTail:
    """Markdown that shows only its last screenful while streaming (Live cannot scroll back)."""

    def __init__(self) -> None:
        self.text = ""
        self.complete = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from cli.markdown import ChatMarkdown, tail_source  # a pipe gets the raw text

        source, height = self.text, max(1, console.size.height - 1)
        if not self.complete:
            # Stop short of the last columns while streaming: a full-width line leaves the cursor
            # at the edge, where the terminal's echo of Ctrl-C ("^C") wraps onto a new line; Live
            # then moves up one line too few and the answer's first line shows twice.
            options = options.update_width(max(1, options.max_width - ECHO_ROOM))
            # Only the end is shown: parse only the end (a source line is a rendered line or more).
            source = tail_source(source, TAIL_SOURCE_LINES * height)
        lines = console.render_lines(ChatMarkdown(source), options, pad=False)
        if not self.complete:
            lines = lines[-height:]
        for i, line in enumerate(lines):
            shown = _without_trailing_spaces(line)
            if i == len(lines) - 1 and not shown:
                shown = [Segment(" ")]  # a last blank line still counts as a line
            yield from shown
            if i < len(lines) - 1:
                yield Segment.line()


def _without_trailing_spaces(line: list[Segment]) -> list[Segment]:
    """A rendered line without the spaces rich pads it with to the width: copied from the
    terminal, an answer's lines end where their text ends."""
    line = list(line)
    while line and line[-1].control is None and not line[-1].text.strip() and not (
            line[-1].style and line[-1].style.bgcolor):
        line.pop()
    if line and line[-1].control is None and not (line[-1].style and line[-1].style.bgcolor):
        last = line[-1]
        line[-1] = Segment(last.text.rstrip(" "), last.style, last.control)
    return line


class AnswerView:
    """Where streamed answer text goes: rich Live markdown on a terminal, raw text otherwise;
    `mode` (cli/terminal_face.py) may ask for the raw text on a terminal too, for the answer
    only once it is whole, or for its first code block only."""

    def __init__(self, output: "Output", quiet: bool = False, mode: "AnswerMode | None" = None):
        from cli.terminal_face import AnswerMode

        self.output = output
        self.quiet = quiet  # --json: collect only, print nothing while streaming
        self.mode = mode or AnswerMode()
        self.parts: list[str] = []
        self._live = None
        self._tail = _MarkdownTail()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        if self.quiet or self.mode.holds:
            return
        if self.mode.raw or not self.output.is_terminal:
            self.output.write(piece)
            return
        self._tail.text = self.text
        if self._live is None:
            if not self._tail.text.strip():
                return  # blank so far ("\n\n" after a model's thinking): paint the first word
            from rich.live import Live

            self._live = Live(self._tail, console=self.output.out, auto_refresh=True,
                              refresh_per_second=REFRESH_PER_SECOND, vertical_overflow="visible")
            self._live.start(refresh=True)  # the first chunk now, not on the next tick

    def close(self) -> None:
        if self.mode.holds and not self.quiet and self.parts:
            self._show_whole()
            return
        if self._live is not None:
            self._tail.complete = True
            self._live.update(self._tail, refresh=False)
            self._live.stop()
            self._live = None
        elif self.parts and not self.quiet and (self.mode.raw or not self.output.is_terminal):
            if not self.text.endswith("\n"):
                self.output.write("\n")

    def _show_whole(self) -> None:
        """The answer once it is whole (`--no-stream`, `-x`)."""
        if self.mode.extract:
            text = first_code_block(self.text)
            text = self.text if text is None else text
        else:
            text = self.text
        if self.mode.extract or self.mode.raw or not self.output.is_terminal:
            self.output.write(text if text.endswith("\n") else text + "\n")
            return
        whole = _MarkdownTail()  # as the streamed answer's last paint: lines not padded
        whole.text, whole.complete = text, True
        self.output.print(whole)
        self.output.print()  # the end of its last line


def first_code_block(text: str) -> str | None:
    """The content of the first fenced code block (``` or ~~~, any info string), as `llm -x`
    finds it; an unclosed fence runs to the end. None when there is none. Pure."""
    lines = text.split("\n")
    for start, line in enumerate(lines):
        stripped = line.lstrip()
        fence = stripped[:3]
        if fence not in ("```", "~~~"):
            continue
        marker = fence[0] * (len(stripped) - len(stripped.lstrip(fence[0])))
        indent = len(line) - len(stripped)
        body: list[str] = []
        for inner in lines[start + 1:]:
            if inner.strip().startswith(marker) and not inner.strip().strip(fence[0]):
                break
            body.append(inner[indent:] if inner[:indent].isspace() else inner)
        return "\n".join(body) + "\n" if body else ""
    return None


class Spinner:
    """A spinner on stderr while a slow step runs (terminal only), stopped by `done`."""

    def __init__(self, output: "Output", text: str, quiet: bool = False):
        self._status = None
        if not quiet and output.err.is_terminal:
            # Text, not markup: a string would be parsed for markup and emoji codes, and the
            # first parse imports rich's emoji table while the user waits for the answer.
            self._status = output.err.status(Text(text), spinner="dots")
            self._status.start()

    def done(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

"""The rich Console of `cli.output`: on a terminal, every segment's text passes `inert`.

A module of its own so that importing `cli.output` does not import rich (docs/STARTUP.md).
"""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.text import Span, Text

from cli.inert import inert, unsafe_spans


class InertConsole(Console):
    """A rich Console that, on a terminal, renders the text of every segment through `inert`.

    Rich's own escape codes (styles, cursor moves of Live and spinners) are added after this
    step or travel as control segments, so they are untouched; only content is made inert.
    """

    def on_broken_pipe(self) -> None:
        """stdout's reader went away: rich would exit with 1 here; cli/main.py decides instead
        (quietly, with the code a shell gives `yes | head`)."""
        raise BrokenPipeError

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

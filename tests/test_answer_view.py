"""The streamed answer on a terminal: the first chunk is painted when it arrives, not on Live's
next refresh tick (issue 15: Enter to first token); the rest at the normal rate; the finished
answer as markdown. A terminal here is a text buffer that says it is one."""

from __future__ import annotations

import io

from agent.chat import AnswerView
from agent.output import Output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_first_chunk_is_on_the_screen_when_add_returns():
    screen = Terminal()
    view = AnswerView(Output(stdout=screen, stderr=Terminal()))
    view.add("Zebras ")
    # Live's own refresh thread first paints 1/8 s after its start: this is the start's paint.
    assert "Zebras" in screen.getvalue()
    view.add("graze **quietly**.")
    view.close()
    shown = screen.getvalue()
    assert "quietly" in shown and "**" not in shown  # the whole answer, rendered as markdown
    assert view.text == "Zebras graze **quietly**."


def test_leading_blank_chunks_wait_and_the_first_word_is_painted_at_once():
    screen = Terminal()
    view = AnswerView(Output(stdout=screen, stderr=Terminal()))
    view.add("\n\n")  # what some models send first (after thinking): nothing to see yet
    view.add("Zebras")
    assert "Zebras" in screen.getvalue()
    view.close()
    assert view.text == "\n\nZebras"


def test_a_blank_answer_leaves_the_screen_blank():
    screen = Terminal()
    view = AnswerView(Output(stdout=screen, stderr=Terminal()))
    view.add("\n")
    view.close()
    assert screen.getvalue().strip() == ""
    assert view.text == "\n"

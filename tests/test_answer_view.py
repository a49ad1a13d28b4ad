"""The streamed answer on a terminal: the first chunk is painted when it arrives, not on Live's
next refresh tick (what Enter to the first word costs); the rest at the normal rate; the finished
answer as markdown. A terminal here is a text buffer that says it is one."""

from __future__ import annotations

import io

from rich.console import Console

from cli.answer import ECHO_ROOM, AnswerView, _MarkdownTail
from cli.markdown import ChatMarkdown, tail_source
from cli.output import Output


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


# --- the streamed tail parses only the end of the answer ------------------------------------

LONG_ANSWER = "\n".join(
    f"## Part {i}\n\nA paragraph about part {i} with **bold** and `code`, long enough to wrap "
    f"once or twice on a narrow terminal, line one.\nAnd its second line.\n\n"
    f"- item {i}.1\n- item {i}.2\n  continued\n\n1. first\n2. second\n\n"
    f"```python\ndef part_{i}():\n\n    return {i}\n```\n\n"
    f"| name | value |\n| --- | --- |\n| part | {i} |\n"
    for i in range(12)
)


def plain(lines) -> list[str]:
    return ["".join(segment.text for segment in line).rstrip() for line in lines]


def test_the_streamed_tail_shows_what_the_whole_answer_would_end_with():
    height, width = 24, 70
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None)
    narrower = console.options.update_width(width - ECHO_ROOM)
    lines = LONG_ANSWER.split("\n")
    for end in range(40, len(lines), 9):
        text = "\n".join(lines[:end])
        tail = _MarkdownTail()
        tail.text = text
        whole = console.render_lines(ChatMarkdown(text), narrower, pad=False)[-(height - 1):]
        assert plain(console.render_lines(tail, console.options, pad=False)) == plain(whole), end
    assert len(tail_source(LONG_ANSWER, 2 * height)) < len(LONG_ANSWER) / 4  # only the end parsed


def test_tail_source_cuts_at_a_block_boundary():
    text = "intro\n\nfirst\nsecond\n\nthird\nfourth\nfifth"
    assert tail_source(text, 3) == "third\nfourth\nfifth"
    # at least 4 lines: the boundary before those
    assert tail_source(text, 4) == "first\nsecond\n\nthird\nfourth\nfifth"
    assert tail_source(text, 7) == text  # no boundary 7 lines up or earlier
    assert tail_source(text, 20) == text  # short: whole
    assert tail_source("one\nlong\nparagraph\nonly", 2) == "one\nlong\nparagraph\nonly"


def test_tail_source_never_starts_at_an_indented_line():
    text = "- item\n\n    indented code or continuation\n    more\n\nafter\nend"
    assert tail_source(text, 4) == "- item\n\n    indented code or continuation\n    more\n\nafter\nend"
    assert tail_source(text, 2) == "after\nend"


def test_tail_source_reopens_a_fence_it_cuts_into():
    code = "\n".join(f"line {i}" for i in range(50))
    text = f"text\n\n```python\n{code}\n"
    assert tail_source(text, 5) == "```python\n" + "\n".join(text.split("\n")[-5:])
    closed = f"text\n\n~~~\n{code}\n~~~\nafter the fence\nand more\n"
    assert tail_source(closed, 3) == "after the fence\nand more\n"  # a closing fence ends a block
    blank_inside = "```\na\n\nb\nc\nd\n```"
    assert tail_source(blank_inside, 4) == "```\nb\nc\nd\n```"  # a blank line in code: no boundary


def test_while_streaming_only_the_end_is_parsed():
    # The one place the difference shows: a reference link defined far above the end is typed
    # as is while streaming (its definition was not parsed), and rendered once complete.
    text = "[docs]: https://example.invalid/docs\n\n" + LONG_ANSWER + "\nsee [the docs][docs]\n"
    console = Console(file=io.StringIO(), width=70, height=24, color_system=None)
    tail = _MarkdownTail()
    tail.text = text
    assert plain(console.render_lines(tail, console.options, pad=False))[-1] == "see [the docs][docs]"
    tail.complete = True
    assert plain(console.render_lines(tail, console.options, pad=False))[-1] == (
        "see the docs (https://example.invalid/docs)")

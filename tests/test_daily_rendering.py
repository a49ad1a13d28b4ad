"""Answers shown whole in a terminal (cli/markdown.py, cli/answer.py): links keep their URL, code
blocks are the code, tables never cut a cell, and the answer modes `-r`, `--no-stream`, `-x`.
A terminal here is a text buffer that says it is one (as tests/test_answer_view.py); the real
pseudo-terminal runs are in tests/test_daily_screens.py."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from cli.answer import AnswerView, first_code_block
from cli.main import split_answer_flags
from cli.markdown import ChatMarkdown
from cli.output import Output
from cli.terminal_face import AnswerMode


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def rendered(markdown: str, width: int) -> list[str]:
    console = Console(width=width, force_terminal=True, color_system=None)
    with console.capture() as capture:
        console.print(ChatMarkdown(markdown))
    return [line.rstrip() for line in capture.get().splitlines()]


def test_a_link_keeps_its_url_and_a_bare_url_shows_once():
    lines = rendered("See [the docs](https://example.com/docs) or <https://x.org/a>.", 80)
    assert lines[0] == "See the docs (https://example.com/docs) or https://x.org/a."
    image = rendered("![a cat](http://127.0.0.1/cat.png)", 80)
    assert image[0] == "a cat (http://127.0.0.1/cat.png)"


def test_a_code_block_is_the_code_with_nothing_added():
    code = "def f(x):\n    return x + 1\n\n\nclass A:\n    pass"
    for width in (60, 120):
        lines = rendered(f"Here:\n\n```python\n{code}\n```\n\nDone.", width)
        start = lines.index("def f(x):")
        assert lines[start:start + 6] == code.split("\n")  # no leading space, no padding
        indented = rendered(f"Text.\n\n    {code.replace(chr(10), chr(10) + '    ')}\n", width)
        assert "def f(x):" in indented and "    return x + 1" in indented


TABLE = ("| model | host | id |\n| --- | --- | --- |\n"
         "| llama3.1:8b-instruct-q4_K_M | http://gpu-box-in-the-basement.lan:11434 | "
         "model_1234abcd |\n| mistral | http://127.0.0.1:11434 | model_99990000 |\n")
CELLS = ("llama3.1:8b-instruct-q4_K_M", "http://gpu-box-in-the-basement.lan:11434",
         "model_1234abcd", "mistral", "http://127.0.0.1:11434", "model_99990000")


@pytest.mark.parametrize("width", [60, 80, 100, 120, 130])
def test_a_table_never_cuts_a_cell(width):
    lines = rendered(TABLE, width)
    text = "\n".join(lines)
    assert all(cell in text for cell in CELLS), text  # each cell whole on one line
    assert "…" not in text and all(len(line) <= width for line in lines)
    if width < 100:  # narrower than the longest words need: one `header: value` line each
        assert "model: llama3.1:8b-instruct-q4_K_M" in lines
        assert "host: http://gpu-box-in-the-basement.lan:11434" in lines
    else:
        assert any(line.split() == ["model", "host", "id"] for line in lines)


def test_a_narrow_table_that_fits_wraps_its_words_without_cutting():
    lines = rendered("| a | b |\n|---|---|\n| some words that can wrap | more words |\n", 30)
    assert "…" not in "".join(lines) and any("some words" in line for line in lines)


def test_first_code_block_as_llm_extract():
    answer = "Try this:\n\n```python\nprint(1)\n    x = 2\n```\n\nor\n\n```\nsecond\n```\n"
    assert first_code_block(answer) == "print(1)\n    x = 2\n"
    assert first_code_block("~~~~\na\n~~~\nb\n~~~~\n") == "a\n~~~\nb\n"
    assert first_code_block("  ```\n  a\n    b\n  ```") == "a\n  b\n"
    assert first_code_block("```sh\nunclosed\n") == "unclosed\n\n"
    assert first_code_block("no code here") is None


def test_the_answer_flags_come_out_anywhere_before_the_end_of_flags():
    mode, rest = split_answer_flags(["chat", "-r", "hi", "--no-stream", "--", "-x"])
    assert mode == AnswerMode(raw=True, stream=False, extract=False)
    assert rest == ["chat", "hi", "--", "-x"]
    mode, rest = split_answer_flags(["-x", "write", "a", "script"])
    assert mode.extract and mode.holds and rest == ["write", "a", "script"]


def view_on_terminal(mode: AnswerMode) -> tuple[AnswerView, Terminal]:
    screen = Terminal()
    return AnswerView(Output(stdout=screen, stderr=Terminal()), mode=mode), screen


def test_raw_shows_the_markdown_as_it_arrives_on_a_terminal():
    view, screen = view_on_terminal(AnswerMode(raw=True))
    view.add("# Title\n\n**bold** [x](http://a)")
    assert screen.getvalue() == "# Title\n\n**bold** [x](http://a)"  # at once, as typed
    view.close()
    assert screen.getvalue() == "# Title\n\n**bold** [x](http://a)\n"


def test_no_stream_prints_nothing_until_the_answer_is_whole():
    view, screen = view_on_terminal(AnswerMode(stream=False))
    view.add("Zebras **graze**")
    view.add(" quietly.")
    assert screen.getvalue() == ""
    view.close()
    shown = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())
    assert shown == "Zebras graze quietly.\n"  # rendered, once
    raw, raw_screen = view_on_terminal(AnswerMode(stream=False, raw=True))
    raw.add("**a**")
    assert raw_screen.getvalue() == ""
    raw.close()
    assert raw_screen.getvalue() == "**a**\n"


def test_extract_prints_only_the_first_code_block():
    view, screen = view_on_terminal(AnswerMode(extract=True))
    view.add("Here you go:\n\n```bash\nls -la | ")
    view.add("wc -l\n```\n\nThat counts files.")
    assert screen.getvalue() == ""
    view.close()
    assert screen.getvalue() == "ls -la | wc -l\n"
    plain, plain_screen = view_on_terminal(AnswerMode(extract=True))
    plain.add("No code, just words.")
    plain.close()
    assert plain_screen.getvalue() == "No code, just words.\n"  # llm -x: the whole answer

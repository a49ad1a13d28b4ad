"""Stacked list lines: a host's details that would wrap start an indented line of their own."""

from rich.text import Text

from cli.views.models import _fitted


def _plain(width: int) -> list[str]:
    parts = [Text("127.0.0.1:11434  model_b8ed7271"), Text("120s  ✗ unreachable"),
             Text("checked 1m ago")]
    return [line.plain for line in _fitted(Text("  ● "), parts, width)]


def test_everything_on_one_line_when_it_fits():
    assert _plain(100) == ["  ● 127.0.0.1:11434  model_b8ed7271  120s  ✗ unreachable  checked 1m ago"]


def test_a_part_that_would_wrap_starts_an_indented_line():
    assert _plain(60) == ["  ● 127.0.0.1:11434  model_b8ed7271  120s  ✗ unreachable",
                          "      checked 1m ago"]
    assert _plain(40) == ["  ● 127.0.0.1:11434  model_b8ed7271", "      120s  ✗ unreachable",
                          "      checked 1m ago"]
    assert all(len(line) <= 40 for line in _plain(40))

"""Output decides "terminal or not" as rich does, but without rich for a plain pipe (start-up time, docs/STARTUP.md)."""

from __future__ import annotations

import io

import pytest

from cli.output import Output
from registry.answer_log import median

HOSTILE = {"name": "a\u202eb"}  # json.dumps leaves a bidi override raw; a terminal must not


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_into_a_pipe_is_byte_exact(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    stream = io.StringIO()
    output = Output(stdout=stream)
    output.json(HOSTILE)
    assert not output.is_terminal
    assert "\u202e" in stream.getvalue()  # unchanged for the program reading the pipe
    assert "out" not in vars(output)  # no rich console was built for it


def test_json_on_a_terminal_is_inert():
    stream = Tty()
    output = Output(stdout=stream)
    output.json(HOSTILE)
    assert output.is_terminal
    assert "\u202e" not in stream.getvalue() and "\\u202e" in stream.getvalue()


@pytest.mark.parametrize("variable, value, terminal", [
    ("FORCE_COLOR", "1", True), ("TTY_COMPATIBLE", "1", True), ("TTY_COMPATIBLE", "0", False),
])
def test_the_variables_rich_honours_still_decide(monkeypatch, variable, value, terminal):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.setenv(variable, value)
    stream = io.StringIO()
    output = Output(stdout=stream)
    output.json(HOSTILE)
    assert output.is_terminal is terminal
    assert ("\u202e" not in stream.getvalue()) is terminal


def test_median_matches_the_middle_or_the_mean_of_the_two_middle_values():
    assert median([3.0]) == 3.0
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5

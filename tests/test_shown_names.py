"""File names with invisible characters, as the terminal shows them, and model names that hold
them, refused. Pure: no process."""

from __future__ import annotations

import logging

import pytest

from cli.inert import shown_name
from cli.views.code import render_diff
from registry.errors import InvalidInput
from registry.model import validate_model_name


@pytest.mark.parametrize("name, shown", [
    ("a\u200b.py", "a<U+200B>.py"),            # zero-width space
    ("\u202etxt.exe", "<U+202E>txt.exe"),     # right-to-left override
    ("x\u2066y\u2069", "x<U+2066>y<U+2069>"),  # bidi isolates
    ("bom\ufeff.py", "bom<U+FEFF>.py"),
    ("zwj\u200d\u200c.py", "zwj<U+200D><U+200C>.py"),
    ("lrm\u200e.py", "lrm<U+200E>.py"),
    ("esc\x1b[2J.py", "esc^[[2J.py"),
    ("plain/ascii_name.py", "plain/ascii_name.py"),
    ("café/naïve.py", "café/naïve.py"),       # visible letters stay
])
def test_a_file_name_shows_its_invisible_characters(name, shown):
    assert shown_name(name) == shown


def test_a_diff_shows_the_names_in_its_header_escaped_and_its_text_as_it_is():
    diff = "--- a/a\u200b.py\n+++ b/a\u200b.py\n@@ -1 +1 @@\n-x\n+y\u200d\n"
    text = render_diff(diff).plain
    assert "--- a/a<U+200B>.py\n+++ b/a<U+200B>.py\n" in text
    assert "+y\u200d\n" in text  # in content a joiner may be part of an emoji


@pytest.mark.parametrize("name", ["llama\u200b3", "llama3\ufeff", "llama\u2060:8b", "ll\u200dama",
                                  "llama\u200e3", "\u202ellama"])
def test_a_model_name_with_invisible_characters_is_refused(name):
    with pytest.raises(InvalidInput) as refused:
        validate_model_name(name)
    assert "\\u" in refused.value.message  # shown escaped in the message


def logged(logger: logging.Logger, message: str, exc: BaseException) -> str:
    import io

    from ui.log import OneLine

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLine())
    logger.addHandler(handler)
    try:
        try:
            raise exc
        except type(exc):
            logger.exception(message)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_serve_logs_one_line_per_error_and_the_traceback_only_when_debugging(monkeypatch):
    from ui.log import log_config

    logger = logging.getLogger("test.ui.log")  # one of its own: uvicorn's stay as they are
    logger.propagate = False
    monkeypatch.delenv("AI_CLI_DEBUG", raising=False)
    err = logged(logger, "Exception in ASGI application\n", ValueError("bad thing\nsecond \x1b[2J"))
    assert err.count("\n") == 1, err
    assert err.startswith("ai-cli web: error: Exception in ASGI application: ValueError: bad thing")
    assert "AI_CLI_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("AI_CLI_DEBUG", "1")
    err = logged(logger, "Exception in ASGI application", ValueError("bad \x1b]0;title\x07"))
    assert "Traceback" in err and "\\x1b]0;title\\x07" in err.splitlines()[0]
    config = log_config()  # what serve gives uvicorn: this formatter, no access lines
    assert config["formatters"]["one_line"]["()"] == "ui.log.OneLine"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert config["loggers"]["uvicorn"]["handlers"] == ["stderr"]

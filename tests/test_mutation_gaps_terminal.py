"""cli/inert.py at the edges of every range it makes inert (the ranges are module-level
regular expressions, which mutmut does not mutate: these tests pin them by hand)."""

from __future__ import annotations

import json

import pytest

from cli.inert import inert, inert_json, unsafe_spans

SHOWN = {
    "\x00": "^@", "\x08": "^H", "\x0b": "^K", "\x0c": "^L", "\x0e": "^N", "\x1b": "^[",
    "\x1f": "^_", "\x7f": "^?", "\x80": "<U+0080>", "\x9b": "<U+009B>", "\x9f": "<U+009F>",
    "\u202a": "<U+202A>", "\u202e": "<U+202E>", "\u2066": "<U+2066>", "\u2069": "<U+2069>",
    "\r": "^M",
}
KEPT = ["\t", "\n", "\r\n", " ", "~", "\xa0", "é", "\u2029", "\u2065", "\u206a", "\u202f"]


@pytest.mark.parametrize("char, shown", SHOWN.items())
def test_inert_shows_each_edge_of_each_range(char, shown):
    assert inert(f"a{char}b") == f"a{shown}b"
    assert unsafe_spans(f"a{char}b") == [(1, 2)]


@pytest.mark.parametrize("text", KEPT)
def test_inert_keeps_what_a_terminal_only_prints(text):
    assert inert(f"a{text}b") == f"a{text}b"
    assert unsafe_spans(f"a{text}b") == []


@pytest.mark.parametrize("char", ["\x7f", "\x80", "\x9b", "\x9f", "\u202a", "\u202e", "\u2066",
                                  "\u2069"])
def test_inert_json_escapes_what_json_dumps_leaves_raw(char):
    raw = json.dumps({"v": f"a{char}b"}, ensure_ascii=False)
    made = inert_json(raw)
    assert made == raw.replace(char, f"\\u{ord(char):04x}")
    assert json.loads(made) == {"v": f"a{char}b"}


@pytest.mark.parametrize("char", ["~", "\xa0", "é", "\u2065", "\u206a"])
def test_inert_json_leaves_printable_text_alone(char):
    raw = json.dumps({"v": f"a{char}b"}, ensure_ascii=False)
    assert inert_json(raw) == raw

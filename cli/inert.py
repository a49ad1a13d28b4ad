"""Text from outside (Redis, a model, a server) made inert before it reaches a terminal. Pure.

A terminal obeys control characters in what it is sent: `ESC ]0;title BEL` sets the window title,
`ESC [2J` clears the screen, U+009B is a one-character CSI on some terminals, and the bidi
overrides (U+202E) make text read differently from what it is. `inert` shows each of them as
visible text instead: C0 controls, ESC and DEL in caret notation (`^[`, `^?`), C1 controls and
bidi overrides/isolates as `<U+202E>`. Newlines and tabs stay; a lone carriage return (which
would let text overwrite its own line) becomes `^M`, while `\\r\\n` stays.

Only what goes to a terminal passes through here (cli/output.py applies it to everything its
consoles render and write there); piped output and files keep the text byte for byte.
"""

from __future__ import annotations

import re

_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes C0 itself


def inert(text: str) -> str:
    """`text` with every control character a terminal would act on shown as text."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_shown, text)


def unsafe_spans(text: str) -> list[tuple[int, int]]:
    """Where `inert` changes `text`: (start, end) of each character it would replace."""
    return [m.span() for m in _UNSAFE.finditer(text)]


def inert_json(text: str) -> str:
    """JSON text made inert for a terminal without changing its meaning: the characters `inert`
    shows are written as `\\uXXXX` escapes, which decode to the same string."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _shown(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)  # ESC -> ^[, NUL -> ^@, DEL -> ^?
    return f"<U+{code:04X}>"


def shown_name(text: str) -> str:
    """A file name as a person must see it: every invisible format character (zero-width
    spaces and joiners, bidi marks and overrides, the BOM: Unicode category Cf) written as
    `<U+200B>`, so `a\u200b.py` cannot pass for `a.py` nor `\u202etxt.exe` for `exe.txt`.
    Only for names: in prose a zero-width joiner is part of an emoji."""
    import unicodedata

    if text.isascii():
        return inert(text)
    return inert("".join(f"<U+{ord(ch):04X}>" if unicodedata.category(ch) == "Cf" else ch
                         for ch in text))

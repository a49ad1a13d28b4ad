"""Commands named in messages, in the form for where the user is. Pure: no I/O.

Messages (errors, notices, hints) are written once, naming commands in either form
(`'/model check'` or `'ai-cli model check'`); Output turns every quoted command into the form of
its face: `/model …` in the REPL, `ai-cli model …` in the shell.
"""

from __future__ import annotations

import re

REPL, SHELL = "repl", "shell"
WORDS = ("model", "session", "code", "undo", "chat", "help", "log", "setup", "migrate")
_SLASH = re.compile(r"(['`\"])/(" + "|".join(WORDS) + r")\b")
_PROGRAM = re.compile(r"(['`\"])ai-cli (" + "|".join(WORDS) + r")\b")


def in_form(text: str, face: str | None) -> str:
    """`text` with each quoted command in the form of `face` (None: unchanged)."""
    if face == SHELL:
        return _SLASH.sub(r"\1ai-cli \2", text)
    if face == REPL:
        return _PROGRAM.sub(r"\1/\2", text)
    return text

"""Markdown as chat UIs show it: a single newline is a line break, not a space.

Models write poems, addresses and line-per-item answers with single newlines; CommonMark joins
such lines into one paragraph. `ChatMarkdown` turns each soft break into a hard one (what
markdown-it's `breaks` option does when it renders HTML), so each stays a line break; code
blocks, lists and paragraphs are unchanged.
"""

from __future__ import annotations

from rich.markdown import Markdown


class ChatMarkdown(Markdown):
    def __init__(self, markup: str, **kwargs) -> None:
        super().__init__(markup, **kwargs)
        for token in self.parsed:
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"

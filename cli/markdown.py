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


FENCES = ("```", "~~~")


def tail_source(text: str, keep_lines: int) -> str:
    """The end of a markdown text, from a block boundary at least `keep_lines` source lines before
    its end, so a streamed answer's last screenful renders without parsing all that came before
    (each Live refresh would otherwise parse the whole answer, slower as it grows). Pure.

    A boundary is a line after a blank line or after a closing fence, not indented (an indented
    line there would turn into a code block), and outside fenced code. When that point is inside a
    fence, the cut is made there and the fence's opening line is put back in front. Text with no
    boundary (one long paragraph) is returned whole. What the cut leaves out is not seen: a
    reference link defined above it shows as typed until the answer is complete.
    """
    lines = text.split("\n")
    latest = len(lines) - keep_lines  # the last line a cut may start at
    if latest <= 0:
        return text
    cut = None
    fence = None  # the opening line of the fence we are in
    block_ended = False  # the line before ended a block (blank, or a closing fence)
    for i, line in enumerate(lines[:latest]):
        if fence is None and block_ended and line[:1] not in (" ", "\t"):
            cut = i
        marker = line.lstrip()[:3]
        block_ended = fence is None and not line.strip()
        if marker in FENCES:
            if fence is None:
                fence = line
            elif marker == fence.lstrip()[:3]:
                fence, block_ended = None, True
    if fence is not None:  # `latest` is inside fenced code: reopen it there
        return "\n".join([fence, *lines[latest:]])
    if block_ended and lines[latest][:1] not in (" ", "\t"):
        cut = latest
    return text if cut is None else "\n".join(lines[cut:])

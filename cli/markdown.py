"""Markdown as chat UIs show it, with nothing of the answer lost in a terminal.

- A single newline is a line break, not a space: models write poems, addresses and
  line-per-item answers with single newlines; CommonMark joins such lines into one paragraph.
  `ChatMarkdown` turns each soft break into a hard one (what markdown-it's `breaks` option does
  when it renders HTML); code blocks, lists and paragraphs are unchanged.
- A link keeps its URL: `text (url)`, readable and copyable in every terminal (an OSC 8
  hyperlink shows only the text, and only some terminals open it). A bare `<url>` shows once.
- A code block is the code, nothing added: no leading space, no padded background, so copying it
  from the terminal gives the code back (long lines wrap where the screen ends).
- A table never cuts a cell: below the width its longest words need, each row is stacked as
  `header: value` lines, as `model list` stacks its models.
"""

from __future__ import annotations

from rich import box
from rich.markdown import CodeBlock, ImageItem, Markdown, TableElement
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

CODE_THEME = "ansi_dark"  # the terminal's own palette, on its own background


class ChatCodeBlock(CodeBlock):
    """Highlighted code, without rich's one-column padding and full-width background."""

    def __rich_console__(self, console, options):
        code = str(self.text).rstrip()
        text = Syntax(code, self.lexer_name, theme=CODE_THEME).highlight(code)
        text.rstrip()
        yield text


class ChatImage(ImageItem):
    """An image as `alt (url)`: a terminal cannot show it, the reader can open it."""

    def __rich_console__(self, console, options):
        title = self.text.plain if self.text else ""
        yield Text(f"{title} ({self.destination})" if title else self.destination, end="")


class ChatTable(TableElement):
    """A table whose cells are never cut: stacked rows when it does not fit."""

    def __rich_console__(self, console, options):
        headers = [c.content for c in self.header.row.cells] if (
            self.header is not None and self.header.row is not None) else []
        rows = [[c.content for c in row.cells] for row in self.body.rows] if (
            self.body is not None) else []
        table = Table(box=box.SIMPLE, pad_edge=False, style="markdown.table.border",
                      show_edge=True, collapse_padding=True)
        for heading in headers:
            shown = heading.copy()
            shown.stylize("markdown.table.header")
            table.add_column(shown, overflow="fold")
        for row in rows:
            table.add_row(*row)
        from cli.views import fit_columns

        if fit_columns(table, console, options.max_width):
            yield table
            return
        yield from stacked_rows(headers, rows)


def stacked_rows(headers: list[Text], rows: list[list[Text]]):
    """Each row as `header: value` lines, a blank line between rows. Pure (rich Texts)."""
    for index, row in enumerate(rows):
        if index:
            yield Text("")
        for position, cell in enumerate(row):
            label = headers[position].plain if position < len(headers) else ""
            line = Text(f"{label}: " if label else "", style="bold")
            line.append_text(cell)
            yield line


class ChatMarkdown(Markdown):
    elements = {**Markdown.elements, "fence": ChatCodeBlock, "code_block": ChatCodeBlock,
                "table_open": ChatTable, "image": ChatImage}

    def __init__(self, markup: str, **kwargs) -> None:
        kwargs.setdefault("hyperlinks", False)  # `text (url)`: see the module's docstring
        super().__init__(markup, **kwargs)
        for token in self.parsed:
            if token.children:
                token.children = _plain_autolinks(token.children)
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"


def _plain_autolinks(children: list) -> list:
    """Links whose text is their URL (`<https://…>`) as that text alone, not `url (url)`."""
    kept: list = []
    i = 0
    while i < len(children):
        token = children[i]
        if token.type == "link_open":
            end = next((j for j in range(i + 1, len(children))
                        if children[j].type == "link_close"), None)
            if end is not None:
                inner = children[i + 1:end]
                text = "".join(t.content for t in inner)
                href = str(token.attrs.get("href", ""))
                if all(t.type == "text" for t in inner) and text in (
                        href, href.removeprefix("mailto:")):
                    kept.extend(inner)
                    i = end + 1
                    continue
        kept.append(token)
        i += 1
    return kept


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

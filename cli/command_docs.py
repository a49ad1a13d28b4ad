"""docs/COMMANDS.md, generated from the command table: `python -m cli.command_docs [--check]`.

A test runs `--check`, so the reference cannot drift from the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cli.commands import terminal_table
from agent.commands.base import REPL, SUBCOMMAND

TARGET = Path(__file__).resolve().parents[1] / "docs" / "COMMANDS.md"
HEADER = """# ai-cli commands

Generated from the command table by `python -m cli.command_docs`; do not edit by hand.

Every command runs in the REPL as `/words ...` and as `ai-cli words ...` for scripts, unless
noted. With `--json`, results go to stdout as JSON (the shapes in docs/ARCHITECTURE.md) and errors as
`{"error": "..."}`. Exit codes: 0 success, 1 failed operation, 2 bad usage, 130 an answer
stopped with Ctrl-C (what arrived is kept), 141 stdout's reader went away (`ai-cli ... | head`:
ai-cli stops quietly, as `yes | head`).
Global flags, anywhere on the line: `--json`, `--config PATH`, `--redis-url URL`,
`--session ID`, `--workspace PATH`, `--yes`, `--version`, `--help`; and how answers show (as
`llm`'s): `-r/--raw` (the model's markdown as it arrives, unrendered, even on a terminal; in the
REPL also `/raw on|off`), `--no-stream` (wait, then print the whole answer once), `-x/--extract`
(print only the answer's first fenced code block, or the whole answer when it has none).

On a terminal an answer is shown whole: a link as `text (url)`, a code block as the code (no
added indent, so copying it gives the code), a table that does not fit as `header: value` lines
per row. `model list` and `log` stack their rows when the terminal is narrower than their
columns' longest words; ids are never cut.

A question without `chat`, as with `llm "question"`: `ai-cli why is the sky blue` and
`ai-cli "log my day"` ask the general model. The rule: a first word that is a command's first
word (`model`, `log`, ...) runs that command; a first word with a space in it is a question,
whatever it starts with; a first word one edit away from a command's (`modle`, `sesion`), or a
word people try for one typed alone (`models`, `ls`), gets "Did you mean ...?" and nothing is
sent; any other words are a question, joined by spaces (the REPL's own words, `edit`, `raw`,
`quit`, too). A first word that is one of `chat`'s flags (`ai-cli -m llama3 "question"`) is a
question too. Words that begin with a command's but go on like a sentence (`ai-cli help me
write a haiku`) get that command's error and how to ask instead (`ai-cli chat '...'`).
"""


def render(table=None) -> str:
    table = table or terminal_table()
    parts = [HEADER]
    heading = None
    for command in table.commands:
        if command.heading != heading:
            heading = command.heading
            parts.append(f"\n## {heading}\n")
        parts.append(_entry(command))
    return "\n".join(parts).rstrip() + "\n"


def _entry(command) -> str:
    forms = []
    if REPL in command.faces:
        forms.append(f"- `{command.usage('/')}`")
    if SUBCOMMAND in command.faces:
        forms.append(f"- `{command.usage('ai-cli ')}`")
    for alias in command.aliases:
        if REPL in command.faces:
            forms.append(f"- `/{' '.join(alias)}`")
        if SUBCOMMAND in command.faces:
            forms.append(f"- `ai-cli {' '.join(alias)}`")
    prefix = "/" if REPL in command.faces else "ai-cli "
    lines = [f"### {command.usage(prefix).split(' <')[0].split(' [')[0]}", "", *forms, "",
             command.help + "."]
    if command.details:
        lines += ["", command.details]
    if command.needs:
        lines += ["", f"Off while the `{command.needs}` feature is off (no model for it)."]
    rows = [(f"`<{a.name}>`", a.help) for a in command.args if a.help]
    rows += [(f"`{o.shown}`", o.help) for o in command.options]
    if rows:
        lines += ["", "| argument | meaning |", "| --- | --- |"]
        lines += [f"| {name} | {text} |" for name, text in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python -m cli.command_docs", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

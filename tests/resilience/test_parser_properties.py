"""Property test of the one command parser (agent/commands/table.py): over arbitrary REPL lines
and argv lists, parsing either gives an invocation or raises one of the project's own errors
(each a user-ready line) — never anything else, so no input can reach "Unexpected error"."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.commands import command_table
from registry.errors import AiCliError

TABLE = command_table()
WORDS = sorted({str(w) for c in TABLE.commands for form in (c.words, *c.aliases) for w in form
                if isinstance(w, str)} | {"general", "coder", "none", "--json", "--timeout",
                                           "--no-activate", "--force", "-m", "-o", "-s", "-c",
                                           "--", "'", '"', "=", "\\"})
TOKEN = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def parses_or_refuses(parse, value) -> None:
    try:
        invocation = parse(value)
    except AiCliError as exc:
        assert exc.message.strip()
        return
    assert invocation.command in TABLE.commands


@SETTINGS
@given(st.lists(TOKEN, max_size=8).map(lambda words: "/" + " ".join(words)))
def test_any_slash_line_parses_or_raises_an_ai_cli_error(line):
    parses_or_refuses(TABLE.parse_line, line)


@SETTINGS
@given(st.text(max_size=60))
def test_any_text_at_all_parses_or_raises_an_ai_cli_error(line):
    parses_or_refuses(TABLE.parse_line, line)


@SETTINGS
@given(st.lists(TOKEN, max_size=8))
def test_any_argv_parses_or_raises_an_ai_cli_error(argv):
    parses_or_refuses(TABLE.parse_argv, argv)

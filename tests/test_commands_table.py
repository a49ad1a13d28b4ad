"""The command table: parsing (pure), /help marking, completion and the generated docs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401

from agent.app import App, Flags
from cli.main import split_flags
from agent.commands import command_table
from agent.commands.base import REPL, SUBCOMMAND, Arg, Command, Option, model_type_slot
from cli.command_docs import TARGET, render
from agent.commands.general import help_entries
from agent.commands.table import CommandTable
from agent.face import SHELL, QuietFace
from cli.commands import terminal_table
from cli.repl import completions
from registry.config import ConfigManager
from agent.errors import UnknownCommand, UsageError
from registry.errors import InvalidModelType
from registry.manager import ModelRegistry

ROOT = TARGET.parents[1]


def noop(app, args):
    return None


TABLE = CommandTable([
    Command(("model", model_type_slot(), "add"), "add", noop,
            args=(Arg("url"), Arg("model_name")),
            options=(Option("--timeout", metavar="SECONDS"), Option("--force"))),
    Command(("model", "list"), "list", noop),
    Command(("model", model_type_slot(), "list"), "list one type", noop),
    Command(("code",), "code", noop, args=(Arg("instruction", rest=True),), needs="code"),
    Command(("quit",), "quit", noop, faces=frozenset({REPL}), aliases=(("exit",),)),
])


def test_slash_form_and_subcommand_bind_the_same_arguments():
    line = TABLE.parse_line("/model General add http://h:1 llama3 --timeout=30 --force")
    argv = TABLE.parse_argv(["model", "general", "add", "http://h:1", "llama3", "--timeout", "30",
                             "--force"])
    assert line.command is argv.command
    assert line.args == argv.args == {"model_type": "general", "url": "http://h:1",
                                      "model_name": "llama3", "timeout": "30", "force": True}


def test_longest_words_win_and_aliases_match():
    assert TABLE.parse_line("/model list").command.help == "list"
    assert TABLE.parse_line("/model coder list").command.help == "list one type"
    assert TABLE.parse_line("/exit").command.help == "quit"
    with pytest.raises(UnknownCommand):
        TABLE.parse_argv(["quit"])  # REPL only


def test_rest_argument_is_taken_verbatim():
    assert TABLE.parse_line("/code don't  touch 'a.py' --force").args == {
        "instruction": "don't  touch 'a.py' --force"}


@pytest.mark.parametrize("line, error, text", [
    ("/model coderx add u n", InvalidModelType, "Unknown model type 'coderx'"),
    ("/model general add u", UsageError, "Missing <model_name>"),
    ("/model general add u n x", UsageError, "Unexpected 'x'"),
    ("/model general add u n --timeout", UsageError, "--timeout needs a value"),
    ("/model general add u n --force=1", UsageError, "--force takes no value"),
    ("/model general add u n --nope", UsageError, "Unknown option '--nope'"),
    ("/model general add 'u n", UsageError, "A quote is not closed"),
    ("/model general", UsageError, "Use one of:\n  /model {general|coder|embedding} add"),
    ("/wat", UnknownCommand, "Unknown command '/wat'. Type /help"),
    ("/", UnknownCommand, "Type a command after '/'"),
    ("/code", UsageError, "Missing <instruction>"),
])
def test_bad_lines_say_what_is_wrong(line, error, text):
    with pytest.raises(error) as caught:
        TABLE.parse_line(line)
    assert text in caught.value.message
    if "Use one of" not in text:  # an incomplete command lists the ones it starts, one a line
        assert "\n" not in caught.value.message


@pytest.mark.parametrize("line, words", [
    ("/models", "Did you mean /model list?"),
    ("/clear", "Did you mean /session new?"),
    ("/sesion list", "Did you mean /session"),
])
def test_unknown_commands_get_a_did_you_mean(line, words):
    with pytest.raises(UnknownCommand) as caught:
        command_table().parse_line(line)
    assert words in caught.value.message and "\n" not in caught.value.message


def test_a_group_lists_its_commands_one_a_line():
    table = command_table()
    with pytest.raises(UsageError) as caught:
        table.parse_argv(["model"])
    lines = caught.value.message.splitlines()
    assert lines[0] == "'ai-cli model' is not a whole command. Use one of:"
    assert "  ai-cli model use <model_id>" in lines and "  ai-cli model list [--capability NAME]" in lines
    assert [c.usage("ai-cli ") for c in table.group(["session", "model"], "subcommand")] == [
        "ai-cli session model {general|coder} <model_id>"]


def test_global_flags_anywhere_and_force_goes_last():
    flags, words = split_flags(["--json", "model", "--force", "general", "add", "u", "n",
                                "--config=c.yaml", "--session", "s1", "-y"])
    assert flags == Flags(json=True, config="c.yaml", session="s1", yes=True, force=True)
    assert words == ["model", "general", "add", "u", "n", "--force"]
    assert split_flags(["chat", "--", "--json"])[1] == ["chat", "--", "--json"]  # the command sees "--" too
    with pytest.raises(UsageError):
        split_flags(["--redis-url"])


def test_the_terminal_table_is_the_catalog_plus_its_own_two_each_at_the_end_of_its_group():
    engine, terminal = command_table(), terminal_table()
    names = {c.words[0] for c in terminal.commands}
    assert names == {"chat", "model", "session", "preset", "log", "code", "undo", "migrate",
                     "config", "serve", "help", "quit", "raw", "edit", "thinking", "completion",
                     "embed"}
    assert "serve" not in {c.words[0] for c in engine.commands}  # the web face's, not the engine's
    own = [c for c in terminal.commands if c not in engine.commands]
    own_words = [tuple(w if isinstance(w, str) else w.name for w in c.words) for c in own]
    assert own_words == [("raw", "state"), ("edit",), ("thinking", "state"), ("model", "wizard"),
                         ("serve",),
                         ("completion", "shell"), ("completion", "names", "kind")]
    headings = [c.heading for c in terminal.commands]
    assert headings == sorted(headings, key=headings.index)  # each group in one run


def test_every_handler_the_table_names_exists():
    for command in terminal_table().commands:
        assert callable(command.resolved_handler()), command.words


def make_app(real_redis, redis_url, key_prefix, fallback_url) -> App:
    config = ConfigManager.load(env={"AI_CLI_REDIS_URL": redis_url}, overrides={})
    config = ConfigManager(config.path, {"redis": {"key_prefix": key_prefix},
                                         "tinyollama": {"url": fallback_url}}, config.env)
    return App(config, QuietFace(SHELL), TABLE, open_registry=lambda c: ModelRegistry(
        real_redis, key_prefix=key_prefix, url=redis_url))


def test_help_marks_commands_that_are_off_and_why(real_redis, redis_url, key_prefix, dead_url,
                                                  ollama_server):
    app = make_app(real_redis, redis_url, key_prefix, dead_url)
    entries = {e.usage: e for e in help_entries(app, REPL, "/")}
    assert entries["/code <instruction>..."].off_reason.endswith(
        "Use '/model coder add' to configure a model.")
    assert entries["/model list"].off_reason is None
    assert "/quit" in entries and "ai-cli quit" not in {e.usage for e in help_entries(app, SUBCOMMAND, "ai-cli ")}
    ollama_server.add_model("coder7b")
    app.registry.add_model("coder", ollama_server.url, "coder7b")
    fresh = make_app(real_redis, redis_url, key_prefix, dead_url)
    entries = {e.usage: e for e in help_entries(fresh, REPL, "/")}
    assert entries["/code <instruction>..."].off_reason is None


def test_completion_offers_words_slots_options_and_ids(real_redis, redis_url, key_prefix, dead_url):
    app = make_app(real_redis, redis_url, key_prefix, dead_url)
    general = app.registry.add_model("general", "http://127.0.0.1:9", "a")
    coder = app.registry.add_model("coder", "http://127.0.0.1:9", "b")
    assert set(completions(app, [], "mo")) == {"model"}
    assert set(completions(app, ["model"], "")) == {"general", "coder", "embedding", "list"}
    assert set(completions(app, ["model", "general", "add", "u", "n"], "--t")) == {"--timeout"}
    ids = set(completions(app, ["model", "coder", "list"], ""))
    assert ids == set()  # list takes no id
    table = command_table()
    app.table = table
    assert set(completions(app, ["model", "coder", "use"], "model_")) == {coder.model_id}
    assert general.model_id in set(completions(app, ["model", "check"], ""))


@pytest.mark.process
def test_docs_commands_md_is_current():
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "docs/COMMANDS.md is stale: run python -m cli.command_docs")
    proc = subprocess.run([sys.executable, "-m", "cli.command_docs", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

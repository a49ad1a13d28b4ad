"""Help, did-you-mean, degradation messages in the form of each face, and word-boundary wrapping,
through real `ai-cli` processes and the REPL in a pseudo-terminal (60 and 200 columns, NO_COLOR)."""

from __future__ import annotations

import re

import pexpect

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import PROGRAM, cli, restore_sigint  # noqa: F401

from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(cli, columns: int, env: dict | None = None):
    child = pexpect.spawn(PROGRAM[0], PROGRAM[1:], cwd=str(cli.cwd),
                          env={**cli.env, "COLUMNS": str(columns), **(env or {})},
                          encoding="utf-8", timeout=30, dimensions=(40, columns),
                          preexec_fn=restore_sigint)
    child.expect("AI CLI v")
    return child


def finish(child) -> str:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return child.before


def plain(text: str) -> str:
    return ESCAPES.sub("", text).replace("\r", "")


def test_help_for_every_group_from_the_table(cli):
    for words, expected in ((["model"], "  ai-cli model use <model_id>"),
                            (["session"], "  ai-cli session use <session_id>"),
                            (["session", "model"], "  ai-cli session model {general|coder} <model_id>")):
        proc = cli.run(*words, "--help")
        assert proc.returncode == 0, proc.stderr
        assert expected in proc.stdout.splitlines()
    bare = cli.run("model")
    assert bare.returncode == 2
    lines = bare.stderr.splitlines()
    assert "ai-cli model list [--capability NAME]" in [line.strip() for line in lines]
    assert len(lines) > 5
    one = cli.run("chat", "--help")
    assert one.returncode == 0 and "-o/--option KEY VALUE" in one.stdout
    assert "Usage: ai-cli chat [-m MODEL] [-s TEXT] [-o KEY VALUE]... [-c] [-f PATH]..." in one.stdout
    typo = cli.run("models")
    assert typo.returncode == 2 and "Did you mean ai-cli model list?" in typo.stderr


def unreachable_generals(real_redis, key_prefix, dead_url):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    return [registry.add_model("general", dead_url, name, timeout=5, set_active=(name == "g1"))
            for name in ("g1", "g2", "g3")]


def test_configured_but_unreachable_says_which_why_and_what_in_the_shell_form(
        cli, real_redis, key_prefix, dead_url):
    models = unreachable_generals(real_redis, key_prefix, dead_url)
    proc = cli.run("chat", "hi")
    assert proc.returncode == 1
    err = proc.stderr
    assert "No general model is reachable" in err and "configure a model" not in err
    assert all(m.model_id in err for m in models) and "connection refused" in err
    assert "'ai-cli model check'" in err and "'/model" not in err
    assert len(err.strip().splitlines()) == 1
    as_json = cli.json("chat", "hi", expect=1)
    assert "'ai-cli model check'" in as_json["error"]


def test_the_repl_names_slash_forms_and_suggests_commands(cli, real_redis, key_prefix, dead_url):
    unreachable_generals(real_redis, key_prefix, dead_url)
    child = spawn(cli, 200)
    child.expect("Limited mode: chat is off until the general model is reachable: start its "
                 "Ollama server, then run '/model check'")
    child.expect(PROMPT)
    child.sendline("hello")
    child.expect("No general model is reachable")
    child.expect(PROMPT)
    child.sendline("/models")
    child.expect(r"Did you mean /model list\?")
    child.expect(PROMPT)
    child.sendline("/clear")
    child.expect(r"Did you mean /session new\?")
    child.expect(PROMPT)
    child.sendline("/model use nosuch")
    child.expect("No model with id or name 'nosuch'")
    child.expect(PROMPT)
    text = plain(child.before)
    assert "'/model list'" in text and "ai-cli model list" not in text
    finish(child)


def test_sixty_columns_wrap_at_word_boundaries_without_colour(cli, real_redis, key_prefix,
                                                              dead_url):
    unreachable_generals(real_redis, key_prefix, dead_url)
    child = spawn(cli, 60, {"NO_COLOR": "1"})
    child.expect(PROMPT)
    child.sendline("/help")
    child.expect(r"Anything not starting")
    text = plain(child.before)
    child.expect(PROMPT)
    finish(child)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    words = set(" ".join(lines).split())
    assert "[<session_id>]" in words  # never cut inside a word
    assert "\x1b[3" not in child.before  # NO_COLOR: no colours


def test_tab_offers_session_ids_and_enter_on_a_group_does_not_run_it(cli, real_redis, key_prefix):
    from agent.sessions import SessionStore

    store = SessionStore(real_redis, key_prefix)
    session = store.new("saved one")
    child = spawn(cli, 200)
    child.expect(PROMPT)
    child.send("/session")
    child.send("\r")  # only the group: the line stays, the next words are shown
    child.expect("needs more: new | list | use")
    child.send(" use sess\t")
    child.expect(session.session_id[len("sess"):])  # drawn after the typed part
    child.send("\r")
    child.expect(f"Session {session.session_id} in use")
    child.expect(PROMPT)
    finish(child)


def test_tables_stack_below_80_columns_and_never_cut_ids(cli, real_redis, key_prefix, dead_url):
    from agent.sessions import SessionStore

    models = unreachable_generals(real_redis, key_prefix, dead_url)
    session = SessionStore(real_redis, key_prefix).new("a title")
    for columns in (60, 200):
        child = spawn(cli, columns, {"NO_COLOR": "1"})
        child.expect(PROMPT)
        child.sendline("/model list")
        child.expect("active model of its type")
        models_text = plain(child.before)
        child.expect(PROMPT)
        child.sendline("/session list")
        child.expect(session.session_id)
        child.expect(PROMPT)
        sessions_text = plain(child.before)
        finish(child)
        assert "…" not in models_text
        assert all(m.model_id in models_text for m in models)
        assert all(len(line) <= columns for line in models_text.splitlines())
        if columns == 200:  # a table with a border and headers
            assert "ID" in models_text and "┏" in models_text
            child = spawn(cli, columns, {"NO_COLOR": "1"})
            child.expect(PROMPT)
            child.sendline("/session list")
            child.expect("Last used")
            header = plain(child.before)
            child.expect(PROMPT)
            finish(child)
            assert "┏" in header and "In use" in header


def test_single_newlines_stay_line_breaks_in_the_answer(cli, ollama_server, real_redis,
                                                        key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    ollama_server.reply("Roses are red,\nviolets are blue.\n\n**done**")
    child = spawn(cli, 200)
    child.expect(PROMPT)
    child.sendline("a poem")
    child.expect("done")
    text = plain(child.before)
    child.expect(PROMPT)
    finish(child)
    lines = [line.strip() for line in text.splitlines()]  # the spinner may share the first
    assert any(line.endswith("Roses are red,") for line in lines)
    assert "violets are blue." in lines

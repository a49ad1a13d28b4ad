"""Typing several lines in the REPL, as `ollama run` and aider users do: triple quotes open and
close one message, Alt-Enter adds a line, `/edit` writes one in $EDITOR; `--help` is `/help`;
only a group's words (`/model`) show its commands. Pure parts directly; the rest on a real
pseudo-terminal and through a pipe, with a real Redis and the Ollama-protocol test server."""

from __future__ import annotations

import sys

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from cli.commands import terminal_table
from cli.repl import block_message, group_usage, opens_block, read_blocks
from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"
Q = '"""'


def test_triple_quotes_open_and_close_a_message():
    assert opens_block(Q) and opens_block(f"{Q}first line") and opens_block(f"  {Q}")
    assert not opens_block(f"{Q}one line{Q}") and not opens_block("plain") and not opens_block(Q * 2)
    assert block_message(f"{Q}\n    def f():\n        pass\n{Q}") == "    def f():\n        pass"
    assert block_message(f"{Q}one\ntwo{Q}") == "one\ntwo"
    assert block_message(f"{Q} hi {Q}") == "hi"


def test_a_pipe_reads_a_triple_quoted_message_as_one():
    lines = ["hi\n", f"{Q}\n", "line one\n", "  line two\n", f"{Q}\n", "/quit\n"]
    assert list(read_blocks(lines)) == ["hi", f"{Q}\nline one\n  line two\n{Q}", "/quit"]
    assert list(read_blocks([f"{Q}never closed\n", "more\n"])) == [f"{Q}never closed\nmore"]


def test_only_a_groups_words_show_its_commands():
    table = terminal_table()
    usage = group_usage(table, "/model")
    assert usage[0].startswith("/model needs more:")
    assert "  /model list [--capability NAME]" in usage and "  /model {general|coder|embedding} add <url> <model_name> " \
        "[--timeout SECONDS] [--num-ctx TOKENS] [--parallel N] [--no-activate] [--force]" in usage
    assert group_usage(table, "/model list") is None and group_usage(table, "hello") is None


def one_general(real_redis, key_prefix, server):
    server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", server.url, "llama3",
                                                               timeout=10)


def last_question(server) -> str:
    return server.chat_requests[-1].body["messages"][-1]["content"]


@pytest.mark.process
def test_a_piped_repl_sends_a_triple_quoted_message_whole(cli, ollama_server, real_redis,
                                                          key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.default_reply = "ok"
    proc = cli.run(input=f'{Q}\nfirst line\n    second, indented\n{Q}\n/quit\n')
    assert proc.returncode == 0, proc.stderr
    assert last_question(ollama_server) == "first line\n    second, indented"
    assert len(ollama_server.chat_requests) == 1
    unclosed = cli.run(input=f"{Q}\nnever closed\n")
    assert "was not closed; nothing was sent" in unclosed.stderr
    assert len(ollama_server.chat_requests) == 1


@pytest.mark.process
def test_typing_several_lines_on_a_terminal(cli, ollama_server, real_redis, key_prefix,
                                            tmp_path):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.default_reply = "noted"
    editor = tmp_path / "editor.py"  # an $EDITOR that writes two lines into the file it is given
    editor.write_text("import sys\nopen(sys.argv[1], 'w').write('from the editor\\nline two\\n')\n")
    child = cli.spawn(env={"EDITOR": f"{sys.executable} {editor}", "VISUAL": ""}, timeout=60)
    child.expect(PROMPT)
    child.send(Q + "\r")  # Enter inside an open message adds a line
    child.send("alpha\r")
    child.send("beta" + Q + "\r")
    child.expect("noted")
    child.expect(PROMPT)
    assert last_question(ollama_server) == "alpha\nbeta"
    child.send("one\x1b\r")  # Alt-Enter (Esc Enter): a new line anywhere
    child.send("two\r")
    child.expect("noted")
    child.expect(PROMPT)
    assert last_question(ollama_server) == "one\ntwo"
    child.sendline("/edit")
    child.expect("noted")
    child.expect(PROMPT)
    assert last_question(ollama_server) == "from the editor\nline two"
    child.sendline("--help")
    child.expect("Anything not starting with '/'")
    child.expect(PROMPT)
    count = len(ollama_server.chat_requests)
    child.send("/model\r")  # the group's commands; the line stays to be finished
    child.expect(r"/model needs more:")
    child.expect(r"/model \{general\|coder\|embedding\} add <url> <model_name>")
    child.send(" list\r")
    child.expect("active model of its type")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(ollama_server.chat_requests) == count  # neither --help nor /model was sent


@pytest.mark.process
def test_edit_without_an_editor_says_how_to_set_one(cli, ollama_server, real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    child = cli.spawn(env={"EDITOR": "", "VISUAL": ""}, timeout=60)
    child.expect(PROMPT)
    child.sendline("/edit")
    child.expect(r"set \$EDITOR")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    assert ollama_server.chat_requests == []


@pytest.mark.process
def test_raw_on_and_off_in_the_repl(cli, ollama_server, real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    child = cli.spawn(timeout=60)
    child.expect(PROMPT)
    child.sendline("/raw on")
    child.expect("Answers now show as the model's markdown")
    child.expect(PROMPT)
    ollama_server.reply("**bold** and ", "[a link](http://127.0.0.1/x)")
    child.sendline("show me")
    child.expect_exact("**bold** and [a link](http://127.0.0.1/x)")  # as the model wrote it
    child.expect(PROMPT)
    child.sendline("/raw off")
    child.expect("Answers now show rendered")
    child.expect(PROMPT)
    ollama_server.reply("**bold** and ", "[a link](http://127.0.0.1/x)")
    child.sendline("again")
    child.expect(r"a link \((\x1b\[[0-9;]*m)*http://127\.0\.0\.1/x")  # rendered, with its URL
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)

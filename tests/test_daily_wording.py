"""What ai-cli says in the daily cases where it used to say the wrong thing, through real `ai-cli`
processes (a real Redis, the Ollama-protocol test server, a pseudo-terminal for the wizard), and
the docs' `/help` transcript checked against a real run."""

from __future__ import annotations

import re

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import ROOT, cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process

DOWN, ENTER = "\x1b[B", "\r"


def test_an_empty_message_is_called_empty(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    for args in (("chat", ""), ("chat", "  "), ("",)):
        proc = cli.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "The message is empty" in proc.stderr and "stdin" not in proc.stderr, proc.stderr
    piped = cli.run("chat", input="")
    assert piped.returncode == 2 and "The message on stdin is empty" in piped.stderr
    assert ollama_server.chat_requests == []


def code_scene(cli, server, real_redis, key_prefix, coder_url=None):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    server.add_model("coder-7b")
    registry.add_model("coder", coder_url or server.url, "coder-7b", timeout=10)
    registry.add_model("general", server.url, "coder-7b", timeout=10)
    (cli.cwd / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    server.reply_tool_call("read_file", {"path": "calc.py"})
    server.reply_tool_call("read_file", {"path": "calc.py"})
    server.reply_tool_call("edit_file", {"path": "calc.py", "old_text": "a - b",
                                         "new_text": "a + b"})
    server.reply("Fixed.")


def test_the_shell_form_of_code_names_ai_cli_undo(cli, ollama_server, real_redis, key_prefix):
    code_scene(cli, ollama_server, real_redis, key_prefix)
    proc = cli.run("code", "--yes", "fix add in calc.py")
    assert proc.returncode == 0, proc.stderr
    assert "'ai-cli undo'" in proc.stderr and "/undo" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("how", ["refused", "went_down"])
def test_a_coder_that_is_down_is_said_once_a_run(how, cli, ollama_servers, real_redis,
                                                 key_prefix, dead_url):
    general, coder = ollama_servers(2)
    coder.add_model("coder-7b")
    code_scene(cli, general, real_redis, key_prefix,
               coder_url=dead_url if how == "refused" else coder.url)
    if how == "went_down":  # seen reachable a moment ago (the probe is remembered), down now
        assert cli.run("model", "check").returncode == 0
        coder.mode = "down"
    proc = cli.run("code", "--yes", "fix add in calc.py")
    assert proc.returncode == 0, proc.stderr
    assert len(general.chat_requests) == 4  # four turns of the general model
    said = [line for line in proc.stderr.splitlines() if "coder-7b" in line and (
        "unavailable" in line or "refused" in line or "failed" in line)]
    assert len(said) == 1, proc.stderr


def test_code_without_a_terminal_says_so_before_the_model_runs(cli, ollama_server, real_redis,
                                                               key_prefix):
    code_scene(cli, ollama_server, real_redis, key_prefix)
    proc = cli.run("code", "fix add in calc.py", input="")
    lines = proc.stderr.splitlines()
    first_call = next(i for i, line in enumerate(lines) if "read_file" in line)
    told = next(i for i, line in enumerate(lines) if "No terminal to confirm changes on" in line)
    assert told < first_call, proc.stderr
    assert "Run with --yes" in lines[told]
    assert (cli.cwd / "calc.py").read_text().endswith("a - b\n")


def test_add_force_on_a_dead_server_does_not_invite_to_chat(cli, dead_url):
    proc = cli.run("model", "general", "add", dead_url, "llama3", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "You can now start chatting!" not in proc.stdout
    assert "requests go down the fallback chain" in proc.stdout
    assert "'ai-cli model check'" in proc.stdout


def test_the_wizard_does_not_remove_on_enter(cli, ollama_server, real_redis, key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    ollama_server.add_model("llama3")
    model = registry.add_model("general", ollama_server.url, "llama3", timeout=10)
    child = cli.spawn("setup", timeout=60)
    child.expect_exact("What do you want to do?")
    child.send(DOWN + DOWN + ENTER)  # Remove a model
    child.expect_exact("Remove which model?")
    child.send(ENTER)
    child.expect_exact(f"({model.model_id})?")
    child.expect(r"\(y/N\)")
    child.send(ENTER)  # the default: no
    child.expect_exact("Wizard cancelled; the registry is unchanged.")
    child.expect(pexpect.EOF)
    assert [m.model_id for m in registry.list_models()] == [model.model_id]


HELP_DOC = ROOT / "docs" / "MODEL_MANAGEMENT.md"


def test_the_docs_help_transcript_is_what_help_prints(cli, ollama_server, real_redis,
                                                      key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    ollama_server.add_model("llama3.1:8b")
    registry.add_model("general", ollama_server.url, "llama3.1:8b", timeout=10)
    registry.add_model("coder", ollama_server.url, "llama3.1:8b", timeout=10)
    proc = cli.run(input="/help\n/quit\n")
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout.split("Type /help for available commands or start chatting!\n")[-1]
    text = HELP_DOC.read_text(encoding="utf-8")
    documented = re.search(r"\n> /help\n(.*?)\n> /quit\n", text, re.S)
    assert documented is not None
    assert documented.group(1) + "\n" == shown, (
        "docs/MODEL_MANAGEMENT.md's /help transcript differs from a real run; paste this:\n"
        + shown)

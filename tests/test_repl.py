"""The REPL through a pseudo-terminal: banner, degraded states, slash commands, completion, exit."""

from __future__ import annotations

import os

import pexpect

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"  # prompt_toolkit draws "> " with cursor moves


def drawn(text: str) -> str:
    """A regex for `text` as prompt_toolkit may paint it: escape sequences can fall between any
    two characters (a completion is drawn after the typed part, on a loaded machine separately)."""
    import re

    return r"(?:\x1b\[[0-9;?]*[A-Za-z])*".join(re.escape(c) for c in text)


def start(cli, **kwargs):
    child = cli.spawn(**kwargs)
    child.expect("AI CLI v1.0.0")
    return child


def send(child, line: str) -> None:
    child.sendline(line)


def finish(child) -> int:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_banner_without_models_is_limited_mode_and_chat_is_off(cli):
    child = start(cli)
    child.expect("General Model: Not configured")
    child.expect("Coder Model: Not configured")
    child.expect(r"Fallback: tinyllama @ 127\.0\.0\.1:\d+ \(unreachable")
    child.expect("Limited mode: Use '/model general add' to enable chat features.")
    child.expect("Limited mode: Use '/model coder add' to enable code features.")
    child.expect("Type /help for available commands.")
    child.expect(PROMPT)
    send(child, "hello there")
    child.expect("No general model available. Use '/model general add' to configure a model.")
    send(child, "/help")
    child.expect("/model list")
    child.expect(PROMPT)
    send(child, "/model list")
    child.expect("No models registered")
    assert finish(child) == 0


def test_banner_with_reachable_models(cli, ollama_server):
    ollama_server.add_model("llama3.1:8b")
    ollama_server.add_model("qwen2.5-coder:7b")
    cli.json("model", "general", "add", ollama_server.url, "llama3.1:8b")
    cli.json("model", "coder", "add", ollama_server.url, "qwen2.5-coder:7b")
    host = ollama_server.url.split("://")[1]
    child = start(cli)
    child.expect(f"✓ General Model: llama3.1:8b @ {host} \\(reachable\\)")
    child.expect(f"✓ Coder Model: qwen2.5-coder:7b @ {host} \\(reachable\\)")
    child.expect("Type /help for available commands or start chatting!")
    child.expect(PROMPT)
    assert finish(child) == 0


def test_banner_names_an_unreachable_active_model(cli, ollama_server, dead_url):
    ollama_server.add_model("tinyllama")
    cli.write_config(tinyollama={"url": ollama_server.url})
    cli.json("model", "general", "add", dead_url, "llama3", "--force")
    child = start(cli)
    child.expect(r"⚠ General Model: llama3 @ 127\.0\.0\.1:\d+ \(unreachable: connection refused")
    child.expect("tinyllama")  # the route says which model answers instead
    child.expect(r"Fallback: tinyllama @ .* \(reachable\)")
    child.expect("start chatting!")
    assert finish(child) == 0


def test_add_in_the_repl_asks_before_adding_an_unreachable_model(cli, dead_url, real_redis,
                                                               key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    child = start(cli)
    child.expect(PROMPT)
    send(child, f"/model general add {dead_url} llama3")
    child.expect("Add it anyway?")
    child.send("n")
    child.expect("Not added: connection refused")
    child.expect(PROMPT)
    assert registry.list_models() == []
    send(child, f"/model general add {dead_url} llama3")
    child.expect("Add it anyway?")
    child.send("y")
    child.expect("Model registered successfully!")
    child.expect(PROMPT)
    [model] = registry.list_models()
    assert model.is_active and model.is_available is False
    assert finish(child) == 0


def test_slash_commands_and_their_errors_keep_the_repl_running(cli, ollama_server, real_redis,
                                                              key_prefix):
    ollama_server.add_model("a")
    ollama_server.add_model("b")
    a = cli.json("model", "general", "add", ollama_server.url, "a")
    b = cli.json("model", "general", "add", ollama_server.url, "b")
    child = start(cli)
    child.expect(PROMPT)
    for line, answer in [
        ("/model general use model_00000000", "No model with id or name 'model_00000000'"),
        ("/model chat list", "Unknown model type 'chat'"),
        ("/model general add http://x", "Missing <model_name>"),
        ("/nonsense", "Unknown command '/nonsense'. Type /help"),
        (f"/model coder use {a['model_id']}", "is a general model, not a coder model"),
        (f"/model general use {a['model_id']}", "is now active"),
        ("/model general discover " + ollama_server.url, "a:latest"),
        ("/model status", "General: a @"),
        ("/model check", "Availability"),
        (f"/model general remove {b['model_id']}", "removed"),
    ]:
        send(child, line)
        child.expect(answer)
        child.expect(PROMPT)
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    assert [m.model_id for m in registry.list_models()] == [a["model_id"]]
    assert registry.get_active_model("general").model_id == a["model_id"]
    assert finish(child) == 0


def test_redis_down_keeps_the_repl_running(cli, dead_url):
    down = dead_url.replace("http://", "redis://")
    child = start(cli, env={"AI_CLI_REDIS_URL": down})
    child.expect(f"Redis at {down} is unreachable")
    child.expect(PROMPT)
    send(child, "/model list")
    child.expect(f"Redis at {down} is unreachable")
    child.expect(PROMPT)
    send(child, "/model general add http://127.0.0.1:9 m --force")
    child.expect("unreachable")
    child.expect(PROMPT)
    send(child, "/help")
    child.expect("/model status")
    assert finish(child) == 0


def test_tab_completes_commands_types_and_model_ids(cli, ollama_server):
    ollama_server.add_model("a")
    a = cli.json("model", "general", "add", ollama_server.url, "a")
    child = start(cli)
    child.expect(PROMPT)
    child.send("/mod\t")
    child.expect(drawn("model"))
    child.send(" gen\t")
    child.expect(drawn("general"))
    child.send(" us\t")
    child.expect(drawn("use"))
    child.send(" model_\t")
    child.expect(drawn(a["model_id"]))
    child.send("\r")
    child.expect("is now active")
    child.expect(PROMPT)
    assert finish(child) == 0


def test_exit_ctrl_d_and_history_across_runs(cli, tmp_path):
    child = start(cli)
    child.expect(PROMPT)
    send(child, "/model list")
    child.expect("No models registered")
    child.expect(PROMPT)
    child.send("\x04")  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    history = tmp_path / "xdg-data" / "ai-cli" / "history"
    assert "/model list" in history.read_text()
    again = start(cli)
    again.expect(PROMPT)
    again.send("\x1b[A")  # up arrow: the line from the last run
    again.expect("/model list")
    again.send("\x15")  # clear the line
    send(again, "/exit")
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0


def test_ctrl_c_at_the_prompt_does_not_leave(cli):
    child = start(cli)
    child.expect(PROMPT)
    child.send("half a line")
    child.sendintr()
    child.expect(PROMPT)
    assert child.isalive()
    assert finish(child) == 0


def test_piped_input_runs_lines_without_a_terminal(cli):
    proc = cli.run(input="/model list\nhello\n/quit\n/model list\n")
    assert proc.returncode == 0
    assert proc.stdout.count("No models registered") == 1
    assert "No general model available" in proc.stderr
    assert "\x1b[" not in proc.stdout


def test_debug_is_off_by_default_so_no_traceback(cli):
    assert "AI_CLI_DEBUG" not in os.environ
    proc = cli.run(input="/model general use nope\n")
    assert "Traceback" not in proc.stderr and "No model with id or name 'nope'" in proc.stderr

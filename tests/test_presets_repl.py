"""Presets in the REPL through a pseudo-terminal: `/preset use NAME` kept on the session (and
`none`), `/chat -p`, `/preset list` and `/preset show --resolved`, checked on what the Ollama
test server received."""

from __future__ import annotations

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_chat_repl import PROMPT, finish, start
from test_cli_support import cli  # noqa: F401

from agent.sessions import SessionStore
from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def test_preset_use_is_kept_on_the_session(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    cli.json("preset", "add", "terse", "-s", "Be terse.", "-o", "temperature", "0.25")
    cli.json("preset", "add", "warm", "-o", "temperature", "0.9")
    child = start(cli)
    child.sendline("/preset use terse")
    child.expect("uses preset terse")
    child.expect(PROMPT)
    ollama_server.reply("first")
    child.sendline("hello")
    child.expect("first")
    child.expect(PROMPT)
    body = ollama_server.chat_requests[-1].body
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert body["options"]["temperature"] == 0.25
    ollama_server.reply("second")
    child.sendline("/chat -p warm -o top_k 3 again")  # -p for this request only
    child.expect("second")
    child.expect(PROMPT)
    options = ollama_server.chat_requests[-1].body["options"]
    assert (options["temperature"], options["top_k"]) == (0.9, 3)
    child.sendline("/preset show terse --resolved")
    child.expect(r"temperature = 0\.25  \[preset terse\]")
    child.expect(PROMPT)
    child.sendline("/preset use none")
    child.expect("uses no preset")
    child.expect(PROMPT)
    ollama_server.reply("third")
    child.sendline("plain")
    child.expect("third")
    child.expect(PROMPT)
    body = ollama_server.chat_requests[-1].body
    assert body["messages"][0]["role"] != "system" and "temperature" not in body["options"]
    child.sendline("/preset use nope")
    child.expect("No preset named 'nope'")
    child.expect(PROMPT)
    assert finish(child) == 0
    (session,) = SessionStore(real_redis, key_prefix).list()
    assert session.preset == ""
    logged = cli.json("--session", session.session_id, "log")
    assert [e["preset"] for e in logged] == [None, "warm", "terse"]


def test_preset_use_in_the_shell_needs_a_session(cli, ollama_server, real_redis, key_prefix):
    cli.json("preset", "add", "terse", "-s", "Be terse.")
    proc = cli.run("preset", "use", "terse")
    assert proc.returncode == 2 and "No session is in use" in proc.stderr
    session = cli.json("session", "new")["session_id"]
    assert cli.json("--session", session, "preset", "use", "terse") == {
        "preset": "terse", "session_id": session}
    assert cli.json("session", "show", session)["preset"] == "terse"


def test_the_wizard_creates_a_preset(cli, ollama_server, real_redis, key_prefix):
    from test_wizard import CLEAR, DOWN, ENTER, ended

    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    child = cli.spawn("setup")
    child.expect_exact("What do you want to do?")
    child.send(DOWN * 3 + ENTER)
    child.expect_exact("Preset name:")
    child.send(CLEAR + "bad name" + ENTER)
    child.expect_exact("not a preset name")  # validated in place
    child.send(CLEAR + "llama3" + ENTER)
    child.expect_exact("registered")  # a model's name, refused in place too
    child.send(CLEAR + "brief" + ENTER)
    child.expect_exact("Which model?")
    child.send(DOWN * 3 + ENTER)
    child.expect_exact("System prompt")
    child.send("Be brief." + ENTER)
    child.expect_exact("Temperature?")
    child.send(DOWN + ENTER)
    child.expect_exact("Preset brief saved")
    assert ended(child) == 0
    made = {p["name"]: p for p in cli.json("preset", "list")}["brief"]
    assert (made["model"], made["system"], made["options"]) == (
        "llama3", "Be brief.", {"temperature": 0.1})

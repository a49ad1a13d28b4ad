"""Thinking through the faces: `ai-cli chat --think` (the answer alone on stdout, the reasoning
and "thought for N s" on stderr), the REPL on a pty (`/thinking hide`), and the web's SSE
`thinking` event."""

from __future__ import annotations

import re

import pexpect
import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import api, read_events, web  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process
PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def thinker(real_redis, key_prefix, server):
    server.add_model("qwen3:8b", ("completion", "thinking"))
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", server.url, "qwen3:8b", timeout=10)


def test_chat_think_puts_the_reasoning_on_stderr_and_the_answer_alone_on_stdout(
        cli, ollama_server, real_redis, key_prefix):
    thinker(real_redis, key_prefix, ollama_server)
    ollama_server.reply_thinking("Counting the letters one by one.", "Three.")
    proc = cli.run("chat", "--think", "high", "how many r in strawberry?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Three.\n"
    assert "Counting the letters one by one." in proc.stderr
    assert re.search(r"thought for \d+ s", proc.stderr)
    assert ollama_server.chat_requests[-1].body["think"] == "high"
    bad = cli.run("chat", "--think", "--", "hi")  # `--think` alone, then the message
    assert bad.returncode == 0 and ollama_server.chat_requests[-1].body["think"] is True


def test_the_repl_shows_thinking_dimmed_above_the_answer_until_hidden(
        cli, ollama_server, real_redis, key_prefix):
    thinker(real_redis, key_prefix, ollama_server)
    ollama_server.reply_thinking("Pondering deeply.", "Forty-two.")
    child = cli.spawn()
    child.expect(PROMPT)
    child.sendline("what is the answer?")
    child.expect(r"\x1b\[2;3mPondering (\x1b\[[\d;]*m)*deeply\.")  # dimmed, on its own
    child.expect(r"thought for \d+ s")
    child.expect("Forty-two.")
    child.expect(PROMPT)
    child.sendline("/thinking hide")
    child.expect("Thinking is hidden")
    child.expect(PROMPT)
    ollama_server.reply_thinking("Secret musings.", "Seven.")
    child.sendline("and now?")
    index = child.expect(["Secret", "Seven."])
    assert index == 1  # the answer came, its thinking did not show
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_web_chat_sends_thinking_as_its_own_event(api, ollama_server, real_redis, key_prefix):
    thinker(real_redis, key_prefix, ollama_server)
    ollama_server.reply_thinking("Hmm let me see.", "Yes.")
    with api.stream("POST", "/chat", json={"message": "is it?", "think": True}) as response:
        assert response.status_code == 200, response.read()
        events = read_events(response)
    names = [name for name, _ in events]
    assert names[0] == "route" and names[-1] == "done"
    assert "".join(d["text"] for n, d in events if n == "thinking") == "Hmm let me see."
    assert "".join(d["text"] for n, d in events if n == "token") == "Yes."
    assert names.index("token") > max(i for i, n in enumerate(names) if n == "thinking")
    session = api.get(f"/sessions/{events[-1][1]['session_id']}").json()
    assert session["messages"][-1]["thinking"] == "Hmm let me see."

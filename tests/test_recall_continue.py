"""`-c` as `llm -c` means it: continue the conversation of the most recent exchange, whichever
face it came from, through real `ai-cli` processes, a real Redis and the Ollama-protocol test
server. Every one-off `ai-cli chat` is a session of its own."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from agent.sessions import SessionStore, StoredMessage
from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def add_general(real_redis, key_prefix, server):
    server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", server.url, "llama3",
                                                               timeout=10)


def sent(server, index=-1):
    return [(m["role"], m["content"]) for m in server.chat_requests[index].body["messages"]]


def test_one_off_chat_then_c_sends_both_turns(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("Hello Bob.")
    first = cli.json("chat", "my name is Bob")
    assert first["session_id"], first  # the one-off exchange is a session of its own
    ollama_server.reply("Your name is Bob.")
    second = cli.json("chat", "-c", "what is my name?")
    assert sent(ollama_server) == [("user", "my name is Bob"), ("assistant", "Hello Bob."),
                                   ("user", "what is my name?")]
    assert second["session_id"] == first["session_id"]
    ollama_server.reply("fresh")
    third = cli.json("chat", "unrelated")  # no -c: a new conversation
    assert sent(ollama_server) == [("user", "unrelated")]
    assert third["session_id"] != first["session_id"]


def test_c_follows_the_latest_exchange_not_the_latest_created_session(cli, ollama_server,
                                                                     real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    store = SessionStore(real_redis, key_prefix)
    talked = store.new()  # as the REPL or the web would have
    store.append(talked.session_id, StoredMessage("user", "from the web"),
                 StoredMessage("assistant", "web answer"))
    assert cli.run("session", "new").returncode == 0  # nothing said in it
    empty = cli.json("session", "list")[0]["session_id"]
    if empty == talked.session_id:
        empty = cli.json("session", "list")[1]["session_id"]
    index = f"{key_prefix}sessions:index"  # times are whole seconds: make it the newer for sure
    real_redis.zadd(index, {empty: real_redis.zscore(index, talked.session_id) + 60})
    assert cli.run("session", "use", "none").returncode == 0
    ollama_server.reply("ok")
    assert cli.json("chat", "-c", "and then?")["session_id"] == talked.session_id
    assert sent(ollama_server) == [("user", "from the web"), ("assistant", "web answer"),
                                   ("user", "and then?")]


def test_c_with_nothing_said_yet_starts_a_conversation(cli, ollama_server, real_redis,
                                                       key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("hi")
    reply = cli.json("chat", "-c", "hello")
    assert reply["session_id"] and sent(ollama_server) == [("user", "hello")]

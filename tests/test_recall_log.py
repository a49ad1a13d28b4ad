"""Recall: every exchange is findable. `ai-cli log` with each prompt and answer (`-q`,
`--since`, `--session`, `-n`, `--no-text`), the entry pointing at its session and message,
`log.store_text: false`, and `session export | remove | list -q`, through real `ai-cli`
processes, a real Redis and the Ollama-protocol test server."""

from __future__ import annotations

import json

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from agent.sessions import SessionStore
from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def add_general(real_redis, key_prefix, server):
    server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", server.url, "llama3",
                                                               timeout=10)


def talk(cli, server, question, answer, *flags):
    server.reply(answer)
    return cli.json("chat", *flags, question)


def test_log_holds_the_prompt_the_answer_and_points_at_the_message(cli, ollama_server,
                                                                   real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    first = talk(cli, ollama_server, "How do I flush Redis?", "Use FLUSHALL with care.")
    talk(cli, ollama_server, "What is a Bloom filter?", "A probabilistic set.")
    newest, oldest = cli.json("log")
    assert (oldest["prompt"], oldest["response"]) == ("How do I flush Redis?",
                                                      "Use FLUSHALL with care.")
    assert newest["prompt"] == "What is a Bloom filter?"
    assert oldest["session_id"] == first["session_id"]
    stored = SessionStore(real_redis, key_prefix).history(first["session_id"])
    assert [m.message_id for m in stored if m.role == "assistant"] == [oldest["message_id"]]
    assert oldest["message_id"].startswith("msg_")
    found = cli.json("log", "-q", "REDIS")  # prompt or answer, any case
    assert [e["prompt"] for e in found] == ["How do I flush Redis?"]
    assert cli.json("log", "-q", "probabilistic")[0]["prompt"] == "What is a Bloom filter?"
    assert cli.json("log", "-q", "nowhere said") == []
    assert cli.json("log", "--session", first["session_id"]) == [oldest]
    assert cli.json("log", "-n", "1") == [newest]
    assert len(cli.json("log", "--since", "1h")) == 2
    assert cli.json("log", "--since", "2999-01-01") == []
    shown = cli.run("log", "-q", "flush")
    assert shown.returncode == 0
    assert "> How do I flush Redis?" in shown.stdout and "Use FLUSHALL with care." in shown.stdout
    assert oldest["message_id"] in shown.stdout and "Bloom" not in shown.stdout
    compact = cli.run("log", "--no-text")
    assert compact.returncode == 0 and "Recent answers" in compact.stdout
    assert "FLUSHALL" not in compact.stdout


def test_bad_since_and_empty_query_are_one_line(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    for args, words in ((("--since", "yesterday"), "--since takes a span"),
                        (("-q", " "), "-q/--query needs some text")):
        bad = cli.run("log", *args)
        assert bad.returncode == 2 and words in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_store_text_false_keeps_text_out_of_the_log(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    cli.write_config(log={"store_text": False})
    reply = talk(cli, ollama_server, "a secret question", "a secret answer")
    (entry,) = cli.json("log")
    assert entry["prompt"] is None and entry["response"] is None
    assert entry["session_id"] == reply["session_id"] and entry["message_id"]
    raw = real_redis.xrange(f"{key_prefix}log:answers")
    assert "secret" not in json.dumps([list(fields.values()) for _id, fields in raw], default=str)
    assert cli.json("log", "-q", "secret") == []
    bad = cli.write_config(log={"store_text": "no"}) or cli.run("chat", "hello")
    assert bad.returncode == 2 and "log.store_text must be true or false" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_session_export_remove_and_list_query(cli, ollama_server, real_redis, key_prefix,
                                              tmp_path):
    add_general(real_redis, key_prefix, ollama_server)
    first = talk(cli, ollama_server, "my name is Bob", "Hello Bob.")["session_id"]
    talk(cli, ollama_server, "what is my name?", "Bob.", "-c")
    other = talk(cli, ollama_server, "tell me about tea", "Tea is a drink.")["session_id"]
    markdown = cli.run("session", "export", first)
    assert markdown.returncode == 0, markdown.stderr
    text = markdown.stdout
    assert text.startswith("# my name is Bob\n") and f"`{first}`" in text
    assert text.index("## You") < text.index("my name is Bob\n\n## llama3")
    assert text.index("Hello Bob.") < text.index("what is my name?") < text.rindex("Bob.")
    loaded = json.loads(cli.run("session", "export", first, "--format", "json").stdout)
    assert [(m["role"], m["content"]) for m in loaded["messages"]] == [
        ("user", "my name is Bob"), ("assistant", "Hello Bob."),
        ("user", "what is my name?"), ("assistant", "Bob.")]
    bad = cli.run("session", "export", first, "--format", "pdf")
    assert bad.returncode == 2 and "--format takes markdown or json" in bad.stderr
    assert [s["session_id"] for s in cli.json("session", "list", "-q", "BOB")] == [first]
    assert [s["session_id"] for s in cli.json("session", "list", "-q", "drink")] == [other]
    none = cli.run("session", "list", "-q", "coffee")
    assert none.returncode == 0 and "No session holds 'coffee'" in none.stdout
    assert cli.json("session", "remove", first)["session_id"] == first
    assert [s["session_id"] for s in cli.json("session", "list")] == [other]
    gone = cli.run("session", "export", first)
    assert gone.returncode == 1 and first in gone.stderr

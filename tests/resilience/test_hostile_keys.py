"""Hostile values at each key ai-cli keeps, written by hand into a real Redis: every command
either works or says in one line which key is damaged and how to fix it; `model repair` fixes
what those lines name, and the registry's invariants hold afterwards.

Each test writes the damage straight into the test's Redis, then runs `ai-cli` as a real
process (the REPL on piped stdin, the subcommands, chat through the Ollama test server).
"""

from __future__ import annotations

import pytest
import redis

from invariants import registry_problems
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

pytestmark = pytest.mark.process

SESSION = "session_0000abcd"


def assert_no_crash(proc, codes=(0,)):
    assert proc.returncode in codes, (proc.returncode, proc.stdout, proc.stderr)
    for text in (proc.stdout, proc.stderr):
        assert "Unexpected error" not in text and "Traceback" not in text, text
        assert "WRONGTYPE" not in text, text


def error_line(proc) -> str:
    """The one error line (a spinner's label, "Checking availability...", may come before)."""
    lines = [line for line in proc.stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# key suffix, the type ai-cli keeps there, how to write another type there
KEY_DAMAGE = {
    "active pointer holds a list": ("models:general:active", "string",
                                    lambda r, k: r.rpush(k, "model_00000001")),
    "general index holds a string": ("models:index:general", "set", lambda r, k: r.set(k, "x")),
    "coder index holds a hash": ("models:index:coder", "set", lambda r, k: r.hset(k, "a", "b")),
}


@pytest.mark.parametrize("damage", list(KEY_DAMAGE))
def test_a_registry_key_of_another_type_is_named_and_repaired(damage, cli, real_redis,
                                                               key_prefix, ollama_server):
    suffix, kept, write = KEY_DAMAGE[damage]
    key = key_prefix + suffix
    ollama_server.add_model("good")
    ollama_server.add_model("other")
    good = cli.json("model", "general", "add", ollama_server.url, "good")
    real_redis.delete(key)
    write(real_redis, key)
    named = f"The registry key {key} holds a Redis"

    repl = cli.run(input="/model list\n/quit\n")  # the REPL starts and names the key
    assert_no_crash(repl)
    assert named in repl.stdout + repl.stderr
    listed = cli.run("model", "list")
    assert_no_crash(listed)
    assert named in listed.stderr and f"where ai-cli keeps a {kept}" in listed.stderr
    assert_no_crash(cli.run("model", "list", "--json"))
    assert_no_crash(cli.run("session", "list"))
    ollama_server.reply("hello back")
    chat = cli.run("chat", "hello")
    if suffix == "models:index:general":  # chat needs that key: one line naming it
        assert_no_crash(chat, codes=(1,))
        assert named in error_line(chat) and "model repair" in chat.stderr
    else:
        assert_no_crash(chat)
        assert "hello back" in chat.stdout
    model_type = "coder" if "coder" in suffix else "general"
    for args in (("model", model_type, "add", ollama_server.url, "other"),
                 ("model", "general", "use", good["model_id"]),
                 ("model", "general", "remove", good["model_id"])):
        proc = cli.run(*args)
        if proc.returncode:  # refused: one line naming the key (or the model it cannot see)
            assert_no_crash(proc, codes=(1,))
            line = error_line(proc)
            assert named in line or "No model with id or name" in line, line
        else:
            assert_no_crash(proc)
    assert real_redis.type(key) != kept  # nothing above wrote over the damage

    before = {k: real_redis.type(k) for k in real_redis.scan_iter(f"{key_prefix}*")}
    dry = cli.json("model", "repair", "--dry-run")
    assert any(f"Deleted {suffix}" in fix for fix in dry["fixes"]), dry
    assert {k: real_redis.type(k) for k in real_redis.scan_iter(f"{key_prefix}*")} == before
    done = cli.run("model", "repair")
    assert_no_crash(done)
    assert f"Deleted {suffix}" in done.stdout
    assert real_redis.type(key) in (kept, "none")
    assert registry_problems(real_redis, key_prefix) == []
    assert cli.json("model", "repair") == {"dry_run": False, "fixes": [], "remaining": []}
    listed = cli.json("model", "list")
    assert good["model_id"] in [m["model_id"] for m in listed]  # the model was never lost
    assert "holds a Redis" not in cli.run("model", "list").stderr


MODEL_KEY_DAMAGE = {
    "model key holds a list": ("models:model_0badc0de", lambda r, k: r.rpush(k, "x")),
    "model key of a non-hex id": ("models:model_XYZ", lambda r, k: r.hset(k, "model_type", "general")),
}


@pytest.mark.parametrize("damage", list(MODEL_KEY_DAMAGE))
def test_repair_drops_a_model_key_no_command_can_use(damage, cli, real_redis, key_prefix,
                                                     ollama_server):
    suffix, write = MODEL_KEY_DAMAGE[damage]
    ollama_server.add_model("good")
    good = cli.json("model", "general", "add", ollama_server.url, "good")
    write(real_redis, key_prefix + suffix)
    real_redis.sadd(f"{key_prefix}models:index:general", suffix.removeprefix("models:"))
    for args in (("model", "list"), ("model", "repair", "--dry-run"), ("session", "list")):
        assert_no_crash(cli.run(*args))
    assert_no_crash(cli.run(input="/model list\n/quit\n"))
    assert_no_crash(cli.run("chat", "hello"))
    done = cli.run("model", "repair")
    assert_no_crash(done)
    assert f"Deleted {suffix}" in done.stdout, done.stdout
    assert not real_redis.exists(key_prefix + suffix)
    assert registry_problems(real_redis, key_prefix) == []
    assert [m["model_id"] for m in cli.json("model", "list")] == [good["model_id"]]
    assert cli.json("model", "repair")["remaining"] == []


def test_a_stored_url_add_would_refuse_is_a_corrupt_entry(cli, real_redis, key_prefix,
                                                           ollama_server):
    ollama_server.add_model("good")
    good = cli.json("model", "general", "add", ollama_server.url, "good")
    bad = "model_0badc0de"
    real_redis.hset(f"{key_prefix}models:{bad}", mapping={
        "model_id": bad, "model_type": "general", "url": "ftp://x y", "model_name": "m",
        "timeout": "30", "is_active": "0", "added_at": "2026-11-24T10:00:00+00:00",
        "last_checked": "", "is_available": ""})
    real_redis.sadd(f"{key_prefix}models:index:general", bad)
    listed = {m["model_id"]: m for m in cli.json("model", "list")}
    assert "url" in listed[bad]["problem"] and "problem" not in listed[good["model_id"]]
    use = cli.run("model", "general", "use", bad)
    assert_no_crash(use, codes=(1,))
    assert "corrupt" in error_line(use)
    ollama_server.reply("fine")
    chat = cli.run("chat", "hello")
    assert_no_crash(chat)
    assert "ftp://" not in chat.stderr
    assert_no_crash(cli.run("model", "general", "remove", bad))
    assert registry_problems(real_redis, key_prefix) == []


def _sound_session(r, prefix):
    r.hset(f"{prefix}sessions:{SESSION}", mapping={
        "session_id": SESSION, "title": "kept", "created_at": "2026-11-24T10:00:00+00:00",
        "updated_at": "2026-11-24T10:00:00+00:00", "pinned_general": "", "pinned_coder": ""})
    r.zadd(f"{prefix}sessions:index", {SESSION: 1})


SESSION_DAMAGE = {
    "messages key holds a string": lambda r, p: (
        _sound_session(r, p), r.set(f"{p}sessions:{SESSION}:messages", "x")),
    "hash without session_id": lambda r, p: (
        _sound_session(r, p), r.hdel(f"{p}sessions:{SESSION}", "session_id")),
    "hash holds a string": lambda r, p: (
        r.set(f"{p}sessions:{SESSION}", "x"), r.zadd(f"{p}sessions:index", {SESSION: 1})),
}


@pytest.mark.parametrize("damage", list(SESSION_DAMAGE))
def test_a_damaged_session_is_listed_named_and_deletable(damage, cli, redis_url, real_redis,
                                                         key_prefix, ollama_server):
    ollama_server.add_model("good")
    cli.json("model", "general", "add", ollama_server.url, "good")
    other = cli.json("session", "new")["session_id"]  # a sound one beside it
    SESSION_DAMAGE[damage](redis.Redis.from_url(redis_url), key_prefix)
    listed = cli.run("session", "list")
    assert_no_crash(listed)
    assert SESSION in listed.stdout and other in listed.stdout and "damaged" in listed.stderr
    rows = {s["session_id"]: s for s in cli.json("session", "list")}
    assert rows[SESSION]["problem"] and "problem" not in rows[other]
    for args in (("session", "show", SESSION), ("chat", "--session", SESSION, "hi"),
                 ("session", "use", SESSION)):
        proc = cli.run(*args)
        assert_no_crash(proc, codes=(1,))
        line = error_line(proc)
        assert f"Session {SESSION} is damaged" in line and f"session delete {SESSION}" in line
    ollama_server.reply("still here")
    chat = cli.run("chat", "hello")  # a chat without that session answers
    assert_no_crash(chat)
    assert "still here" in chat.stdout
    assert_no_crash(cli.run(input="/session list\n/quit\n"))
    deleted = cli.run("session", "delete", SESSION)
    assert_no_crash(deleted)
    assert not any(k for k in real_redis.scan_iter(f"{key_prefix}sessions:{SESSION}*"))
    assert [s["session_id"] for s in cli.json("session", "list")] == [other]


def test_a_message_that_is_not_a_json_object_is_left_out(cli, real_redis, key_prefix,
                                                         ollama_server):
    ollama_server.add_model("good")
    cli.json("model", "general", "add", ollama_server.url, "good")
    _sound_session(real_redis, key_prefix)
    real_redis.rpush(f"{key_prefix}sessions:{SESSION}:messages", "{not json", "[1, 2]", "3",
                     '{"role": "user", "content": "the kept question"}')
    assert_no_crash(cli.run("session", "list"))
    shown = cli.run("session", "show", SESSION)
    assert_no_crash(shown)
    assert "the kept question" in shown.stdout
    ollama_server.reply("answered")
    chat = cli.run("chat", "--session", SESSION, "again")
    assert_no_crash(chat)
    sent = ollama_server.chat_requests[-1].body["messages"]
    assert [m["content"] for m in sent] == ["the kept question", "again"]
    assert_no_crash(cli.run("session", "delete", SESSION))


def test_a_sessions_index_of_another_type_is_named(cli, real_redis, key_prefix, ollama_server):
    key = f"{key_prefix}sessions:index"
    real_redis.set(key, "x")
    listed = cli.run("session", "list")
    assert_no_crash(listed, codes=(1,))
    assert f"The registry key {key} holds a Redis string" in error_line(listed)
    assert_no_crash(cli.run("model", "list"))
    real_redis.delete(key)


def test_web_routes_answer_damage_with_a_json_error(cli, real_redis, key_prefix, ollama_server):
    from web_support import start_web

    ollama_server.add_model("good")
    cli.json("model", "general", "add", ollama_server.url, "good")
    SESSION_DAMAGE["messages key holds a string"](real_redis, key_prefix)
    real_redis.delete(f"{key_prefix}models:general:active")
    real_redis.rpush(f"{key_prefix}models:general:active", "x")
    web = start_web(cli)
    try:
        with web.client(headers={"Host": web.host_header}) as client:
            sessions = client.get("/sessions")
            assert sessions.status_code == 200
            assert [s for s in sessions.json() if s["session_id"] == SESSION][0]["problem"]
            shown = client.get(f"/sessions/{SESSION}")
            assert shown.status_code == 409 and "is damaged" in shown.json()["error"]
            assert client.get("/models").status_code == 200
            use = client.put(f"/models/{cli.json('model', 'list')[0]['model_id']}/activate",
                             json={})
            assert use.status_code == 409, use.text
            assert "models:general:active" in use.json()["error"]
            for response in (sessions, shown, use):
                assert "Error" not in response.text and "Traceback" not in response.text
    finally:
        web.stop()

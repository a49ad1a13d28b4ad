"""Corrupt registry entries written by hand: every command survives; remove and repair clean up.

Each test writes damage straight into a real Redis, then runs `ai-cli` as a real process.
"""

from __future__ import annotations

import json

import pytest
import redis

from invariants import registry_problems
from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from registry.errors import InvalidModelId
from registry.manager import ModelRegistry
from test_cli_support import cli  # noqa: F401

URL = "http://127.0.0.1:9"
SOUND = {"model_type": "general", "url": URL, "model_name": "ok", "timeout": "30",
         "is_active": "0", "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "",
         "is_available": ""}
DAMAGE = {
    "missing url": {k: v for k, v in SOUND.items() if k != "url"},
    "timeout": {**SOUND, "timeout": "soon"},
    "added_at": {**SOUND, "added_at": "yesterday"},
    "model_type": {**SOUND, "model_type": "weird"},
    "not utf-8": {**SOUND, "model_name": b"caf\xe9\xff"},
    "not a hash": "a string where the hash should be",  # every read of it is WRONGTYPE
}
BAD_ID = "model_0badc0de"


def write_corrupt(redis_url, prefix, fields, model_id=BAD_ID, index="general"):
    raw = redis.Redis.from_url(redis_url)  # bytes in, bytes out: any damage can be written
    if isinstance(fields, str):
        raw.set(f"{prefix}models:{model_id}", fields)
    else:
        raw.hset(f"{prefix}models:{model_id}", mapping={"model_id": model_id, **fields})
    raw.sadd(f"{prefix}models:index:{index}", model_id)
    raw.close()


def assert_clean(proc, codes=(0,)):
    assert proc.returncode in codes, (proc.returncode, proc.stdout, proc.stderr)
    for text in (proc.stdout, proc.stderr):
        assert "Unexpected error" not in text and "Traceback" not in text, text
        assert "/model weird" not in text and "model weird" not in text


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_command_survives_a_corrupt_entry(damage, cli, redis_url, real_redis, key_prefix,
                                                ollama_server):
    ollama_server.add_model("good")
    good = cli.json("model", "general", "add", ollama_server.url, "good")
    write_corrupt(redis_url, key_prefix, DAMAGE[damage])
    listed = cli.json("model", "list")
    corrupt = [m for m in listed if m["model_id"] == BAD_ID]
    assert len(corrupt) == 1 and corrupt[0]["problem"], listed
    assert [m["model_id"] for m in listed if "problem" not in m] == [good["model_id"]]
    text = cli.run("model", "list")
    assert_clean(text)
    assert BAD_ID in text.stdout and "corrupt" in text.stdout
    for args in (("model", "general", "list"), ("model", "status"), ("model", "check"),
                 ("session", "list"), ("model", "repair", "--dry-run")):
        assert_clean(cli.run(*args))
    status = cli.json("model", "status")
    assert status["routes"]["general"]["model"]["model_id"] == good["model_id"]
    chat = cli.run("chat", "hello")
    assert_clean(chat)
    assert BAD_ID not in chat.stderr
    repl = cli.run(input="/model list\n/quit\n")
    assert_clean(repl)
    assert BAD_ID in repl.stdout
    use = cli.run("model", "general", "use", BAD_ID)
    assert_clean(use, codes=(1,))
    assert "corrupt" in use.stderr and "remove" in use.stderr
    removed = cli.run("model", "general", "remove", BAD_ID)
    assert_clean(removed)
    assert not real_redis.exists(f"{key_prefix}models:{BAD_ID}")
    assert registry_problems(real_redis, key_prefix) == []


def test_chat_is_never_routed_to_a_corrupt_active_model(cli, redis_url, real_redis, key_prefix,
                                                        ollama_server):
    ollama_server.add_model("ok")
    write_corrupt(redis_url, key_prefix, {**DAMAGE["timeout"], "url": ollama_server.url,
                                          "is_active": "1"})
    real_redis.set(f"{key_prefix}models:general:active", BAD_ID)
    proc = cli.run("model", "status", "--json")  # exit 1 when no route can answer
    status = json.loads(proc.stdout)
    route = status["routes"]["general"]["model"]
    assert route is None or route.get("model_id") != BAD_ID
    ollama_server.reply("hi")
    assert_clean(cli.run("chat", "hello"), codes=(0, 1))
    assert ollama_server.chat_requests == []  # the corrupt entry's server was never asked


def test_remove_works_on_an_index_member_without_a_hash(cli, real_redis, key_prefix):
    real_redis.sadd(f"{key_prefix}models:index:coder", BAD_ID)
    listed = cli.json("model", "coder", "list")
    assert [m["model_id"] for m in listed] == [BAD_ID] and "no stored hash" in listed[0]["problem"]
    removed = cli.run("model", "coder", "remove", BAD_ID)
    assert_clean(removed)
    assert not real_redis.sismember(f"{key_prefix}models:index:coder", BAD_ID)
    assert_clean(cli.run("model", "coder", "remove", BAD_ID), codes=(1,))  # now unknown


def test_remove_of_a_weird_type_works_from_either_type(cli, redis_url, real_redis, key_prefix):
    write_corrupt(redis_url, key_prefix, DAMAGE["model_type"], index="coder")
    removed = cli.run("model", "coder", "remove", BAD_ID)
    assert_clean(removed)
    assert registry_problems(real_redis, key_prefix) == []


@pytest.mark.parametrize("bad_id", ["index:general", "general:active", "model_XYZ", "../x",
                                    "model_0123456789"])
def test_a_key_that_is_not_a_model_id_never_reaches_redis(bad_id, cli, real_redis, key_prefix,
                                                          real_registry):
    real_redis.sadd(f"{key_prefix}models:index:general", "model_00000001")  # WRONGTYPE bait
    for verb in ("use", "remove"):
        proc = cli.run("model", "general", verb, bad_id)  # an id, else a model name: neither
        assert_clean(proc, codes=(1,))
        assert "No model with id or name" in proc.stderr and proc.stderr.count("\n") == 1
    for call in (real_registry.set_active_model, real_registry.remove_model,
                 real_registry.require_model):
        with pytest.raises(InvalidModelId) as caught:  # the library refuses it before Redis
            call(bad_id)
        assert caught.value.exit_code == 2 and "is not a model id" in str(caught.value)
    assert real_redis.smembers(f"{key_prefix}models:index:general") == {"model_00000001"}


def test_repair_fixes_dangling_pointers_orphans_and_double_flags(cli, real_redis, key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    a = registry.add_model("general", URL, "a")
    b = registry.add_model("general", URL, "b", set_active=False)
    c = registry.add_model("coder", URL, "c")
    real_redis.sadd(f"{key_prefix}models:index:general", "model_0000dead")  # orphan member
    real_redis.hset(f"{key_prefix}models:{b.model_id}", "is_active", "1")  # second flag
    real_redis.delete(f"{key_prefix}models:{c.model_id}")  # pointer and index now dangle
    before = registry_problems(real_redis, key_prefix)
    assert before
    dry = cli.json("model", "repair", "--dry-run")
    assert dry["dry_run"] is True and len(dry["fixes"]) >= 4, dry
    assert registry_problems(real_redis, key_prefix) == before  # nothing changed
    done = cli.run("model", "repair")
    assert_clean(done)
    assert "Fixed:" in done.stdout and "model_0000dead" in done.stdout
    assert registry_problems(real_redis, key_prefix) == []
    assert real_redis.get(f"{key_prefix}models:general:active") == a.model_id
    assert real_redis.get(f"{key_prefix}models:coder:active") is None
    again = cli.json("model", "repair")
    assert again == {"dry_run": False, "fixes": [], "remaining": []}
    assert "nothing to repair" in cli.run("model", "repair").stdout


def test_repair_reports_corrupt_entries_and_leaves_them(cli, redis_url, real_redis, key_prefix):
    write_corrupt(redis_url, key_prefix, DAMAGE["timeout"])
    report = cli.json("model", "repair")
    assert report["fixes"] == [] and BAD_ID in report["remaining"][0]
    assert "remove" in report["remaining"][0]
    assert real_redis.exists(f"{key_prefix}models:{BAD_ID}")


def test_use_with_a_dangling_active_pointer_writes_no_stub(cli, real_redis, key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    a = registry.add_model("general", URL, "a", set_active=False)
    real_redis.set(f"{key_prefix}models:general:active", "model_0000dead")
    used = cli.run("model", "general", "use", a.model_id)
    assert_clean(used)
    assert not real_redis.exists(f"{key_prefix}models:model_0000dead")
    assert registry_problems(real_redis, key_prefix) == []


def test_use_and_add_leave_one_active_flag_when_two_were_set(real_registry, real_redis, key_prefix):
    a = real_registry.add_model("general", URL, "a")
    b = real_registry.add_model("general", URL, "b", set_active=False)
    c = real_registry.add_model("general", URL, "c", set_active=False)
    real_redis.hset(f"{key_prefix}models:{b.model_id}", "is_active", "1")  # damage: two flags
    real_registry.set_active_model(c.model_id)
    assert registry_problems(real_redis, key_prefix) == []
    real_redis.hset(f"{key_prefix}models:{a.model_id}", "is_active", "1")
    real_redis.set(f"{key_prefix}models:general:active", "model_0000dead")
    d = real_registry.add_model("general", URL, "d")
    assert not real_redis.exists(f"{key_prefix}models:model_0000dead")
    assert registry_problems(real_redis, key_prefix) == []
    assert real_registry.get_active_model("general") == d

"""Presets from the shell: the real `ai-cli` over a real Redis and the Ollama-protocol test
server, with what the server received compared against the precedence rule (model entry <
preset < session < command line)."""

from __future__ import annotations

import json

import pytest
import yaml
from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry, RegistryKeys

pytestmark = pytest.mark.process


def add_model(real_redis, key_prefix, server, name="llama3", model_type="general",
              active=True, num_ctx=None):
    server.add_model(name)
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        model_type, server.url, name, timeout=10, set_active=active, num_ctx=num_ctx)


def sent(server, index=-1) -> dict:
    body = server.chat_requests[index].body
    return {"model": body["model"], "options": body.get("options") or {},
            "system": next((m["content"] for m in body["messages"] if m["role"] == "system"),
                           None)}


def test_add_list_show_remove_and_bad_input(cli, ollama_server, real_redis, key_prefix):
    add_model(real_redis, key_prefix, ollama_server, "llama3")
    added = cli.json("preset", "add", "terse", "-m", "llama3", "-s", "Be terse.",
                     "-o", "temperature", "0.3", "-o", "stop", "###", "--requires", "tools",
                     "--description", "short answers")
    assert added["name"] == "terse" and added["replaced"] is False
    assert added["options"] == {"temperature": 0.3, "stop": ["###"]}
    assert added["requires"] == ["tools"] and added["model"] == "llama3"
    listed = {p["name"]: p for p in cli.json("preset", "list")}
    assert listed["terse"]["problem"] is None and listed["terse"]["system"] == "Be terse."
    shown = cli.json("preset", "show", "terse")
    assert shown["description"] == "short answers"
    again = cli.json("preset", "add", "terse", "-o", "temperature", "0.5")
    assert again["replaced"] is True and again["model"] == ""
    for args, needle in (
        (("preset", "add", "llama3"), "registered model"),  # a model's name
        (("preset", "add", "model_1234abcd"), "cannot be a preset name"),  # an id's form
        (("preset", "add", "bad name!"), "not a preset name"),
        (("preset", "add", "x", "-o", "temprature", "1"), "Unknown option"),
        (("preset", "add", "x", "-o", "temperature", "hot"), "temperature"),
        (("preset", "add", "x", "--requires", "telepathy"), "capability"),
        (("preset", "add", "x", "-m", "fastest:embedding"), "fastest:"),
    ):
        proc = cli.run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = cli.run("preset", "add", "x", "-m", "no-such-model")
    assert proc.returncode == 1 and "no-such-model" in proc.stderr
    assert "x" not in {p["name"] for p in cli.json("preset", "list")}
    proc = cli.run("preset", "show", "nope")
    assert proc.returncode == 1 and "No preset named 'nope'" in proc.stderr
    assert cli.json("preset", "remove", "terse")["name"] == "terse"
    assert cli.run("preset", "remove", "terse").returncode == 1
    assert "terse" not in {p["name"] for p in cli.json("preset", "list")}


def test_each_layer_overrides_the_lower_ones_key_by_key(cli, ollama_server, real_redis,
                                                        key_prefix):
    add_model(real_redis, key_prefix, ollama_server, "llama3", num_ctx=2048)
    add_model(real_redis, key_prefix, ollama_server, "mistral", active=False)
    cli.json("preset", "add", "p", "-m", "mistral", "-s", "preset system",
             "-o", "num_ctx", "4096", "-o", "temperature", "0.1", "-o", "top_k", "5",
             "-o", "seed", "1")
    # the model entry alone: its num_ctx
    ollama_server.reply("ok")
    assert cli.run("chat", "q").returncode == 0
    assert sent(ollama_server) == {"model": "llama3", "options": {"num_ctx": 2048},
                                   "system": None}
    # the preset over the entry: its model, system prompt and options (num_ctx too)
    ollama_server.reply("ok")
    assert cli.run("chat", "-p", "p", "q").returncode == 0
    assert sent(ollama_server) == {"model": "mistral", "system": "preset system", "options": {
        "num_ctx": 4096, "temperature": 0.1, "top_k": 5, "seed": 1}}
    # the session over the preset, key by key
    session = cli.json("session", "new")["session_id"]
    cli.json("--session", session, "session", "option", "temperature", "0.7")
    cli.json("--session", session, "session", "system", "session system")
    ollama_server.reply("ok")
    assert cli.run("--session", session, "chat", "-p", "p", "q").returncode == 0
    assert sent(ollama_server) == {"model": "mistral", "system": "session system", "options": {
        "num_ctx": 4096, "temperature": 0.7, "top_k": 5, "seed": 1}}
    # the command line over everything: -m replaces the model, -s the system, -o key by key
    ollama_server.reply("ok")
    assert cli.run("--session", session, "chat", "-p", "p", "-m", "llama3", "-s", "cli system",
                   "-o", "top_k", "9", "q").returncode == 0
    assert sent(ollama_server) == {"model": "llama3", "system": "cli system", "options": {
        "num_ctx": 4096, "temperature": 0.7, "top_k": 9, "seed": 1}}
    # the answer log names the preset; `log --preset` filters; `stats --by preset` groups
    logged = cli.json("log", "--preset", "p")
    assert len(logged) == 3 and {e["preset"] for e in logged} == {"p"}
    assert len(cli.json("log")) == 4
    groups = {g["preset"]: g for g in cli.json("model", "stats", "--by", "preset")["presets"]}
    assert groups["p"]["requests"] == 3 and groups[None]["requests"] == 1
    assert groups["p"]["models"] == ["llama3", "mistral"]
    assert cli.run("model", "stats", "--by", "colour").returncode == 2


def test_explain_and_save_send_nothing(cli, ollama_server, real_redis, key_prefix):
    model = add_model(real_redis, key_prefix, ollama_server, "llama3", num_ctx=2048)
    cli.json("preset", "add", "p", "-s", "preset system", "-o", "temperature", "0.1",
             "-o", "num_ctx", "1024")
    ollama_server.clear_requests()
    explained = cli.json("chat", "--explain", "-p", "p", "-o", "temperature", "0.9", "hello")
    assert explained["sent"] is False and explained["preset"] == "p"
    assert explained["route"]["model_id"] == model.model_id
    assert explained["route"]["url"] == ollama_server.url
    assert explained["route"]["unmet_requires"] == []
    assert explained["system"] == {"value": "preset system", "source": "preset p"}
    assert explained["options"] == {
        "num_ctx": {"value": 1024, "source": "preset p"},
        "temperature": {"value": 0.9, "source": "command line"}}
    text = cli.run("chat", "--explain", "-p", "p", "hello").stdout
    assert "nothing was sent" in text and "[preset p]" in text and "llama3" in text
    saved = cli.json("chat", "--save", "mine", "-s", "S", "-o", "top_p", "0.5", "a question")
    assert saved["name"] == "mine" and saved["options"] == {"top_p": 0.5}
    assert saved["system"] == "S" and saved["model"] == ""
    assert ollama_server.chat_requests == []
    assert cli.run("chat", "--save", "llama3", "q").returncode == 2  # a model's name
    ollama_server.reply("ok")
    assert cli.run("chat", "-p", "mine", "q").returncode == 0
    assert sent(ollama_server)["options"] == {"top_p": 0.5, "num_ctx": 2048}


def test_export_then_import_gives_identical_presets(cli, ollama_server, real_redis,
                                                   key_prefix, tmp_path):
    add_model(real_redis, key_prefix, ollama_server, "llama3")
    cli.json("preset", "add", "a", "-m", "llama3", "-s", "line one\nline: two", "-o", "stop",
             "x", "-o", "stop", "y", "-o", "think", "false", "--description", "d")
    cli.json("preset", "add", "b", "-m", "fastest:general", "-o", "keep_alive", "10m")
    before = {p["name"]: p for p in cli.json("preset", "list")}
    exported = cli.run("preset", "export")
    assert exported.returncode == 0
    path = tmp_path / "presets.yaml"
    path.write_text(exported.stdout)
    assert set(yaml.safe_load(exported.stdout)) == set(before)
    for name in before:
        cli.json("preset", "remove", name)
    imported = cli.json("preset", "import", str(path))
    assert [p["name"] for p in imported["presets"]] == sorted(before)
    after = {p["name"]: p for p in cli.json("preset", "list")}
    strip = lambda p: {k: v for k, v in p.items() if k != "updated_at"}  # noqa: E731
    assert {n: strip(p) for n, p in after.items()} == {n: strip(p) for n, p in before.items()}
    assert cli.run("preset", "export", "a").stdout == \
        yaml.safe_dump({"a": yaml.safe_load(exported.stdout)["a"]}, sort_keys=True,
                       allow_unicode=True, default_flow_style=False)


def test_an_invalid_import_file_changes_nothing(cli, ollama_server, real_redis, key_prefix,
                                                tmp_path):
    add_model(real_redis, key_prefix, ollama_server, "llama3")
    cli.json("preset", "add", "keep", "-o", "temperature", "0.4")
    before = cli.json("preset", "list")
    bad_files = {
        "unknown option": {"keep": {"options": {"temperature": 0.9}},
                           "fresh": {"options": {"warmth": 1}}},
        "model name": {"fresh": {}, "llama3": {"system": "x"}},
        "bad name": {"fresh": {}, "no spaces": {}},
        "not yaml": "fresh: [unclosed",
        "unknown setting": {"fresh": {"temperature": 0.2}},
    }
    for label, content in bad_files.items():
        path = tmp_path / f"{label.replace(' ', '_')}.yaml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        proc = cli.run("preset", "import", str(path))
        assert proc.returncode == 2, (label, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert cli.json("preset", "list") == before, label
    assert cli.run("preset", "import", str(tmp_path / "missing.yaml")).returncode == 2


def test_a_preset_whose_model_is_gone_degrades_and_is_marked(cli, ollama_server, real_redis,
                                                             key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    add_model(real_redis, key_prefix, ollama_server, "llama3")
    other = add_model(real_redis, key_prefix, ollama_server, "mistral", active=False)
    cli.json("preset", "add", "m", "-m", "mistral", "-o", "temperature", "0.3")
    registry.remove_model(other.model_id)
    listed = {p["name"]: p for p in cli.json("preset", "list")}
    assert "mistral" in listed["m"]["problem"]
    table = cli.run("preset", "list")
    assert "!" in table.stdout and "m:" in table.stderr
    ollama_server.reply("still answered")
    proc = cli.run("chat", "-p", "m", "q")
    assert proc.returncode == 0 and "still answered" in proc.stdout
    assert "Preset m" in proc.stderr and "Traceback" not in proc.stderr
    assert sent(ollama_server)["model"] == "llama3"
    assert sent(ollama_server)["options"]["temperature"] == 0.3
    proc = cli.run("chat", "-p", "nope", "q")
    assert proc.returncode == 1 and "No preset named 'nope'" in proc.stderr


def test_a_corrupt_preset_hash_is_listed_and_removable(cli, ollama_server, real_redis,
                                                       key_prefix):
    keys = RegistryKeys(key_prefix)
    add_model(real_redis, key_prefix, ollama_server, "llama3")
    cli.json("preset", "add", "ok", "-o", "temperature", "0.2")
    real_redis.hset(keys.preset("broken"), mapping={"name": "broken", "options": "{not json"})
    real_redis.sadd(keys.preset_index, "broken")
    real_redis.sadd(keys.preset_index, "ghost")  # indexed, no hash
    real_redis.set(keys.preset("string"), "x")
    real_redis.sadd(keys.preset_index, "string")
    listed = {p["name"]: p for p in cli.json("preset", "list")}
    assert listed["ok"]["problem"] is None
    for name in ("broken", "ghost", "string"):
        assert listed[name]["problem"].startswith("damaged"), name
    proc = cli.run("preset", "list")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert cli.run("chat", "-p", "broken", "q").returncode == 2
    for name in ("broken", "ghost", "string"):
        assert cli.json("preset", "remove", name)["name"] == name
    assert {p["name"] for p in cli.json("preset", "list")} >= {"ok"}
    assert not {"broken", "ghost", "string"} & {p["name"] for p in cli.json("preset", "list")}
    assert real_redis.exists(keys.preset("string")) == 0
    real_redis.delete(keys.preset_index)
    real_redis.set(keys.preset_index, "not a set")
    proc = cli.run("preset", "list")
    assert proc.returncode == 0 and "presets:index holds a Redis string" in proc.stderr
    assert "redis-cli DEL" in proc.stderr


def test_changes_publish_events(cli, real_redis, key_prefix):
    pubsub = real_redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(RegistryKeys(key_prefix).events)
    cli.json("preset", "add", "ev", "-o", "temperature", "0.2")
    cli.json("preset", "remove", "ev")
    seen = []
    for _ in range(20):  # None for the subscribe confirmation, then the events in order
        message = pubsub.get_message(timeout=5)
        if message is not None:
            seen.append(json.loads(message["data"]))
        if {"event": "preset_removed", "name": "ev"} in seen:
            break
    pubsub.close()
    assert {"event": "preset_added", "name": "ev"} in seen
    assert {"event": "preset_removed", "name": "ev"} in seen


def test_an_unmet_requirement_is_reported_when_known(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("plain", capabilities=("completion",))
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", ollama_server.url, "plain", timeout=10)
    cli.json("preset", "add", "tooly", "--requires", "tools")
    explained = cli.json("chat", "--explain", "-p", "tooly")
    assert explained["route"]["unmet_requires"] == ["tools"]
    resolved = cli.json("preset", "show", "tooly", "--resolved")["resolved"]
    assert resolved["route"]["unmet_requires"] == ["tools"]
    assert "requires tools" in cli.run("chat", "--explain", "-p", "tooly").stderr
    assert ollama_server.chat_requests == []


def test_ai_cli_migrate_runs_the_preset_steps_too(cli, real_redis, key_prefix):
    cli.write_config(presets={"terse": {"system": "Be terse.", "options": {"temperature": 0.2}}})
    env = {"AI_CLI_SKIP_MODEL_MIGRATION": "true"}  # so that only `migrate` runs them
    planned = cli.json("migrate", "--dry-run", env=env)["presets"]
    assert planned["from_config"] == ["terse"] and planned["shipped"] == [
        "fast", "accurate", "coding"]
    assert list(real_redis.scan_iter(f"{key_prefix}presets:*")) == []
    done = cli.json("migrate", env=env)["presets"]
    assert done["changed"] and sorted(real_redis.smembers(f"{key_prefix}presets:index")) == [
        "accurate", "coding", "fast", "terse"]
    assert cli.json("migrate", env=env)["presets"]["changed"] is False
    text = cli.run("migrate", "--dry-run", env=env).stdout
    assert "Presets" not in text  # nothing left to do


def test_fast_means_the_model_with_the_best_logged_time_to_first_token(cli, ollama_server,
                                                                        real_redis, key_prefix):
    from registry.answer_log import AnswerLog, AnswerRecord

    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    slow = add_model(real_redis, key_prefix, ollama_server, "llama3")  # the active one
    quick = add_model(real_redis, key_prefix, ollama_server, "mistral", active=False)
    assert cli.json("chat", "--explain", "-p", "fast")["route"]["model_id"] == slow.model_id
    log = AnswerLog(registry)
    for model, ttft in ((slow, 900), (slow, 800), (quick, 120), (quick, 150)):
        log.append(AnswerRecord(model.model_id, model.model_name, model.url, "active",
                                ttft_ms=ttft))
    explained = cli.json("chat", "--explain", "-p", "fast")
    assert explained["route"]["model_id"] == quick.model_id
    assert explained["model"] == {"value": "fastest:general", "source": "preset fast"}
    assert explained["options"]["num_predict"] == {"value": 512, "source": "preset fast"}
    ollama_server.reply("quick")
    assert cli.run("chat", "-p", "fast", "q").returncode == 0
    assert sent(ollama_server)["model"] == "mistral"


def test_code_through_a_preset_sends_its_model_and_options(cli, ollama_server, real_redis,
                                                          key_prefix):
    add_model(real_redis, key_prefix, ollama_server, "coder-7b", model_type="coder")
    add_model(real_redis, key_prefix, ollama_server, "other-coder", model_type="coder",
              active=False)
    cli.json("preset", "add", "careful", "-m", "other-coder", "-o", "temperature", "0.05")
    ollama_server.reply("Nothing to change.")
    assert cli.run("code", "-p", "careful", "look at nothing", "--yes").returncode == 0
    assert sent(ollama_server)["model"] == "other-coder"
    assert sent(ollama_server)["options"]["temperature"] == 0.05
    assert cli.json("log", "-n", "1")[0]["preset"] == "careful"
    ollama_server.reply("Again nothing.")
    assert cli.run("code", "-p", "careful", "-m", "coder-7b", "x", "--yes").returncode == 0
    assert sent(ollama_server)["model"] == "coder-7b"  # -m over the preset's model

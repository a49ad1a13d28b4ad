"""The one-time config.yaml -> Redis migration, checked key by key against a real Redis (one
server, and a Redis Cluster).

Covers: first run, rerun, partial legacy configs, invalid legacy entries, a process killed in the
middle, both environment flags, and Redis down at start (then back).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from invariants import ISO_UTC, registry_problems
from ollama_fixtures import ollama_server  # noqa: F401
from migrations.add_model_registry import migrate, migrate_on_start
from migrations.pending import nothing_to_migrate
from registry import open_registry
from registry.config import ConfigManager
from registry.errors import AiCliError, ConfigError, RegistryReadOnly
from registry.manager import SCHEMA_VERSION, ModelRegistry
from registry.config_yaml import legacy_model_id
from redis_process import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.also_on_cluster

BOTH = """
ollama:
  url: http://127.0.0.1:11434
  model: llama3.1:8b
  timeout: 90
coder:
  url: http://localhost:11434/
  model: qwen2.5-coder:7b
tinyollama: {url: 'http://127.0.0.1:11434', model: tinyllama, timeout: 60}
"""
GENERAL_ID = legacy_model_id("general", "http://127.0.0.1:11434", "llama3.1:8b")
CODER_ID = legacy_model_id("coder", "http://localhost:11434", "qwen2.5-coder:7b")


def load(tmp_path, text: str, prefix: str = "", **env) -> ConfigManager:
    path = tmp_path / "config.yaml"
    path.write_text(text + (f"redis: {{key_prefix: '{prefix}'}}\n" if prefix else ""))
    return ConfigManager.load(path, env=env)


def snapshot(client, prefix: str) -> dict:
    """Every key under the prefix with its type and value: what "compared key by key" compares."""
    keys = {}
    for key in sorted(client.scan_iter(f"{prefix}*")):
        kind = client.type(key)
        value = {"string": client.get, "hash": client.hgetall,
                 "set": lambda k: sorted(client.smembers(k))}[kind](key)
        keys[key[len(prefix):]] = (kind, value)
    return keys


# --- first run, rerun, shapes ------------------------------------------------------------------


def test_first_run_copies_both_models_as_active(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, BOTH)
    before = config.path.read_bytes()
    report = migrate(real_registry, config)
    keys = snapshot(real_redis, key_prefix)
    assert keys["models:schema"] == ("string", "1")
    kind, migrated = keys["models:migrated"]
    assert ISO_UTC.match(migrated)
    assert keys["models:general:active"] == ("string", GENERAL_ID)
    assert keys["models:coder:active"] == ("string", CODER_ID)
    assert keys["models:index:general"] == ("set", [GENERAL_ID])
    assert keys["models:index:coder"] == ("set", [CODER_ID])
    general = keys[f"models:{GENERAL_ID}"][1]
    assert general == {"model_id": GENERAL_ID, "model_type": "general",
                       "url": "http://127.0.0.1:11434", "model_name": "llama3.1:8b",
                       "timeout": "90", "is_active": "1", "added_at": migrated,
                       "last_checked": "", "is_available": "", "num_ctx": "", "parallel": "1"}
    assert keys[f"models:{CODER_ID}"][1]["timeout"] == "120"  # defaults.timeout
    assert len(keys) == 8
    assert registry_problems(real_redis, key_prefix) == []
    assert config.path.read_bytes() == before
    assert report.changed and report.migrated_at == migrated
    summary = report.summary()
    assert "Migrated 2 models" in summary and GENERAL_ID in summary and "\n" not in summary
    assert real_registry.get_active_model("general").model_name == "llama3.1:8b"


def test_rerun_changes_nothing_and_says_so(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, BOTH)
    migrate(real_registry, config)
    before = snapshot(real_redis, key_prefix)
    report = migrate(real_registry, config)
    assert snapshot(real_redis, key_prefix) == before
    assert not report.changed and report.changes == ()
    assert report.summary().startswith("Nothing to do: the config.yaml models were migrated at")


def test_migrated_marker_removed_rerun_only_records_it(tmp_path, real_registry, real_redis,
                                                       key_prefix):
    config = load(tmp_path, BOTH)
    migrate(real_registry, config)
    real_redis.delete(f"{key_prefix}models:migrated")
    before = snapshot(real_redis, key_prefix)
    report = migrate(real_registry, config)
    assert [c.kind for c in report.changes] == ["keep", "keep", "migrated"]
    assert report.summary().startswith("Recorded the migration")
    after = snapshot(real_redis, key_prefix)
    assert {k: v for k, v in after.items() if k != "models:migrated"} == before


def test_rerun_after_user_changes_keeps_them(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, BOTH)
    migrate(real_registry, config)
    real_registry.remove_model(CODER_ID)
    chosen = real_registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    before = snapshot(real_redis, key_prefix)
    assert not migrate(real_registry, config).changed
    assert snapshot(real_redis, key_prefix) == before
    assert real_registry.get_active_model("general") == chosen


@pytest.mark.parametrize("text, present, absent", [
    ("coder: {url: 'http://127.0.0.1:11434', model: 'deepseek-coder'}\n", "coder", "general"),
    ("general: {url: 'http://localhost:11434', model: phi3, timeout: 30}\n", "general", "coder"),
    ("ollama: {url: 'http://[::1]:11434', model: 'llama3'}\nother: {keep: me}\n",
     "general", "coder"),
])
def test_partial_legacy_config(tmp_path, any_redis, key_prefix, text, present, absent):
    registry = ModelRegistry(any_redis, key_prefix=key_prefix)
    report = migrate(registry, load(tmp_path, text))
    assert [c.model.model_type for c in report.models] == [present]
    assert registry.get_active_model(present) is not None
    assert registry.get_active_model(absent) is None
    assert registry.list_models(absent) == []
    assert any_redis.get(f"{key_prefix}models:migrated")
    assert registry_problems(any_redis, key_prefix) == []


def test_no_legacy_models_sets_up_keys_and_stays_pending(tmp_path, any_redis, key_prefix):
    registry = ModelRegistry(any_redis, key_prefix=key_prefix)
    report = migrate(registry, load(tmp_path, "defaults: {timeout: 60}\n"))
    assert report.models == [] and "has no models to migrate" in report.summary()
    assert snapshot(any_redis, key_prefix) == {"models:schema": ("string", "1")}
    assert migrate(registry, load(tmp_path, "defaults: {timeout: 60}\n")).summary().startswith(
        "Nothing to migrate")
    # config.yaml gains a model later: the migration still happens, once.
    report = migrate(registry, load(tmp_path, "coder: {url: 'http://127.0.0.1:1', model: c}\n"))
    assert [c.kind for c in report.changes] == ["add", "migrated"]


@pytest.mark.parametrize("schema", [None, "1", "999"])
@pytest.mark.parametrize("migrated", [None, "2026-11-29T10:00:00Z"])
@pytest.mark.parametrize("text", [BOTH, "defaults: {timeout: 60}\n",
                                  "coder: {url: 'not a url', model: c}\n"])
def test_start_skips_the_migration_only_when_it_would_write_nothing(tmp_path, any_redis,
                                                                    key_prefix, schema, migrated,
                                                                    text):
    """Every start decides from the two markers whether to import and run the migration
    (migrations/pending.py); when it skips, the migration itself would have had nothing to do."""
    for key, value in (("schema", schema), ("migrated", migrated)):
        if value is not None:
            any_redis.set(f"{key_prefix}models:{key}", value)
    config = load(tmp_path, text)
    skipped = nothing_to_migrate(schema, migrated, config.has_legacy_sections, SCHEMA_VERSION)
    assert skipped == (schema == "1" and (migrated is not None or text.startswith("defaults")))
    if skipped:
        report = migrate(ModelRegistry(any_redis, key_prefix=key_prefix), config, dry_run=True)
        assert not report.changed and report.steps in ((), ("config_yaml_models",))


def test_a_start_after_config_yaml_gains_models_still_migrates_them(tmp_path, redis_target,
                                                                   real_redis, key_prefix,
                                                                   monkeypatch, capsys):
    from cli.main import main

    for name, value in redis_target.env().items():
        monkeypatch.setenv(name, value)
    plain = load(tmp_path, "defaults: {timeout: 60}\n", prefix=key_prefix)
    assert main(["--config", str(plain.path), "--json", "model", "list"]) == 0
    assert real_redis.get(f"{key_prefix}models:schema") == SCHEMA_VERSION  # set up, pending
    capsys.readouterr()
    config = load(tmp_path, BOTH, prefix=key_prefix)
    assert main(["--config", str(config.path), "--json", "model", "list"]) == 0
    assert "Migrated 2 models" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["schema", "migrated", "general:active", "index:coder"])
def test_a_key_of_another_redis_type_breaks_no_command(tmp_path, redis_target, real_redis,
                                                      key_prefix, monkeypatch, capsys, name):
    """A hash where the migration reads text or a set (written by hand or another program), while
    config.yaml's models wait to be migrated: every start says so in one line and goes on;
    `ai-cli migrate` refuses with the fix; nothing is written."""
    from cli.main import main

    for variable, value in redis_target.env().items():
        monkeypatch.setenv(variable, value)
    if name != "schema":
        real_redis.set(f"{key_prefix}models:schema", SCHEMA_VERSION)
    key = f"{key_prefix}models:{name}"
    real_redis.hset(key, "surprise", "1")
    before = snapshot(real_redis, key_prefix)
    config = load(tmp_path, BOTH, prefix=key_prefix)
    assert main(["--config", str(config.path), "--json", "model", "list"]) == 0
    shown = capsys.readouterr()
    assert json.loads(shown.out) == []
    assert (f"The config.yaml models were not migrated: The registry key {key} holds another "
            f"Redis type than ai-cli writes there. Delete it (redis-cli DEL '{key}') and run "
            "'ai-cli model repair'; ai-cli writes again what belongs there.") in shown.err
    assert "Unexpected error" not in shown.err
    assert main(["--config", str(config.path), "--json", "migrate"]) == 1
    assert "redis-cli DEL" in json.loads(capsys.readouterr().out)["error"]
    assert snapshot(real_redis, key_prefix) == before


def test_same_url_and_name_is_activated_not_duplicated(tmp_path, real_registry, real_redis,
                                                       key_prefix):
    other = real_registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    existing = real_registry.add_model("general", "http://127.0.0.1:11434", "llama3.1:8b",
                                       set_active=False)
    same_coder = real_registry.add_model("coder", "http://localhost:11434", "qwen2.5-coder:7b")
    report = migrate(real_registry, load(tmp_path, BOTH))
    assert [(c.kind, c.model.model_id) for c in report.models] == [
        ("activate", existing.model_id), ("keep", same_coder.model_id)]
    assert len(real_registry.list_models("general")) == 2
    assert len(real_registry.list_models("coder")) == 1
    assert real_registry.get_active_model("general").model_id == existing.model_id
    assert real_registry.get_model(other.model_id).is_active is False
    assert real_registry.get_active_model("coder") == same_coder
    assert registry_problems(real_redis, key_prefix) == []


def test_an_active_model_of_another_name_is_replaced(tmp_path, real_registry, real_redis,
                                                     key_prefix):
    before = real_registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    report = migrate(real_registry, load(tmp_path, BOTH))
    assert report.models[0].previous == before.model_id
    assert f"replacing {before.model_id} as active" in "\n".join(report.lines())
    assert real_registry.get_active_model("general").model_id == GENERAL_ID
    assert real_registry.get_model(before.model_id).is_active is False
    assert registry_problems(real_redis, key_prefix) == []


def test_concurrent_runs_migrate_once(tmp_path, redis_target, real_redis, key_prefix):
    """Eight processes' worth of clients at once: WATCH lets exactly one of them migrate."""
    from concurrent.futures import ThreadPoolExecutor

    config = load(tmp_path, BOTH)

    def one_run(_):
        client = redis_target.client()
        try:
            return migrate(ModelRegistry(client, key_prefix=key_prefix), config)
        finally:
            client.close()

    with ThreadPoolExecutor(8) as pool:
        reports = list(pool.map(one_run, range(8)))
    assert sum(1 for r in reports if r.changed) == 1
    assert len({r.migrated_at for r in reports}) == 1
    assert len(snapshot(real_redis, key_prefix)) == 8
    assert registry_problems(real_redis, key_prefix) == []


def test_dry_run_writes_nothing(tmp_path, any_redis, key_prefix):
    registry = ModelRegistry(any_redis, key_prefix=key_prefix)
    report = migrate(registry, load(tmp_path, BOTH), dry_run=True)
    assert snapshot(any_redis, key_prefix) == {}
    assert report.summary().startswith("Would migrate 2 models")
    assert [c.kind for c in report.changes] == ["schema", "add", "add", "migrated"]
    assert all(line.startswith("  - would ") for line in report.lines()[1:])


def test_events_are_published(tmp_path, real_registry, real_redis, key_prefix):
    listener = real_redis.pubsub()
    listener.subscribe(f"{key_prefix}models:events")
    listener.get_message(timeout=1)  # the subscribe confirmation
    migrate(real_registry, load(tmp_path, BOTH))
    events = [json.loads(listener.get_message(timeout=1)["data"]) for _ in range(2)]
    assert events == [{"op": "add", "model_id": GENERAL_ID, "model_type": "general"},
                      {"op": "add", "model_id": CODER_ID, "model_type": "coder"}]
    listener.close()


def test_newer_schema_is_refused(tmp_path, any_redis, key_prefix):
    any_redis.set(f"{key_prefix}models:schema", "2")
    with pytest.raises(AiCliError, match="schema 2"):
        migrate(ModelRegistry(any_redis, key_prefix=key_prefix), load(tmp_path, BOTH))
    assert snapshot(any_redis, key_prefix) == {"models:schema": ("string", "2")}


# --- invalid legacy entries ---------------------------------------------------------------------


@pytest.mark.parametrize("text, line, words", [
    ("ollama:\n  url: ftp://127.0.0.1:11434\n  model: llama3\n", 2, "http://"),
    ("ollama:\n  url: http://127.0.0.1:11434\n", 1, "has no 'model'"),
    ("coder:\n  url: http://127.0.0.1:11434\n  model: x\n  timeout: 0\n", 4, "timeout"),
    ("coder: [http://127.0.0.1:11434]\n", 1, "must be a mapping"),
    ("ollama: {url: 'http://127.0.0.1:1', model: ok}\ncoder: {url: 'http://127.0.0.1:1', "
     "model: 'has space'}\n", 2, "spaces"),
])
def test_invalid_legacy_entry_is_a_clear_error_and_writes_nothing(
        tmp_path, any_redis, key_prefix, text, line, words):
    registry = ModelRegistry(any_redis, key_prefix=key_prefix)
    config = load(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        migrate(registry, config)
    message = str(caught.value)
    assert f"{config.path}, line {line}" in message and words in message and "\n" not in message
    assert snapshot(any_redis, key_prefix) == {}
    line_shown = migrate_on_start(registry, config)
    assert "not migrated" in line_shown and "AI_CLI_SKIP_MODEL_MIGRATION" in line_shown
    assert snapshot(any_redis, key_prefix) == {}


def run_script(config_path: Path, target, *args: str, **env) -> subprocess.CompletedProcess:
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), **target.env(), **env}
    return subprocess.run(
        [sys.executable, "-m", "migrations.add_model_registry", "--config", str(config_path),
         *args], capture_output=True, text=True, timeout=60, env=child_env, cwd=config_path.parent)


@pytest.mark.process
def test_script_reports_invalid_entry_in_one_line(tmp_path, redis_target, real_redis, key_prefix):
    config = load(tmp_path, "coder:\n  url: ftp://nope\n  model: x\n", prefix=key_prefix)
    result = run_script(config.path, redis_target)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "line 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(real_redis, key_prefix) == {}


# --- killed in the middle -----------------------------------------------------------------------


def run_script_killed(config_path: Path, target, client, point: str) -> subprocess.Popen:
    """The migration script, SIGKILLed at a point the test sees on the Redis server: "reading"
    (as soon as its reads under WATCH are seen), "queued" (its MULTI is open, EXEC not yet run)
    or "done" (its marker is written). For the first two, writes are paused on the server
    (CLIENT PAUSE WRITE) while it runs, so the kill always lands before its EXEC."""
    nodes = client.get_primaries() if target.cluster else [None]

    def on_nodes(*command) -> None:
        for node in nodes:
            client.execute_command(*command, **({"target_nodes": node} if node else {}))

    def clients() -> list[tuple[int, dict]]:
        """(node, client) for every connection; a node numbers its clients on its own."""
        if not target.cluster:
            return [(0, c) for c in client.client_list()]
        return [(i, c) for i, node in enumerate(nodes)
                for c in client.client_list(target_nodes=node)]

    def seen() -> bool:
        if point == "done":
            return bool(client.exists(f"{prefix_of(config_path)}models:migrated"))
        its = [c for i, c in clients() if int(c["id"]) > first_ids.get(i, 0)]
        queued = any("x" in c["flags"] for c in its)
        if point == "queued":
            return queued
        reading = ("watch", "get", "smembers", "hgetall", "multi", "exec")
        return queued or any(c["cmd"] in reading for c in its)

    first_ids: dict[int, int] = {}
    for i, c in clients():
        first_ids[i] = max(first_ids.get(i, 0), int(c["id"]))
    if point != "done":
        on_nodes("CLIENT", "PAUSE", "60000", "WRITE")
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "migrations.add_model_registry", "--config",
             str(config_path)], env={**os.environ, "PYTHONPATH": str(ROOT), **target.env()},
            cwd=config_path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not seen():
            assert time.monotonic() < deadline and child.poll() is None, child.communicate()
            time.sleep(0.005)
        child.kill()
        child.communicate()
    finally:
        if point != "done":
            on_nodes("CLIENT", "UNPAUSE")
    return child


def prefix_of(config_path: Path) -> str:
    return ConfigManager.load(config_path, env={}).key_prefix


@pytest.mark.process
@pytest.mark.parametrize("point", ["reading", "queued", "done"])
def test_a_killed_run_leaves_all_or_nothing(tmp_path, redis_target, real_redis, key_prefix, point):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    earlier = registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    config = load(tmp_path, BOTH, prefix=key_prefix)
    before = snapshot(real_redis, key_prefix)
    killed = run_script_killed(config.path, redis_target, real_redis, point)
    assert killed.returncode in ((0, -signal.SIGKILL) if point == "done" else (-signal.SIGKILL,))
    after = snapshot(real_redis, key_prefix)
    assert registry_problems(real_redis, key_prefix) == []
    if point == "done":
        assert "models:migrated" in after
        assert real_registry_active(registry) == (GENERAL_ID, CODER_ID)
        assert registry.get_model(earlier.model_id).is_active is False
    else:
        assert after == before  # nothing at all, not even models:schema
    finished = run_script(config.path, redis_target)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("Nothing to do" if point == "done" else "Migrated 2")
    assert real_registry_active(registry) == (GENERAL_ID, CODER_ID)
    assert registry_problems(real_redis, key_prefix) == []
    assert len(snapshot(real_redis, key_prefix)) == len(before) + 5


def real_registry_active(registry) -> tuple:
    return tuple(registry.get_active_model(t).model_id for t in ("general", "coder"))


@pytest.mark.process
def test_script_dry_run_and_json(tmp_path, redis_target, real_redis, key_prefix):
    config = load(tmp_path, BOTH, prefix=key_prefix)
    dry = run_script(config.path, redis_target, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("Would migrate 2 models")
    assert snapshot(real_redis, key_prefix) == {}
    done = json.loads(run_script(config.path, redis_target, "--json").stdout)
    assert done["changed"] and [c["kind"] for c in done["changes"]] == [
        "schema", "add", "add", "migrated"]
    again = json.loads(run_script(config.path, redis_target, "--json").stdout)
    assert again["changed"] is False and again["migrated_at"] == done["migrated_at"]


# --- start-up: the env flags, Redis down ---------------------------------------------------------


def test_first_start_migrates_once_in_one_line(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, BOTH)
    line = migrate_on_start(real_registry, config)
    assert line.startswith("Migrated 2 models") and "\n" not in line
    assert migrate_on_start(real_registry, config) is None
    assert real_registry.get_active_model("coder").model_id == CODER_ID


def test_skip_flag_turns_the_migration_off(tmp_path, redis_target, real_redis, key_prefix):
    config = load(tmp_path, BOTH, prefix=key_prefix, AI_CLI_SKIP_MODEL_MIGRATION="true",
                  **redis_target.env())
    registry = open_registry(config)
    assert migrate_on_start(registry, config) is None
    assert snapshot(real_redis, key_prefix) == {}
    assert registry.list_models() == []  # Redis, not config.yaml
    assert migrate(registry, config).changed  # `ai-cli migrate` still works by hand


def test_force_flag_ignores_redis_and_refuses_changes(tmp_path, redis_target, real_redis,
                                                      key_prefix):
    config = load(tmp_path, BOTH, prefix=key_prefix, AI_CLI_FORCE_CONFIG_YAML="true",
                  **redis_target.env())
    real_redis.set(f"{key_prefix}models:general:active", "model_0000abcd")  # must be ignored
    registry = open_registry(config)
    assert migrate_on_start(registry, config) is None
    assert registry.get_active_model("general").model_id == GENERAL_ID
    with pytest.raises(RegistryReadOnly, match="AI_CLI_FORCE_CONFIG_YAML=true"):
        migrate(registry, config)
    with pytest.raises(RegistryReadOnly, match="AI_CLI_FORCE_CONFIG_YAML=true"):
        registry.add_model("coder", "http://127.0.0.1:11434", "x")
    assert snapshot(real_redis, key_prefix) == {
        "models:general:active": ("string", "model_0000abcd")}


@pytest.mark.process
def test_redis_down_at_start_then_back(tmp_path):
    server = RedisProcess(tmp_path)
    config = load(tmp_path, BOTH, AI_CLI_REDIS_URL=server.url)
    try:
        registry = open_registry(config)
        assert not registry.online and server.url in registry.notice
        assert migrate_on_start(registry, config) is None
        offline = registry.get_active_model("general")
        assert (offline.model_id, offline.model_name) == (GENERAL_ID, "llama3.1:8b")
        with pytest.raises(RegistryReadOnly, match="read-only until it is back"):
            migrate(registry, config)
        server.start()
        registry.retry_interval = 0  # instead of waiting the few seconds between retries
        assert registry.online
        # The migration that waited for Redis ran on reconnect; ids match the offline ones.
        assert registry.get_active_model("general") == registry.live().get_model(GENERAL_ID)
        assert registry.live().get_active_model("coder").model_id == CODER_ID
        (message,) = registry.messages
        assert "is back" in message and "Migrated 2 models" in message
        assert registry_problems(registry.redis, "") == []
    finally:
        server.stop()


# --- through the ai-cli program ------------------------------------------------------------------


def test_ai_cli_migrate_command(tmp_path, redis_target, real_redis, key_prefix, monkeypatch,
                                capsys):
    from cli.main import main

    for name, value in redis_target.env().items():
        monkeypatch.setenv(name, value)
    config = load(tmp_path, BOTH, prefix=key_prefix)
    assert main(["--config", str(config.path), "migrate", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("Would migrate 2 models")
    assert snapshot(real_redis, key_prefix) == {}
    assert main(["--config", str(config.path), "--json", "migrate"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] and report["changes"][1]["model"]["model_id"] == GENERAL_ID
    assert main(["--config", str(config.path), "migrate"]) == 0
    assert capsys.readouterr().out.startswith("Nothing to do")


def test_ai_cli_migrate_refuses_under_force_flag(tmp_path, redis_url, monkeypatch, capsys):
    from cli.main import main

    monkeypatch.setenv("AI_CLI_REDIS_URL", redis_url)
    monkeypatch.setenv("AI_CLI_FORCE_CONFIG_YAML", "true")
    config = load(tmp_path, BOTH)
    assert main(["--config", str(config.path), "--json", "migrate"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert "AI_CLI_FORCE_CONFIG_YAML=true" in error and "cannot run now" in error


def test_first_start_of_ai_cli_says_it_migrated(tmp_path, redis_target, real_redis, key_prefix,
                                                monkeypatch, capsys):
    from cli.main import main

    for name, value in redis_target.env().items():
        monkeypatch.setenv(name, value)
    config = load(tmp_path, BOTH, prefix=key_prefix)
    assert main(["--config", str(config.path), "--json", "model", "list"]) == 0
    first = capsys.readouterr()
    assert "Migrated 2 models" in first.err
    assert {m["model_id"] for m in json.loads(first.out)} == {GENERAL_ID, CODER_ID}
    assert main(["--config", str(config.path), "model", "list"]) == 0
    assert "Migrated" not in capsys.readouterr().err


@pytest.mark.process
def test_repl_started_with_redis_down_then_brought_up(tmp_path, ollama_server):
    """The whole program: starts on config.yaml, refuses changes naming the URL, then picks Redis
    up without a restart, migrates, and accepts changes."""
    import pexpect

    from test_cli_support import make_cli

    ollama_server.add_model("llama3.1:8b")
    ollama_server.add_model("qwen2.5-coder:7b")
    server = RedisProcess(tmp_path)
    cli = make_cli(tmp_path, server.url, "", ollama_server.url)
    cli.write_config(ollama={"url": ollama_server.url, "model": "llama3.1:8b"},
                     coder={"url": ollama_server.url, "model": "qwen2.5-coder:7b"})
    prompt = r">(\x08)?(\x1b\[\d*C| )"
    child = cli.spawn(timeout=30)
    try:
        child.expect(f"Redis at {server.url} is unreachable")
        child.expect(r"General Model: llama3\.1:8b @ 127\.0\.0\.1:\d+ \(reachable\)")
        child.expect(prompt)
        child.sendline(f"/model general add {ollama_server.url} qwen2.5-coder:7b")
        child.expect("read-only until it is back")
        child.expect(prompt)
        server.start()
        for _ in range(40):  # the registry retries every few seconds; ask until it has
            child.sendline("/model list")
            if child.expect([r"is back: the model registry is writable again", "unreachable"]) == 0:
                break
            child.expect(prompt)
            time.sleep(0.25)
        else:
            raise AssertionError("Redis was not picked up again")
        child.expect("Migrated 2 models")
        child.expect(prompt)
        child.sendline(f"/model general add {ollama_server.url} qwen2.5-coder:7b")
        child.expect(r"model_[0-9a-f]{8}")
        child.expect(prompt)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        client = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
        assert registry_problems(client) == []
        assert len(client.smembers("models:index:general")) == 2
        assert client.get("models:coder:active") == legacy_model_id(
            "coder", ollama_server.url, "qwen2.5-coder:7b")
        client.close()
    finally:
        child.close(force=True)
        server.stop()

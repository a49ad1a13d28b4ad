"""The presets' one-time steps: the shipped three on a fresh data dir (created once, never again
after removal), and config.yaml's `presets:` migrated once, all or nothing. In process over a
real Redis (one server and a Cluster), and through the real `ai-cli` on a fresh embedded one."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from invariants import preset_problems

from migrations.add_presets import migrate_presets, presets_on_start
from registry.config import ConfigManager
from registry.errors import InvalidInput
from router.options import options_from_mapping
from test_cli_support import PROGRAM

pytestmark = pytest.mark.also_on_cluster

CONFIG_PRESETS = """
presets:
  terse:
    description: short answers
    model: general
    system: Be terse.
    options: {temperature: 0.3, stop: ["###"]}
  fast:
    model: coder
"""


def load(tmp_path, text: str, prefix: str, **env) -> ConfigManager:
    path = tmp_path / "config.yaml"
    path.write_text(text + f"redis: {{key_prefix: '{prefix}'}}\n")
    return ConfigManager.load(path, env=env)


def names(client, prefix) -> list[str]:
    return sorted(client.smembers(f"{prefix}presets:index"))


def test_the_shipped_presets_are_created_once_and_never_again(tmp_path, real_registry,
                                                              real_redis, key_prefix):
    config = load(tmp_path, "", key_prefix)
    plan = migrate_presets(real_registry, config, options_from_mapping)
    assert [p.name for p in plan.shipped] == ["fast", "accurate", "coding"]
    assert names(real_redis, key_prefix) == ["accurate", "coding", "fast"]
    assert real_redis.hget(f"{key_prefix}presets:fast", "model") == "fastest:general"
    assert real_redis.get(f"{key_prefix}presets:shipped")
    assert preset_problems(real_redis, key_prefix) == []
    real_redis.delete(f"{key_prefix}presets:fast")
    real_redis.srem(f"{key_prefix}presets:index", "fast")
    again = migrate_presets(real_registry, config, options_from_mapping)
    assert not again.changed and names(real_redis, key_prefix) == ["accurate", "coding"]


def test_config_presets_migrate_once_and_redis_stays_the_source_of_truth(
        tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, CONFIG_PRESETS, key_prefix)
    line = presets_on_start(real_registry, config, options_from_mapping)
    assert line == "Migrated 2 preset(s) from config.yaml into Redis: terse, fast."
    assert names(real_redis, key_prefix) == ["accurate", "coding", "fast", "terse"]
    assert real_redis.hget(f"{key_prefix}presets:fast", "model") == "coder"  # config's fast
    assert real_redis.hget(f"{key_prefix}presets:terse", "options") == \
        '{"stop": ["###"], "temperature": 0.3}'
    real_redis.hset(f"{key_prefix}presets:terse", "system", "edited in Redis")
    edited = load(tmp_path, CONFIG_PRESETS.replace("Be terse.", "Edited in the file."),
                  key_prefix)
    assert presets_on_start(real_registry, edited, options_from_mapping) is None
    assert real_redis.hget(f"{key_prefix}presets:terse", "system") == "edited in Redis"
    assert preset_problems(real_redis, key_prefix) == []


@pytest.mark.parametrize("bad", [
    "presets:\n  ok: {}\n  broken: {options: {warmth: 1}}\n",
    "presets:\n  ok: {}\n  'no spaces': {}\n",
    "presets: [a, b]\n",
])
def test_an_invalid_config_preset_writes_nothing_and_says_so(tmp_path, real_registry,
                                                             real_redis, key_prefix, bad):
    config = load(tmp_path, bad, key_prefix)
    with pytest.raises(InvalidInput, match="config.yaml presets"):
        migrate_presets(real_registry, config, options_from_mapping)
    assert names(real_redis, key_prefix) == []
    line = presets_on_start(real_registry, config, options_from_mapping)
    assert line.startswith("The config.yaml presets were not migrated")
    assert "AI_CLI_SKIP_MODEL_MIGRATION" in line
    assert list(real_redis.scan_iter(f"{key_prefix}presets:*")) == []


def test_skipped_with_the_model_migration(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, CONFIG_PRESETS, key_prefix, AI_CLI_SKIP_MODEL_MIGRATION="true")
    assert presets_on_start(real_registry, config, options_from_mapping) is None
    assert list(real_redis.scan_iter(f"{key_prefix}presets:*")) == []


def test_a_dry_run_writes_nothing(tmp_path, real_registry, real_redis, key_prefix):
    config = load(tmp_path, CONFIG_PRESETS, key_prefix)
    plan = migrate_presets(real_registry, config, options_from_mapping, dry_run=True)
    assert [p.name for p in plan.from_config] == ["terse", "fast"]
    assert list(real_redis.scan_iter(f"{key_prefix}presets:*")) == []


@pytest.mark.process
def test_a_fresh_data_dir_gets_the_three_once(tmp_path):
    """The real program on its own embedded Redis: the first command creates the shipped three;
    one removed stays removed across later starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
    env.update({"AI_CLI_EMBEDDED_LINGER": "0", "NO_COLOR": "1", "COLUMNS": "200",
                "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "c"),
                "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_CACHE_HOME": str(tmp_path / "k"),
                "OLLAMA_HOST": "127.0.0.1:9"})  # never the machine's Ollama

    def run(*args):
        proc = subprocess.run([*PROGRAM, *args, "--json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        return proc.stdout

    first = {p["name"]: p for p in json.loads(run("preset", "list"))}
    assert set(first) == {"fast", "accurate", "coding"}
    assert first["coding"]["model"] == "coder" and first["coding"]["system"]
    assert first["accurate"]["options"] == {"temperature": 0.1}
    run("preset", "remove", "coding")
    for _ in range(2):
        assert {p["name"] for p in json.loads(run("preset", "list"))} == {"fast", "accurate"}

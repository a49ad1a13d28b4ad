"""ConfigYamlRegistry and ResilientRegistry: config.yaml's models while Redis is ignored or away.

The Redis-down cases use a real redis-server this file starts and stops itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from invariants import registry_problems
from registry import open_registry
from registry.config import ConfigManager
from registry.connection.client import connect_redis
from registry.errors import ConfigError, RegistryReadOnly, UnknownModel, WrongModelType
from registry.config_yaml import ConfigYamlRegistry, legacy_model_id
from registry.resilient import ResilientRegistry
from redis_process import RedisProcess

LEGACY = """
ollama:
  url: http://127.0.0.1:11434
  model: llama3.1:8b
  timeout: 90
coder:
  url: http://localhost:11434
  model: qwen2.5-coder:7b
"""


@pytest.fixture
def redis_process(tmp_path):
    server = RedisProcess(tmp_path)
    yield server
    server.stop()


class Clock:
    """A clock the test moves by hand: retries become due without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_config(tmp_path, text: str = LEGACY) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def resilient(config: ConfigManager, url: str, clock: Clock, retry: float = 3.0):
    return ResilientRegistry(config, connect=lambda: connect_redis(url, config.data_dir, timeout=1),
                             url=url, retry_interval=retry, clock=clock)


# --- ConfigYamlRegistry ------------------------------------------------------------------------


def test_config_yaml_registry_reads_the_legacy_models(tmp_path):
    config = ConfigManager.load(write_config(tmp_path), env={})
    registry = ConfigYamlRegistry(config)
    general = registry.get_active_model("general")
    coder = registry.get_active_model("coder")
    assert (general.model_name, general.url, general.timeout, general.is_active) == (
        "llama3.1:8b", "http://127.0.0.1:11434", 90, True)
    assert (coder.model_name, coder.timeout) == ("qwen2.5-coder:7b", 120)
    assert [m.model_type for m in registry.list_models()] == ["general", "coder"]
    assert registry.list_models("coder") == [coder]
    assert registry.require_model(general.model_id, "general") == general
    assert registry.get_model("model_00000000") is None
    with pytest.raises(UnknownModel):
        registry.require_model("model_00000000")
    with pytest.raises(WrongModelType):
        registry.require_model(general.model_id, "coder")


def test_ids_are_stable_and_derived_from_the_entry(tmp_path):
    path = write_config(tmp_path)
    first = ConfigYamlRegistry(ConfigManager.load(path, env={})).get_active_model("general")
    again = ConfigYamlRegistry(ConfigManager.load(path, env={})).get_active_model("general")
    assert first.model_id == again.model_id == legacy_model_id(
        "general", "http://127.0.0.1:11434", "llama3.1:8b")
    path.write_text(LEGACY.replace("llama3.1:8b", "mistral"))
    other = ConfigYamlRegistry(ConfigManager.load(path, env={})).get_active_model("general")
    assert other.model_id != first.model_id


def test_every_change_is_refused_naming_the_flag(tmp_path):
    config = ConfigManager.load(write_config(tmp_path), env={"AI_CLI_FORCE_CONFIG_YAML": "true"})
    registry = open_registry(config)
    assert isinstance(registry, ConfigYamlRegistry) and registry.online is False
    model_id = registry.get_active_model("general").model_id
    for change in (lambda: registry.add_model("general", "http://127.0.0.1:1", "x"),
                   lambda: registry.remove_model(model_id),
                   lambda: registry.set_active_model(model_id)):
        with pytest.raises(RegistryReadOnly) as caught:
            change()
        assert "AI_CLI_FORCE_CONFIG_YAML=true" in str(caught.value)
        assert str(config.path) in str(caught.value) and "\n" not in str(caught.value)
    assert "AI_CLI_FORCE_CONFIG_YAML" in registry.notice


def test_probe_results_are_kept_in_memory(tmp_path):
    registry = ConfigYamlRegistry(ConfigManager.load(write_config(tmp_path), env={}))
    model_id = registry.get_active_model("coder").model_id
    assert registry.get_model(model_id).is_available is None
    assert registry.update_availability(model_id, False) is True
    assert registry.get_model(model_id).is_available is False
    assert registry.get_model(model_id).last_checked is not None
    assert registry.update_availability("model_00000000", True) is False


def test_force_flag_with_an_invalid_entry_is_a_clear_error(tmp_path):
    path = write_config(tmp_path, "coder:\n  url: ftp://127.0.0.1\n  model: x\n")
    config = ConfigManager.load(path, env={"AI_CLI_FORCE_CONFIG_YAML": "1"})
    with pytest.raises(ConfigError, match=r"line 2.*http"):
        open_registry(config)


def test_force_flag_without_legacy_models_has_none(tmp_path):
    config = ConfigManager.load(env={"AI_CLI_FORCE_CONFIG_YAML": "1"})
    registry = open_registry(config)
    assert registry.list_models() == [] and registry.get_active_model("general") is None


# --- ResilientRegistry ----------------------------------------------------------------------------


def test_unreachable_redis_at_start_serves_config_yaml_read_only(tmp_path, redis_process):
    config = ConfigManager.load(write_config(tmp_path), env={"AI_CLI_REDIS_URL": redis_process.url})
    registry = open_registry(config)  # must not raise
    assert isinstance(registry, ResilientRegistry) and registry.online is False
    assert redis_process.url in registry.notice and "read-only" in registry.notice
    assert registry.get_active_model("general").model_name == "llama3.1:8b"
    with pytest.raises(RegistryReadOnly) as caught:
        registry.add_model("general", "http://127.0.0.1:11434", "other")
    assert redis_process.url in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.process
def test_redis_coming_back_is_picked_up_without_a_restart(tmp_path, redis_process):
    config = ConfigManager.load(write_config(tmp_path), env={})
    clock = Clock()
    registry = resilient(config, redis_process.url, clock)
    assert not registry.online
    redis_process.start()
    assert not registry.online, "retried before the interval passed"
    clock.advance(3.0)
    assert registry.online and registry.notice is None
    assert registry.list_models() == []  # now the (empty) Redis registry, not config.yaml
    added = registry.add_model("coder", "http://127.0.0.1:11434", "qwen2.5-coder:7b")
    assert registry.get_active_model("coder") == added
    assert registry.messages == [f"Redis at {redis_process.url} is back: the model registry is "
                                 "writable again."]


@pytest.mark.process
def test_redis_going_away_later_degrades_then_recovers(tmp_path, redis_process):
    config = ConfigManager.load(write_config(tmp_path), env={})
    clock = Clock()
    redis_process.start()
    registry = resilient(config, redis_process.url, clock)
    added = registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    redis_process.stop()
    # The first read after the loss falls back to config.yaml instead of failing.
    assert registry.get_active_model("general").model_name == "llama3.1:8b"
    assert not registry.online
    with pytest.raises(RegistryReadOnly, match="read-only until it is back"):
        registry.set_active_model(added.model_id)
    redis_process.start()  # a fresh, empty server on the same socket
    clock.advance(3.0)
    assert registry.online
    assert registry.get_active_model("general") is None
    again = registry.add_model("general", "http://127.0.0.1:11434", "mistral")
    assert registry_problems(registry.redis, "") == []
    assert registry.get_active_model("general") == again


def test_retries_at_most_once_per_interval(tmp_path):
    calls = []

    def connect():
        calls.append(1)
        raise __import__("registry.errors", fromlist=["x"]).RegistryUnavailable("down")

    clock = Clock()
    config = ConfigManager.load(write_config(tmp_path), env={})
    registry = ResilientRegistry(config, connect=connect, url="redis://127.0.0.1:1",
                                 retry_interval=3.0, clock=clock)
    for _ in range(20):
        registry.list_models()
    assert len(calls) == 1
    clock.advance(2.9)
    registry.list_models()
    assert len(calls) == 1
    clock.advance(0.2)
    registry.list_models()
    registry.list_models()
    assert len(calls) == 2


def test_offline_with_invalid_legacy_entry_still_starts(tmp_path):
    path = write_config(tmp_path, "ollama:\n  url: http://127.0.0.1:11434\n")
    config = ConfigManager.load(path, env={"AI_CLI_REDIS_URL": "redis://127.0.0.1:1/0"})
    registry = open_registry(config)
    assert registry.list_models() == []
    assert "has no 'model'" in registry.notice and "\n" not in registry.notice

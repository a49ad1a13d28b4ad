"""Cluster mode settings (redis.cluster / AI_CLI_REDIS_CLUSTER) and the mapping of Redis and Redis
Cluster errors (registry/connection/failures.py) to the one line a user sees, exactly."""

from pathlib import Path

import pytest
from redis.exceptions import (
    AuthenticationError, ClusterCrossSlotError, ClusterDownError, ConnectionError,
    CrossSlotTransactionError, MovedError, RedisClusterException, SlotNotCoveredError,
    TimeoutError, TryAgainError,
)

from registry.connection import failures as redis_failures
from registry.config import ConfigManager
from registry.errors import ConfigError, RegistryAuthFailed, RegistryUnavailable

ROOT = Path(__file__).resolve().parent.parent
NODE = "redis://127.0.0.1:7000"
SAYS = "Redis is unreachable ({detail}). Start it."


def load(tmp_path, yaml_text: str = "", **env) -> ConfigManager:
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text)
    return ConfigManager.load(path, env=env)


def test_off_by_default_and_in_the_shipped_file(tmp_path):
    shipped = ConfigManager.load(ROOT / "config.yaml", env={})
    assert shipped.redis_cluster is False and shipped.key_prefix == ""
    assert load(tmp_path).redis_cluster is False


def test_on_from_the_file_or_the_environment_with_the_tagged_default_prefix(tmp_path):
    by_file = load(tmp_path, f"redis: {{url: '{NODE}', cluster: true}}\n")
    by_env = load(tmp_path, "", AI_CLI_REDIS_CLUSTER="true", AI_CLI_REDIS_URL=NODE)
    for config in (by_file, by_env):
        assert config.redis_cluster is True
        assert config.key_prefix == "{ai-cli}:"
        assert config.redis_url == NODE


def test_environment_wins_over_the_file(tmp_path):
    config = load(tmp_path, f"redis: {{url: '{NODE}', cluster: true}}\n", AI_CLI_REDIS_CLUSTER="0")
    assert config.redis_cluster is False and config.key_prefix == ""


def test_a_tagged_prefix_is_kept(tmp_path):
    config = load(tmp_path, f"redis: {{url: '{NODE}', cluster: true, key_prefix: 'team:{{ai}}:'}}\n")
    assert config.key_prefix == "team:{ai}:"


@pytest.mark.parametrize("prefix", ["team:", "{}:", "team:{:", "x}{y:"])
def test_an_untagged_prefix_is_refused_in_one_line(tmp_path, prefix):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"redis:\n  url: '{NODE}'\n  cluster: true\n  key_prefix: '{prefix}'\n")
    message = str(caught.value)
    assert "line 4" in message and "hash tag" in message and "{ai-cli}:" in message
    assert "\n" not in message


def test_an_untagged_prefix_is_fine_on_one_server(tmp_path):
    assert load(tmp_path, "redis: {key_prefix: 'team:'}\n").key_prefix == "team:"


@pytest.mark.parametrize("url, words", [
    ("embedded", "embedded Redis is not a cluster"),
    ("unix:///tmp/redis.sock", "unix socket"),
    ("redis://:hunter2@127.0.0.1:7000/3", "database 3"),
    ("redis://127.0.0.1:7000/?db=2", "database 2"),
])
def test_cluster_mode_refuses_urls_it_cannot_use(tmp_path, url, words):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "", AI_CLI_REDIS_CLUSTER="true", AI_CLI_REDIS_URL=url)
    assert words in str(caught.value) and "hunter2" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_cluster_flag_that_is_not_a_boolean_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="line 1: redis.cluster must be true or false"):
        load(tmp_path, "redis: {cluster: 'yes please'}\n")
    with pytest.raises(ConfigError, match="AI_CLI_REDIS_CLUSTER"):
        load(tmp_path, "", AI_CLI_REDIS_CLUSTER="maybe")


@pytest.mark.parametrize("prefix, tag", [
    ("{ai-cli}:", "ai-cli"), ("team:{x}:", "x"), ("{a}{b}", "a"),
    ("", None), ("team:", None), ("{}x{y}", None), ("{open", None),
])
def test_hash_tag_follows_the_redis_rule(prefix, tag):
    assert redis_failures.hash_tag(prefix) == tag


UNAVAILABLE = [
    ConnectionError("Error 111 connecting"),
    ClusterDownError("CLUSTERDOWN The cluster is down"),
    TryAgainError("TRYAGAIN"),
    MovedError("3999 127.0.0.1:7001"),
    RedisClusterException("Redis Cluster cannot be connected"),
    SlotNotCoveredError("Slot 5 not covered"),
]


@pytest.mark.parametrize("exc", UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_cluster_failures_are_registry_unavailable(exc):
    error = redis_failures.translate(exc, "Redis is unreachable ({detail}). Start it.",
                                     clustered=True, prefix="{ai-cli}:", url=NODE)
    assert isinstance(error, RegistryUnavailable)
    assert str(error).startswith("Redis is unreachable (") and "\n" not in str(error)


@pytest.mark.parametrize("exc", [
    ClusterCrossSlotError("CROSSSLOT Keys in request don't hash to the same slot"),
    CrossSlotTransactionError("Cannot watch or send commands on different slots"),
    RedisClusterException("WATCH - all keys must map to the same key slot"),
], ids=lambda e: type(e).__name__)
def test_cross_slot_is_a_configuration_error_naming_the_prefix(exc):
    error = redis_failures.translate(exc, "unreachable ({detail})", clustered=True,
                                     prefix="team:", url=NODE)
    assert isinstance(error, ConfigError)
    assert "'team:'" in str(error) and "redis.key_prefix" in str(error)


@pytest.mark.parametrize(
    "exc, detail",
    [
        (SlotNotCoveredError("Slot 5 not covered"), "Slot 5 not covered"),
        (ConnectionError("Error 111 connecting to node X.\nsecond line"),
         "Error 111 connecting to node X"),
        (TimeoutError("  Timeout reading from socket.  "), "Timeout reading from socket"),
        (ConnectionError(""), "ConnectionError"),
    ],
)
def test_an_unavailable_cluster_says_what_happened_in_brackets(exc, detail):
    error = redis_failures.translate(exc, SAYS, clustered=True, prefix="{ai-cli}:", url=f"{NODE}/0")
    assert isinstance(error, RegistryUnavailable)
    assert str(error) == f"Redis is unreachable ({detail}). Start it."


def test_moved_on_a_plain_client_names_the_url_and_says_to_turn_cluster_mode_on():
    error = redis_failures.translate(MovedError("3999 127.0.0.1:7001"), SAYS, clustered=False,
                                     prefix="", url=f"{NODE}/0")
    assert isinstance(error, ConfigError)
    assert str(error).startswith(f"The Redis at {NODE}/0 is a node of a Redis Cluster.")
    assert "AI_CLI_REDIS_CLUSTER=true" in str(error)


def test_a_wrong_password_is_an_authentication_error_saying_where_to_fix_it():
    error = redis_failures.translate(AuthenticationError("WRONGPASS invalid password."), SAYS,
                                     clustered=False, prefix="", url=f"{NODE}/0")
    assert isinstance(error, RegistryAuthFailed)
    assert str(error) == (
        f"Authentication failed at the Redis at {NODE}/0 (WRONGPASS invalid password). Put the "
        "right password in AI_CLI_REDIS_URL (or redis.url in config.yaml).")

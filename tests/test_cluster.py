"""ai-cli on a real Redis Cluster: wrong setups refused clearly, events across nodes, a master
killed (RegistryUnavailable, no hang) and brought back (the registry recovers by itself).

The registry, session and migration suites themselves run on the cluster through the
`also_on_cluster` marker (conftest.py); this file holds what only a cluster has.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
import redis

from agent.sessions import SessionStore, StoredMessage
from redis_cluster import RedisClusterProcess, free_port_base
from registry import open_registry
from registry.config import ConfigManager
from registry.connection.client import connect_redis
from registry.connection.embedded import redis_server_binary
from registry.errors import ConfigError, RegistryReadOnly, RegistryUnavailable
from registry.manager import ModelRegistry, RegistryKeys

pytestmark = pytest.mark.cluster  # the run's Redis Cluster, one of the module's own, or a single redis-server

URL = "http://127.0.0.1:11434"
HANG = 30.0  # far beyond every timeout involved: only a hang gets here, not a slow machine


def cluster_config(tmp_path, url: str, prefix: str) -> ConfigManager:
    path = tmp_path / "config.yaml"
    path.write_text(f"redis: {{url: '{url}', cluster: true, key_prefix: '{prefix}'}}\n"
                    "ollama: {url: 'http://127.0.0.1:11434', model: offline-model}\n")
    return ConfigManager.load(path, env={"AI_CLI_SKIP_MODEL_MIGRATION": "true"})


def bounded(call):
    """Run `call` in a thread; return (result or exception, finished) — a hang shows as False."""
    outcome: list = []

    def run():
        try:
            outcome.append(call())
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG)
    return (outcome[0] if outcome else None), not worker.is_alive()


# --- wrong setups --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["registry", "sessions"])
def test_an_untagged_prefix_is_refused_not_half_written(redis_cluster_url, kind):
    """Code that bypasses config.yaml's check still gets one clear line, and nothing is stored."""
    client = redis.RedisCluster.from_url(redis_cluster_url, decode_responses=True)
    prefix = f"untagged-{time.monotonic_ns()}:"
    try:
        with pytest.raises(ConfigError) as caught:
            if kind == "registry":
                ModelRegistry(client, key_prefix=prefix).add_model("general", URL, "a")
            else:
                SessionStore(client, key_prefix=prefix).new("hello")
        assert f"{prefix!r} has no hash tag" in str(caught.value)
        assert "\n" not in str(caught.value)
        assert list(client.scan_iter(f"{prefix}*")) == []
    finally:
        client.close()


def test_a_plain_url_at_a_cluster_node_is_named_in_the_refusal(redis_cluster_url, tmp_path):
    with pytest.raises(ConfigError) as caught:
        connect_redis(redis_cluster_url, tmp_path)
    assert str(caught.value).startswith(f"The Redis at {redis_cluster_url} is a node of a Redis "
                                        "Cluster. Set redis.cluster: true")


def test_cluster_mode_against_a_single_server_says_it_is_not_a_cluster(tmp_path):
    port = free_port_base(1)
    server = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "the redis-server did not start"
                time.sleep(0.02)
        with pytest.raises(ConfigError, match="is not part of a Redis Cluster"):
            connect_redis(url, tmp_path, cluster=True, probe_key="{ai-cli}:models:schema")
    finally:
        server.kill()
        server.wait(timeout=10)


# --- the client ----------------------------------------------------------------------------------


def test_cluster_mode_connects_with_the_same_timeout_and_quick_retry(redis_cluster_url, tmp_path):
    client = connect_redis(redis_cluster_url, tmp_path, timeout=1.5, cluster=True,
                           probe_key="{ai-cli}:models:schema")
    try:
        assert isinstance(client, redis.RedisCluster)
        assert client.retry.get_retries() == 1
        node = client.get_node_from_key("{ai-cli}:models:schema")
        kwargs = node.redis_connection.connection_pool.connection_kwargs
        assert kwargs["socket_connect_timeout"] == 1.5
    finally:
        client.close()


# --- events --------------------------------------------------------------------------------------


def test_events_reach_a_subscriber_on_another_node(redis_cluster_url, real_redis_cluster_prefix):
    """The change is published on the master of the prefix's slot; a client subscribed on a
    different master hears it (the cluster bus forwards PUBLISH to every node)."""
    client, prefix = real_redis_cluster_prefix
    keys = RegistryKeys(prefix)
    home = client.get_node_from_key(keys.events)
    other = next(n for n in client.get_primaries() if n.name != home.name)
    listener = redis.Redis(host=other.host, port=other.port, decode_responses=True).pubsub()
    listener.subscribe(keys.events)
    assert listener.get_message(timeout=5)["type"] == "subscribe"
    registry = ModelRegistry(client, key_prefix=prefix)
    model = registry.add_model("general", URL, "a")
    registry.update_availability(model.model_id, False)
    registry.remove_model(model.model_id)
    events = []
    while len(events) < 3:
        message = listener.get_message(timeout=5)
        assert message is not None, f"only {events} arrived"
        if message["type"] == "message":
            events.append(json.loads(message["data"])["op"])
    assert events == ["add", "availability", "remove"]
    listener.close()


@pytest.fixture
def real_redis_cluster_prefix(redis_cluster_url):
    client = redis.RedisCluster.from_url(redis_cluster_url, decode_responses=True)
    prefix = f"test:{{events-{time.monotonic_ns()}}}:"
    yield client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


# --- a master killed, then back ------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    """A cluster of this module's own: its nodes get killed (even with an external cluster given)."""
    with RedisClusterProcess(tmp_path_factory.mktemp("own-cluster")) as cluster:
        yield cluster


def test_master_killed_is_unavailable_then_recovers(own_cluster, tmp_path):
    prefix = "{kill-test}:"
    config = cluster_config(tmp_path, own_cluster.url, prefix)
    registry = open_registry(config)
    registry.retry_interval = 0  # try Redis again on every call instead of every few seconds
    assert registry.online, registry.notice
    before = registry.add_model("general", URL, "before")
    sessions = SessionStore(registry.redis, prefix)
    session = sessions.new("kept?")
    plain = ModelRegistry(registry.redis, key_prefix=prefix, url=own_cluster.url)

    port = own_cluster.port_for_key(f"{prefix}models:schema")
    own_cluster.kill_node(port)  # SIGKILL the master serving the prefix's slot
    try:
        outcome, finished = bounded(plain.list_models)
        assert finished, "list_models hung with the master down"
        assert isinstance(outcome, RegistryUnavailable), outcome
        assert own_cluster.url in str(outcome) and "\n" not in str(outcome)

        outcome, finished = bounded(lambda: sessions.append(session.session_id,
                                                            StoredMessage("user", "hi")))
        assert finished and isinstance(outcome, RegistryUnavailable), outcome

        # The resilient registry: read-only, serving config.yaml's model meanwhile.
        outcome, finished = bounded(lambda: registry.add_model("general", URL, "during"))
        assert finished and isinstance(outcome, RegistryReadOnly), outcome
        assert [m.model_name for m in registry.list_models()] == ["offline-model"]
        assert registry.online is False and "read-only until it is back" in registry.notice
    finally:
        own_cluster.start_node(port)  # same port, same node config file; waits for cluster ok

    # Back by itself: no restart of ai-cli. The node kept no data (no persistence in the tests),
    # so only what is written now is there.
    outcome, finished = bounded(lambda: registry.add_model("general", URL, "after"))
    assert finished and not isinstance(outcome, Exception), outcome
    assert registry.online and any("is back" in line for line in registry.messages)
    assert registry.get_active_model("general").model_name == "after"
    assert plain.get_model(outcome.model_id) == outcome
    assert sessions.new("again").title == "again"
    assert before.model_id != outcome.model_id

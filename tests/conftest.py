"""Fixtures shared by every test: isolated state dirs, fake and real Redis, a Redis Cluster.

`redis_kind` says which Redis `any_redis`/`real_redis` are: "fake", "real" (one server) or
"cluster". Tests using `any_redis` run on fake and real; a test or module marked
`also_on_cluster` also runs on a 3-master Redis Cluster (started once, on first use).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis

from redis_cluster import RedisClusterProcess, RedisTarget
from redis_process import RedisProcess
from registry.manager import ModelRegistry

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_SERVERS = ("AI_CLI_TEST_REDIS_URL", "AI_CLI_TEST_REDIS_CLUSTER_URL")


def pytest_generate_tests(metafunc):
    if not {"any_redis", "real_redis", "redis_target"} & set(metafunc.fixturenames):
        return
    kinds = ["fake", "real"] if "any_redis" in metafunc.fixturenames else ["real"]
    if metafunc.definition.get_closest_marker("also_on_cluster"):
        kinds.append("cluster")
    if len(kinds) > 1:
        metafunc.parametrize("redis_kind", kinds)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own data/config dirs, and no AI_CLI_* setting leaks in from outside."""
    for name in list(os.environ):
        if name.startswith("AI_CLI_") and name not in EXTERNAL_SERVERS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    # Hundreds of tests start an embedded server in their own data dir: each stops with its last
    # client instead of lingering 30 s. tests/test_embedded_linger.py tests the linger itself.
    monkeypatch.setenv("AI_CLI_EMBEDDED_LINGER", "0")
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server for the whole run: AI_CLI_TEST_REDIS_URL, else one we start."""
    given = os.environ.get("AI_CLI_TEST_REDIS_URL")
    if given:
        yield given
        return
    with RedisProcess(tmp_path_factory.mktemp("redis"), "redis.sock") as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory):
    """A real 3-master Redis Cluster for the whole run: AI_CLI_TEST_REDIS_CLUSTER_URL (any one
    node), else one we start from the same redis-server binary, on first use only."""
    given = os.environ.get("AI_CLI_TEST_REDIS_CLUSTER_URL")
    if given:
        yield given
        return
    with RedisClusterProcess(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster.url


@pytest.fixture
def redis_kind():
    """"real" unless pytest_generate_tests parametrises it (fake, real, cluster)."""
    return "real"


@pytest.fixture
def redis_target(request, redis_kind) -> RedisTarget:
    """The real Redis of this test (one server or the cluster): url, client(), env()."""
    if redis_kind == "cluster":
        return RedisTarget(request.getfixturevalue("redis_cluster_url"), cluster=True)
    return RedisTarget(request.getfixturevalue("redis_url"))


@pytest.fixture
def key_prefix(redis_kind):
    """A key prefix of this test's own, so tests never see each other's keys; on the cluster
    its hash tag keeps all of them in one slot."""
    token = uuid.uuid4().hex[:12]
    return f"test:{{{token}}}:" if redis_kind == "cluster" else f"test:{token}:"


@pytest.fixture
def real_redis(redis_target, key_prefix):
    client = redis_target.client()
    yield client
    keys = list(client.scan_iter(f"{key_prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def fake_redis():
    import fakeredis

    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def any_redis(request, redis_kind, key_prefix):
    """Fast unit tests run on fakeredis and again on a real server (and marked ones on a cluster)."""
    if redis_kind == "fake":
        return request.getfixturevalue("fake_redis")
    return request.getfixturevalue("real_redis")


@pytest.fixture
def registry(any_redis, key_prefix):
    return ModelRegistry(any_redis, key_prefix=key_prefix)


@pytest.fixture
def real_registry(real_redis, key_prefix, redis_target):
    return ModelRegistry(real_redis, key_prefix=key_prefix, url=redis_target.url)

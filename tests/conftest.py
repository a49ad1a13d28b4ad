"""Fixtures shared by every test: isolated state dirs, fake and real Redis."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis

from redis_process import RedisProcess
from registry.manager import ModelRegistry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own data/config dirs, and no AI_CLI_* setting leaks in from outside."""
    for name in list(os.environ):
        if name.startswith("AI_CLI_") and name != "AI_CLI_TEST_REDIS_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
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


@pytest.fixture
def key_prefix():
    """A key prefix of this test's own, so tests never see each other's keys."""
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def real_redis(redis_url, key_prefix):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    keys = list(client.scan_iter(f"{key_prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def fake_redis():
    import fakeredis

    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture(params=["fake", "real"])
def any_redis(request, key_prefix):
    """Fast unit tests run on fakeredis and again on a real server."""
    if request.param == "fake":
        return request.getfixturevalue("fake_redis")
    return request.getfixturevalue("real_redis")


@pytest.fixture
def registry(any_redis, key_prefix):
    return ModelRegistry(any_redis, key_prefix=key_prefix)


@pytest.fixture
def real_registry(real_redis, key_prefix, redis_url):
    return ModelRegistry(real_redis, key_prefix=key_prefix, url=redis_url)

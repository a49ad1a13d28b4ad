"""Fixtures shared by every test: isolated state dirs, fake and real Redis, a Redis Cluster; and
the markers that split the suite into its two tiers.

`redis_kind` says which Redis `any_redis`/`real_redis` are: "fake", "real" (one server) or
"cluster". Tests using `any_redis` run on fake and real; a test or module marked
`also_on_cluster` also runs on a 3-master Redis Cluster (started once, on first use).

Tiers (docs/TESTING.md, "Two tiers"): `scripts/test --quick` runs every test not marked `process`.
A test gets `process` here from what it uses (`cli`, a Redis Cluster, a browser), or in its own
file (`@pytest.mark.process`); `only_declared_processes` fails any unmarked test that starts a
process anyway, so the quick tier stays free of them.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import redis

from redis_cluster import RedisClusterProcess, RedisTarget
from redis_process import RedisProcess
from registry.manager import ModelRegistry

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_SERVERS = ("AI_CLI_TEST_REDIS_URL", "AI_CLI_TEST_REDIS_CLUSTER_URL")


# --- tiers ---------------------------------------------------------------------------------------

# Fixtures that mean the test starts a process of its own.
PROCESS_FIXTURES = {
    "cli",  # test_cli_support.py: runs `ai-cli` (cli.run) or drives it on a pty (cli.spawn)
}
# Fixtures that mean a Redis Cluster (several redis-server processes).
CLUSTER_FIXTURES = {"redis_cluster_url"}
# Fixtures that mean the test talks to a real Redis server (`integration`).
REAL_REDIS_FIXTURES = {"redis_url", "real_redis", "redis_target", "real_registry"}


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it uses: `cluster`, `process` (every cluster and browser test too)
    and `integration` (a real Redis server)."""
    for item in items:
        used = set(item.fixturenames)
        kind = getattr(item, "callspec", None) and item.callspec.params.get("redis_kind")
        if used & CLUSTER_FIXTURES or kind == "cluster":
            item.add_marker(pytest.mark.cluster)
        if item.get_closest_marker("cluster"):
            # under `--dist loadgroup` (scripts/test) every cluster test runs in one worker, so
            # the run starts one Redis Cluster, not one per worker
            item.add_marker(pytest.mark.xdist_group("redis-cluster"))
        if used & REAL_REDIS_FIXTURES or kind in ("real", "cluster"):
            item.add_marker(pytest.mark.integration)
        requested = set(item._fixtureinfo.argnames)  # asked for by the test itself
        if (requested & PROCESS_FIXTURES
                or item.get_closest_marker("cluster") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.process)


_shared_start = False  # a session fixture is starting the run's shared Redis: not the test's own


@pytest.fixture(autouse=True)
def only_declared_processes(request):
    """Fail a test that starts a process (subprocess, fork, pty) without the `process` marker:
    the quick tier must not run it. The run's shared Redis server, started by whichever test
    needs it first, does not count."""
    if request.node.get_closest_marker("process"):
        yield
        return
    started: list[str] = []
    real_init = subprocess.Popen.__init__
    real = {name: getattr(os, name) for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp",
                                                 "system") if hasattr(os, name)}

    def popen_init(self, *args, **kwargs):
        if not _shared_start:
            argv = args[0] if args else kwargs.get("args")
            shown = argv if isinstance(argv, (str, bytes)) else " ".join(map(str, argv))
            started.append(repr(shown)[:120])
        real_init(self, *args, **kwargs)

    def recorded(name):
        def call(*args, **kwargs):
            started.append(f"os.{name}")
            return real[name](*args, **kwargs)
        return call

    subprocess.Popen.__init__ = popen_init
    for name in real:
        setattr(os, name, recorded(name))
    try:
        yield
    finally:
        subprocess.Popen.__init__ = real_init
        for name, function in real.items():
            setattr(os, name, function)
    if started:
        pytest.fail(f"this test started a process ({started[0]}) but is not marked `process`: add "
                    "@pytest.mark.process, so that `scripts/test --quick` leaves it out",
                    pytrace=False)


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
    monkeypatch.delenv("OLLAMA_HOST", raising=False)  # the machine's Ollama is never a test's
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
    global _shared_start
    server = RedisProcess(tmp_path_factory.mktemp("redis"), "redis.sock")
    _shared_start = True
    try:
        server.start()
    finally:
        _shared_start = False
    try:
        yield server.url
    finally:
        server.stop()


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

"""The registry across real processes: concurrent writers, the embedded store, a dead server."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from invariants import registry_problems
from redis_process import RedisProcess
from registry import open_registry
from registry.config import ConfigManager
from registry.connection.client import connect_redis
from registry.errors import RegistryUnavailable
from registry.manager import ModelRegistry

HERE = Path(__file__).resolve().parent


def child_env() -> dict:
    """This test's environment (its own XDG dirs) for a child process."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}


@pytest.mark.process
@pytest.mark.also_on_cluster
def test_four_processes_thousand_operations_keep_invariants(redis_target, real_redis, key_prefix):
    """On one server and on a Redis Cluster; the invariants are then checked key by key."""
    kind = ["cluster"] if redis_target.cluster else []
    workers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "registry_worker.py"), redis_target.url, key_prefix, "250",
             str(seed), *kind],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
        )
        for seed in range(4)
    ]
    done = 0
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        done += int(out)
    assert done == 1000
    assert registry_problems(real_redis, key_prefix) == []
    assert real_redis.get(f"{key_prefix}models:schema") == "1"


RESTART_SCRIPT = """
import sys
from registry import open_registry
from registry.config import ConfigManager
registry = open_registry(ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'}))
if sys.argv[1] == "add":
    print(registry.add_model("general", "http://127.0.0.1:11434", "llama3.1:8b").model_id)
else:
    model = registry.get_active_model("general")
    print(model.model_id if model else "none")
"""


def run_script(*args):
    done = subprocess.run([sys.executable, "-c", RESTART_SCRIPT, *args], capture_output=True,
                          text=True, timeout=60, env=child_env())
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def embedded_server_running(data_dir: Path) -> bool:
    pidfiles = list(data_dir.rglob("*.pid"))
    for pidfile in pidfiles:
        try:
            os.kill(int(pidfile.read_text().strip() or 0), 0)
            return True
        except (ValueError, ProcessLookupError):
            continue
    return False


@pytest.mark.process
def test_embedded_store_survives_process_exit(tmp_path):
    model_id = run_script("add")
    data_dir = ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'}).data_dir
    assert (data_dir / "registry.db").exists()
    deadline = time.monotonic() + 10
    while embedded_server_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not embedded_server_running(data_dir), "the embedded server outlived its last client"
    assert run_script("get") == model_id


@pytest.mark.process
def test_embedded_is_shared_by_processes_at_once(tmp_path):
    registry = open_registry(ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'}))
    model = registry.add_model("coder", "http://127.0.0.1:11434", "qwen2.5-coder:7b")
    other = subprocess.run(
        [sys.executable, "-c",
         "from registry import open_registry; from registry.config import ConfigManager;"
         "print(open_registry(ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'})).get_active_model('coder').model_id)"],
        capture_output=True, text=True, timeout=60, env=child_env(),
    )
    assert other.stdout.strip() == model.model_id, other.stderr


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "unix:///nonexistent/ai-cli.sock"])
def test_unreachable_server_is_a_clear_error_within_two_seconds(url, tmp_path):
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis(url, tmp_path)
    assert time.monotonic() - started < 2.5
    message = str(caught.value)
    assert url in message and "AI_CLI_REDIS_URL" in message and "\n" not in message


def test_password_is_not_shown(tmp_path):
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis("redis://user:hunter2@127.0.0.1:1/0", tmp_path)
    assert "hunter2" not in str(caught.value)


@pytest.mark.process
def test_server_gone_after_connect_is_a_registry_error(tmp_path):
    with RedisProcess(tmp_path, "short.sock") as server:
        registry = ModelRegistry(connect_redis(server.url, tmp_path), url=server.url)
        registry.add_model("general", "http://127.0.0.1:11434", "a")
    with pytest.raises(RegistryUnavailable, match="short.sock"):
        registry.list_models()


ADD_SCRIPT = """
from registry import open_registry
from registry.config import ConfigManager
registry = open_registry(ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'}))
print(registry.add_model("coder", "http://127.0.0.1:11434", "m").model_id)
"""


@pytest.mark.process
def test_processes_starting_at_once_share_one_embedded_server(tmp_path):
    starters = [subprocess.Popen([sys.executable, "-c", ADD_SCRIPT], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=child_env())
                for _ in range(4)]
    ids = set()
    for proc in starters:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        ids.add(out.strip())
    registry = open_registry(ConfigManager.load(env={'AI_CLI_EMBEDDED_LINGER': '0'}))
    assert {m.model_id for m in registry.list_models("coder")} == ids and len(ids) == 4


@pytest.mark.process
def test_a_data_dir_too_deep_for_a_unix_socket_still_works(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("XDG_DATA_HOME", str(deep))
    model_id = run_script("add")
    assert (deep / "ai-cli" / "registry.db").exists()
    assert run_script("get") == model_id

"""The data dir is 0700 and its files 0600 whatever the umask; an older install is fixed on start."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from registry.config import ConfigManager
from registry.manager import ModelRegistry
from resilience.embedded import start_embedded, stop_server_quietly, wait_until_saved
from test_cli_support import PROGRAM, ROOT

pytestmark = pytest.mark.process  # embedded redis-servers and real ai-cli processes

PROMPT = r">(\x08)?(\x1b\[\d*C| )"  # as tests/test_repl.py: prompt_toolkit's "> "
SERVER_FILES = ("redis.sock", "redis.pid", "redis.log", "redis.lock")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def data_dir():
    path = ConfigManager.load(env={}).data_dir
    yield path
    stop_server_quietly(path)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_embedded_store_files_are_private(umask, data_dir):
    client = start_embedded(data_dir)
    ModelRegistry(client).add_model("general", "http://127.0.0.1:11434", "m")
    client.bgsave()
    wait_until_saved(client)
    assert mode(data_dir) == 0o700
    for name in (*SERVER_FILES, "registry.db"):
        assert mode(data_dir / name) == 0o600, name


def repl_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
    config = tmp_path / "config.yaml"
    config.write_text("tinyollama: {url: 'http://127.0.0.1:9', model: tinyllama, timeout: 5}\n"
                      "defaults: {probe_timeout: 1}\n")
    env.update({"AI_CLI_EMBEDDED_LINGER": "0", "AI_CLI_CONFIG": str(config), "NO_COLOR": "1",
                "TERM": "xterm",
                "PROMPT_TOOLKIT_NO_CPR": "1", "PYTHONPATH": str(ROOT)})
    return env


def test_history_is_private_from_a_real_repl(umask, data_dir, tmp_path):
    import pexpect

    child = pexpect.spawn(PROGRAM[0], PROGRAM[1:], env=repl_env(tmp_path), encoding="utf-8",
                          timeout=30, dimensions=(50, 200), preexec_fn=lambda: os.umask(umask))
    child.expect(PROMPT)
    child.sendline("/model list")
    child.expect("No models registered")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert "/model list" in (data_dir / "history").read_text()
    assert mode(data_dir) == 0o700 and mode(data_dir / "history") == 0o600
    for name in ("registry.db", "redis.log", "redis.lock"):
        assert mode(data_dir / name) == 0o600, name


def test_an_older_install_is_tightened_on_start(data_dir, tmp_path):
    data_dir.mkdir(parents=True)
    os.chmod(data_dir, 0o755)
    for name in ("history", "redis.log", "undo.json"):
        (data_dir / name).write_text("")
        os.chmod(data_dir / name, 0o644)
    done = subprocess.run([*PROGRAM, "model", "list"], env=repl_env(tmp_path), capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mode(data_dir) == 0o700
    for name in ("history", "registry.db", "redis.log", "undo.json"):
        assert mode(data_dir / name) == 0o600, name

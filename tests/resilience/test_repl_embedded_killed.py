"""The embedded redis-server SIGKILLed under a running REPL: the REPL carries on, the change made
before the kill is still there once the server is back, and new changes are accepted."""

from __future__ import annotations

import time

import pexpect
import pytest

from invariants import registry_problems
from ollama_fixtures import dead_url  # noqa: F401
from registry.config import ConfigManager
from registry.manager import ModelRegistry
from resilience.embedded import kill_server, start_embedded, stop_server_quietly
from test_cli_support import cli  # noqa: F401

PROMPT = r">(\x08)?(\x1b\[\d*C| )"
RETRY_S = 3.5  # the registry tries Redis again at most every 3 s


@pytest.fixture
def data_dir():
    path = ConfigManager.load(env={}).data_dir
    yield path
    stop_server_quietly(path)


def run(child, line: str, *expected: str) -> None:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect(PROMPT)


def test_repl_survives_a_killed_embedded_server_and_keeps_its_change(cli, data_dir, key_prefix):
    child = cli.spawn(env={"AI_CLI_REDIS_URL": "embedded"}, timeout=40)
    child.expect(PROMPT)
    run(child, "/model general add http://127.0.0.1:9 before-kill --force --no-activate",
        "Model registered successfully!")
    time.sleep(2)
    kill_server(data_dir)
    run(child, "/model list")  # Redis is gone: a notice, then the prompt again
    run(child, "/help", "/model status")
    time.sleep(RETRY_S)  # the REPL's registry starts the embedded server again by itself
    run(child, "/model list", "before-kill")
    run(child, "/model general add http://127.0.0.1:9 after-restart --force",
        "Model registered successfully!")
    run(child, "/model list", "after-restart")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    client = start_embedded(data_dir)
    names = sorted(m.model_name for m in ModelRegistry(client, key_prefix=key_prefix).list_models())
    assert names == ["after-restart", "before-kill"]
    assert registry_problems(client, key_prefix) == []

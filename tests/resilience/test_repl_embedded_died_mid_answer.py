"""The embedded redis-server SIGKILLed while the REPL streams an answer: the answer finishes on
screen, is saved into its session once the server is back (started again by the REPL itself), and
the next message is answered by the same model (never "No general model available")."""

from __future__ import annotations

import pexpect
import pytest
import redis

from agent.sessions import SessionStore
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from registry.config import ConfigManager
from registry.manager import ModelRegistry
from resilience.embedded import kill_server, start_embedded, stop_server_quietly, wait_until_saved
from test_cli_support import cli  # noqa: F401

pytestmark = pytest.mark.process

PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def plain_client(data_dir) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(data_dir / "redis.sock"), decode_responses=True)


@pytest.fixture
def data_dir():
    path = ConfigManager.load(env={}).data_dir
    yield path
    stop_server_quietly(path)


def test_an_answer_cut_from_its_store_is_saved_once_the_server_is_back(cli, ollama_server,
                                                                      data_dir, key_prefix):
    client = start_embedded(data_dir)
    ollama_server.add_model("llama3")
    ModelRegistry(client, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                           "llama3", timeout=30)
    wait_until_saved(client)
    client.close()
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.7
    ollama_server.reply("alpha ", "beta ", "gamma-end")
    child = cli.spawn(env={"AI_CLI_REDIS_URL": "embedded"}, timeout=60)
    child.expect(PROMPT)
    child.sendline("first question")
    child.expect_exact("alpha")
    with plain_client(data_dir) as watching:  # the new session is on disk (a kill loses ~1 s)
        wait_until_saved(watching)
    kill_server(data_dir)  # mid-answer: the session's store is gone
    child.expect_exact("gamma-end")
    child.expect(PROMPT)
    ollama_server.chat_mode = None
    ollama_server.reply("second answer")
    child.sendline("second question")
    child.expect_exact("second answer")
    child.expect(PROMPT)
    shown = child.before
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert "No general model" not in shown

    client = start_embedded(data_dir)
    store = SessionStore(client, key_prefix)
    (session,) = store.list()
    turns = [(m.role, m.content) for m in store.history(session.session_id)]
    assert turns == [("user", "first question"), ("assistant", "alpha beta gamma-end"),
                     ("user", "second question"), ("assistant", "second answer")]

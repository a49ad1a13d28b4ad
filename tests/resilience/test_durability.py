"""Durability of the embedded store: a change survives `kill -9` of the redis-server.

The server is started exactly as ai-cli starts it (`connect_redis("embedded", ...)`); the test
holds a connection the way a running REPL does, so nothing shuts the server down cleanly: only
the save policy can have put the change on disk.
"""

from __future__ import annotations

import time

import pytest

from agent.sessions import SessionStore, StoredMessage
from invariants import registry_problems
from registry.config import ConfigManager
from registry.manager import ModelRegistry
from resilience.embedded import kill_server, start_embedded, stop_server_quietly, wait_until_saved

pytestmark = pytest.mark.process  # every test starts and kills embedded redis-servers

SETTLE_S = 2.0  # the "2 s after a change"; the policy promises about one


@pytest.fixture
def data_dir():
    path = ConfigManager.load(env={}).data_dir
    yield path
    stop_server_quietly(path)


def crash_after_change(client, data_dir):
    time.sleep(SETTLE_S)
    wait_until_saved(client, deadline_s=5)  # bounded: with saving off this never happens
    kill_server(data_dir)
    return start_embedded(data_dir)


def test_running_server_has_the_save_policy(data_dir):
    client = start_embedded(data_dir)
    assert client.config_get("save") == {"save": "1 1"}


def test_model_added_survives_sigkill_of_the_server(data_dir):
    client = start_embedded(data_dir)
    model = ModelRegistry(client).add_model("general", "http://127.0.0.1:11434", "llama3.1:8b",
                                            set_active=False)
    again = crash_after_change(client, data_dir)
    assert again.exists(f"models:{model.model_id}")
    assert ModelRegistry(again).get_model(model.model_id) == model
    assert registry_problems(again) == []


def test_session_message_survives_sigkill_of_the_server(data_dir):
    client = start_embedded(data_dir)
    store = SessionStore(client)
    session = store.new()
    store.append(session.session_id, StoredMessage("user", "remember me"),
                 StoredMessage("assistant", "I will"))
    again = crash_after_change(client, data_dir)
    history = SessionStore(again).history(session.session_id)
    assert [(m.role, m.content) for m in history] == [("user", "remember me"),
                                                      ("assistant", "I will")]

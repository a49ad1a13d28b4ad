"""SessionStore on fakeredis, a real Redis and a Redis Cluster: keys, bounds, pins, concurrency
with deletes."""

from __future__ import annotations

import json

import pytest
import redis

from agent.sessions import SessionStore, StoredMessage, title_from
from agent.errors import SessionNotFound

pytestmark = pytest.mark.also_on_cluster


@pytest.fixture
def store(any_redis, key_prefix):
    return SessionStore(any_redis, key_prefix=key_prefix, max_history=4, max_stored=6)


def test_new_session_keys_follow_the_documented_schema(store, any_redis, key_prefix):
    session = store.new()
    assert session.session_id.startswith("session_") and len(session.session_id) == 16
    fields = any_redis.hgetall(f"{key_prefix}sessions:{session.session_id}")
    assert set(fields) == {"session_id", "title", "created_at", "updated_at", "pinned_general",
                           "pinned_coder"}
    assert any_redis.zscore(f"{key_prefix}sessions:index", session.session_id) is not None
    store.append(session.session_id, StoredMessage("user", "hi"))
    raw = any_redis.lrange(f"{key_prefix}sessions:{session.session_id}:messages", 0, -1)
    assert json.loads(raw[0])["content"] == "hi"


def test_append_and_history_bounded(store):
    session = store.new()
    for i in range(5):
        store.append(session.session_id, StoredMessage("user", f"q{i}"),
                     StoredMessage("assistant", f"a{i}", model_id="model_0000abcd", model_name="llama3"))
    history = store.history(session.session_id)
    assert [m.content for m in history] == ["q3", "a3", "q4", "a4"]
    assert history[-1].model_id == "model_0000abcd" and history[-1].model_name == "llama3"
    assert store.get(session.session_id).message_count == 6  # max_stored
    assert [m.content for m in store.history(session.session_id, limit=1)] == ["a4"]
    assert store.history(session.session_id, limit=0) == []


def test_title_comes_from_the_first_question(store):
    session = store.new()
    store.append(session.session_id, StoredMessage("user", "  How do   I\nsort a list? " + "x" * 80))
    store.append(session.session_id, StoredMessage("user", "second"))
    title = store.get(session.session_id).title
    assert title.startswith("How do I sort a list? x") and len(title) == 60
    assert title_from("short") == "short"


def test_list_is_most_recent_first_and_delete_removes_every_key(store, any_redis, key_prefix):
    first, second = store.new(), store.new()
    store.append(first.session_id, StoredMessage("user", "bump"))
    ids = [s.session_id for s in store.list()]
    assert set(ids) == {first.session_id, second.session_id}
    removed = store.delete(first.session_id)
    assert removed.session_id == first.session_id
    assert [s.session_id for s in store.list()] == [second.session_id]
    assert any_redis.exists(f"{key_prefix}sessions:{first.session_id}",
                            f"{key_prefix}sessions:{first.session_id}:messages") == 0
    with pytest.raises(SessionNotFound, match="/session list"):
        store.get(first.session_id)
    with pytest.raises(SessionNotFound):
        store.append(first.session_id, StoredMessage("user", "late"))
    assert any_redis.exists(f"{key_prefix}sessions:{first.session_id}:messages") == 0


def test_pins(store):
    session = store.new()
    assert store.get(session.session_id).pinned == {"general": None, "coder": None}
    store.pin(session.session_id, "coder", "model_12345678")
    assert store.get(session.session_id).pinned == {"general": None, "coder": "model_12345678"}
    store.pin(session.session_id, "coder", None)
    assert store.get(session.session_id).pinned["coder"] is None


@pytest.mark.parametrize("bad", ["", "nope", "session_XYZ", "session_123456789", "../x"])
def test_bad_ids_are_not_found(store, bad):
    with pytest.raises(SessionNotFound):
        store.get(bad)


def test_unreachable_redis_is_one_clear_error(key_prefix):
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    from registry.errors import RegistryUnavailable

    with pytest.raises(RegistryUnavailable, match="sessions is unreachable"):
        SessionStore(client, key_prefix).list()


def test_sessions_are_shared_between_clients(real_redis, redis_target, key_prefix):
    """Two connections (as two processes would have) see the same session and history."""
    writer = SessionStore(real_redis, key_prefix)
    session = writer.new()
    writer.append(session.session_id, StoredMessage("user", "remember 42"))
    other = redis_target.client()
    try:
        reader = SessionStore(other, key_prefix)
        assert [m.content for m in reader.history(session.session_id)] == ["remember 42"]
    finally:
        other.close()


def test_a_session_id_with_a_trailing_newline_is_not_an_id(tmp_path):
    from agent.session_file import IN_USE_FILE, SESSION_ID_RE, read_in_use

    assert SESSION_ID_RE.match("session_1234abcd")
    assert not SESSION_ID_RE.match("session_1234abcd\n")  # "$" let it through
    (tmp_path / IN_USE_FILE).write_text("session_1234abcd\n\n", encoding="utf-8")
    assert read_in_use(tmp_path) == "session_1234abcd"  # the file's own newline is stripped

"""`list_models` reads the indexes and the hashes of the ids it found last time in one round
trip, and reads again when the indexes changed: another process's add or remove is seen at
once, never an old list. Real Redis."""

from __future__ import annotations

import contextlib

from redis.connection import Connection, UnixDomainSocketConnection

from registry.manager import ModelRegistry


@contextlib.contextmanager
def round_trips():
    """Counts the writes to the server: a pipeline is one."""
    count = [0]
    originals = {cls: cls.send_packed_command for cls in (Connection, UnixDomainSocketConnection)}

    def counted(original):
        def send(conn, command, check_health=True):
            count[0] += 1
            return original(conn, command, check_health)
        return send

    for cls, original in originals.items():
        cls.send_packed_command = counted(original)
    try:
        yield count
    finally:
        for cls, original in originals.items():
            cls.send_packed_command = original


def test_an_unchanged_registry_is_listed_in_one_round_trip(real_registry):
    real_registry.add_model("general", "http://127.0.0.1:9", "llama3.1:8b")
    real_registry.add_model("coder", "http://127.0.0.1:9", "qwen2.5-coder:7b")
    real_registry.list_models()
    with round_trips() as count:
        models = real_registry.list_models()
    assert count[0] == 1 and len(models) == 2


def test_another_process_changes_are_seen_at_once(real_redis, key_prefix, real_registry):
    other = ModelRegistry(real_redis, key_prefix=key_prefix)
    assert real_registry.list_models() == []
    added = other.add_model("general", "http://127.0.0.1:9", "llama3.1:8b")
    assert [m.model_id for m in real_registry.list_models()] == [added.model_id]
    other.update_availability(added.model_id, False)  # same ids, a new field: read fresh
    assert real_registry.list_models()[0].is_available is False
    other.remove_model(added.model_id)
    assert real_registry.list_models() == []
    assert real_registry.list_models("general") == []

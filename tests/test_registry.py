"""ModelRegistry behaviour, on fakeredis, a real Redis server and a Redis Cluster (`any_redis`)."""

import json

import pytest

from invariants import registry_problems
from registry.errors import InvalidModelName, InvalidModelType, InvalidTimeout, InvalidUrl, UnknownModel, WrongModelType
from registry.manager import ModelRegistry

pytestmark = pytest.mark.also_on_cluster
URL = "http://127.0.0.1:11434"


def snapshot(client, prefix):
    """Every key of this test with its value, to prove a rejected call changed nothing."""
    out = {}
    for key in sorted(client.scan_iter(f"{prefix}*")):
        kind = client.type(key)
        out[key] = {"string": client.get, "hash": client.hgetall,
                    "set": client.smembers}[kind](key)
    return out


def test_add_writes_exactly_the_design_keys(registry, any_redis, key_prefix):
    model = registry.add_model("general", URL, "llama3.1:8b", timeout=90)
    assert model.model_id.startswith("model_") and len(model.model_id) == 14
    stored = any_redis.hgetall(f"{key_prefix}models:{model.model_id}")
    assert stored == {
        "model_id": model.model_id, "model_type": "general", "url": URL,
        "model_name": "llama3.1:8b", "timeout": "90", "is_active": "1",
        "added_at": stored["added_at"], "last_checked": "", "is_available": "",
        "num_ctx": "", "parallel": "1",
    }
    assert any_redis.get(f"{key_prefix}models:general:active") == model.model_id
    assert any_redis.smembers(f"{key_prefix}models:index:general") == {model.model_id}
    assert any_redis.get(f"{key_prefix}models:schema") == "1"
    assert registry_problems(any_redis, key_prefix) == []


def test_default_timeout_and_get_model(registry):
    model = registry.add_model("coder", URL, "qwen2.5-coder:7b")
    assert model.timeout == 120
    assert registry.get_model(model.model_id) == model
    assert registry.get_model("model_ffffffff") is None


def test_new_active_model_demotes_previous(registry, any_redis, key_prefix):
    first = registry.add_model("general", URL, "a")
    second = registry.add_model("general", URL, "b")
    assert registry.get_active_model("general") == second
    assert registry.get_model(first.model_id).is_active is False
    assert registry_problems(any_redis, key_prefix) == []


def test_add_without_activation(registry):
    first = registry.add_model("general", URL, "a")
    extra = registry.add_model("general", URL, "b", set_active=False)
    assert extra.is_active is False
    assert registry.get_active_model("general") == first


def test_types_are_independent(registry):
    general = registry.add_model("general", URL, "a")
    coder = registry.add_model("coder", URL, "c")
    assert registry.get_active_model("general") == general
    assert registry.get_active_model("coder") == coder
    assert [m.model_id for m in registry.list_models("coder")] == [coder.model_id]
    assert {m.model_id for m in registry.list_models()} == {general.model_id, coder.model_id}


def test_set_active_model_switches(registry, any_redis, key_prefix):
    first = registry.add_model("general", URL, "a")
    second = registry.add_model("general", URL, "b")
    assert registry.set_active_model(first.model_id) is True
    assert registry.get_active_model("general").model_id == first.model_id
    assert registry.get_model(second.model_id).is_active is False
    assert registry.set_active_model(first.model_id, model_type="general") is True
    assert registry_problems(any_redis, key_prefix) == []


def test_remove_active_clears_pointer(registry, any_redis, key_prefix):
    model = registry.add_model("coder", URL, "c")
    assert registry.remove_model(model.model_id) == model
    assert registry.get_active_model("coder") is None
    assert registry.get_model(model.model_id) is None
    assert any_redis.get(f"{key_prefix}models:coder:active") is None
    assert registry.list_models() == []
    assert registry_problems(any_redis, key_prefix) == []


def test_remove_inactive_keeps_pointer(registry):
    active = registry.add_model("general", URL, "a")
    other = registry.add_model("general", URL, "b", set_active=False)
    registry.remove_model(other.model_id)
    assert registry.get_active_model("general") == active


def test_update_availability(registry):
    model = registry.add_model("general", URL, "a")
    assert registry.update_availability(model.model_id, False) is True
    checked = registry.get_model(model.model_id)
    assert checked.is_available is False and checked.last_checked is not None
    registry.update_availability(model.model_id, True)
    assert registry.get_model(model.model_id).is_available is True
    assert registry.update_availability("model_00000000", True) is False


def test_list_is_oldest_first(registry):
    ids = [registry.add_model("general", URL, f"m{i}").model_id for i in range(5)]
    listed = [m.model_id for m in registry.list_models("general")]
    assert sorted(listed) == sorted(ids)
    assert listed == [m.model_id for m in sorted(registry.list_models("general"),
                                                 key=lambda m: (m.added_at, m.model_id))]


def test_every_change_publishes_an_event(registry, any_redis, key_prefix):
    pubsub = any_redis.pubsub()
    pubsub.subscribe(f"{key_prefix}models:events")
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    model = registry.add_model("general", URL, "a")
    registry.update_availability(model.model_id, True)
    registry.set_active_model(model.model_id)
    registry.remove_model(model.model_id)
    events = []
    while len(events) < 4:
        message = pubsub.get_message(timeout=2)
        assert message is not None, f"only {events} arrived"
        events.append(json.loads(message["data"]))
    assert [e["op"] for e in events] == ["add", "availability", "activate", "remove"]
    assert all(e == {"op": e["op"], "model_id": model.model_id, "model_type": "general"}
               for e in events)
    pubsub.close()


BAD_CALLS = [
    (lambda r, ids: r.add_model("chat", URL, "a"), InvalidModelType),
    (lambda r, ids: r.add_model("general", "ftp://localhost:11434", "a"), InvalidUrl),
    (lambda r, ids: r.add_model("general", "http://", "a"), InvalidUrl),
    (lambda r, ids: r.add_model("general", URL, ""), InvalidModelName),
    (lambda r, ids: r.add_model("general", URL, "two words"), InvalidModelName),
    (lambda r, ids: r.add_model("general", URL, "bell\x07"), InvalidModelName),
    (lambda r, ids: r.add_model("general", URL, "x" * 201), InvalidModelName),
    (lambda r, ids: r.add_model("general", URL, "a", timeout=0), InvalidTimeout),
    (lambda r, ids: r.add_model("general", URL, "a", timeout=-1), InvalidTimeout),
    (lambda r, ids: r.add_model("general", URL, "a", timeout=3601), InvalidTimeout),
    (lambda r, ids: r.add_model("general", URL, "a", timeout=2.5), InvalidTimeout),
    (lambda r, ids: r.remove_model("model_deadbeef"), UnknownModel),
    (lambda r, ids: r.set_active_model("model_deadbeef"), UnknownModel),
    (lambda r, ids: r.set_active_model(ids["coder"], model_type="general"), WrongModelType),
    (lambda r, ids: r.remove_model(ids["general"], model_type="coder"), WrongModelType),
    (lambda r, ids: r.get_active_model("chat"), InvalidModelType),
    (lambda r, ids: r.list_models("chat"), InvalidModelType),
]


@pytest.mark.parametrize("call, error", BAD_CALLS)
def test_bad_input_changes_nothing(registry, any_redis, key_prefix, call, error):
    ids = {
        "general": registry.add_model("general", URL, "a").model_id,
        "coder": registry.add_model("coder", URL, "c").model_id,
    }
    before = snapshot(any_redis, key_prefix)
    with pytest.raises(error) as caught:
        call(registry, ids)
    assert snapshot(any_redis, key_prefix) == before
    assert "\n" not in str(caught.value)


def test_list_models_round_trips_do_not_grow(any_redis, key_prefix):
    """list_models costs the same number of commands to Redis for 3 and for 60 models."""
    registry = ModelRegistry(any_redis, key_prefix=key_prefix)
    calls = []
    # A cluster client has a connection pool per node; one server has one.
    pools = ([node.redis_connection.connection_pool for node in any_redis.get_nodes()]
             if hasattr(any_redis, "get_nodes") else [any_redis.connection_pool])

    def counting(original):
        def get_connection(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)
        return get_connection

    def round_trips():
        calls.clear()
        originals = [pool.get_connection for pool in pools]
        for pool, original in zip(pools, originals):
            pool.get_connection = counting(original)
        try:
            registry.list_models()
        finally:
            for pool, original in zip(pools, originals):
                pool.get_connection = original
        return len(calls)

    for i in range(3):
        registry.add_model("general", URL, f"m{i}")
    few = round_trips()
    for i in range(57):
        registry.add_model("coder", URL, f"c{i}")
    assert round_trips() == few <= 2
    assert len(registry.list_models()) == 60

"""The preset store on Redis (fakeredis, a real server, and a Redis Cluster): keys under the
registry's prefix, every change one transaction with its event, all-or-nothing imports, and
damaged keys that never break a read."""

from __future__ import annotations

import json

import pytest
from invariants import preset_problems

from registry.errors import CorruptRegistryKey
from registry.manager import ModelRegistry
from registry.presets import PresetStore, UnknownPreset, checked_preset
from router.options import options_from_mapping

pytestmark = pytest.mark.also_on_cluster


@pytest.fixture
def store(registry):
    return PresetStore(registry, options_from_mapping)


def preset(name, **fields):
    return checked_preset(name, check_options=options_from_mapping, **fields)


def test_save_list_get_remove(store, any_redis, key_prefix):
    saved, replaced = store.save(preset("fast", model="general", options={"temperature": 0.2}))
    assert not replaced and saved.updated_at
    assert any_redis.sismember(f"{key_prefix}presets:index", "fast")
    assert any_redis.hget(f"{key_prefix}presets:fast", "options") == '{"temperature": 0.2}'
    assert store.get("fast") == saved
    again, replaced = store.save(preset("fast", system="s"))
    assert replaced and store.get("fast").system == "s" and store.get("fast").options == {}
    store.save(preset("accurate"))
    assert [p.name for p in store.list()] == ["accurate", "fast"]
    assert preset_problems(any_redis, key_prefix) == []
    assert store.remove("fast").name == "fast"
    with pytest.raises(UnknownPreset):
        store.get("fast")
    with pytest.raises(UnknownPreset):
        store.remove("fast")
    with pytest.raises(UnknownPreset):
        store.get("no such name")  # not even a name: unknown, never a key of another kind
    assert preset_problems(any_redis, key_prefix) == []


def test_every_change_publishes_its_event(store, registry):
    pubsub = registry.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(registry.keys.events)
    store.save(preset("a"))
    store.save_all([preset("b"), preset("c")])
    store.remove("a")
    seen = []
    for _ in range(20):
        message = pubsub.get_message(timeout=5)
        if message is not None:
            seen.append(json.loads(message["data"]))
        if len(seen) == 4:
            break
    pubsub.close()
    assert seen == [{"event": "preset_added", "name": "a"}, {"event": "preset_added", "name": "b"},
                    {"event": "preset_added", "name": "c"},
                    {"event": "preset_removed", "name": "a"}]


def test_damaged_keys_are_listed_and_removable(store, any_redis, key_prefix):
    store.save(preset("ok"))
    any_redis.set(f"{key_prefix}presets:text", "x")
    any_redis.sadd(f"{key_prefix}presets:index", "text", "ghost")
    any_redis.hset(f"{key_prefix}presets:half", mapping={"name": "half"})
    any_redis.sadd(f"{key_prefix}presets:index", "half")
    listed = {p.name: p for p in store.list()}
    assert not listed["ok"].corrupt
    assert {n for n, p in listed.items() if p.corrupt} == {"text", "ghost", "half"}
    for name in ("text", "ghost", "half"):
        assert store.remove(name).corrupt
    assert [p.name for p in store.list()] == ["ok"]
    assert preset_problems(any_redis, key_prefix) == []


def test_an_index_of_another_type_lists_nothing_and_refuses_changes(store, any_redis,
                                                                     key_prefix):
    any_redis.set(f"{key_prefix}presets:index", "not a set")
    assert store.list() == []
    assert store.index_problem.startswith(f"The registry key {key_prefix}presets:index holds a "
                                          "Redis string")
    assert "redis-cli DEL" in store.index_problem
    with pytest.raises(CorruptRegistryKey, match="presets:index"):
        store.save(preset("a"))
    assert any_redis.get(f"{key_prefix}presets:index") == "not a set"
    assert not any_redis.exists(f"{key_prefix}presets:a")


def test_save_all_writes_every_preset_or_none(store, any_redis, key_prefix, registry):
    store.save(preset("keep", options={"seed": 1}))
    any_redis.set(f"{key_prefix}presets:index", "broken")  # the write will be refused
    with pytest.raises(CorruptRegistryKey):
        store.save_all([preset("a"), preset("b")])
    assert not any_redis.exists(f"{key_prefix}presets:a", f"{key_prefix}presets:b")
    any_redis.delete(f"{key_prefix}presets:index")
    any_redis.sadd(f"{key_prefix}presets:index", "keep")
    done = store.save_all([preset("a"), preset("keep", options={"seed": 2})], only_new=True)
    assert [(p.name, replaced) for p, replaced in done] == [("a", False)]
    assert store.get("keep").options == {"seed": 1}


def test_the_keys_live_under_the_registry_prefix(store, any_redis, key_prefix):
    store.save(preset("p"))
    assert sorted(any_redis.scan_iter(f"{key_prefix}presets:*")) == [
        f"{key_prefix}presets:index", f"{key_prefix}presets:p"]
    assert ModelRegistry(any_redis, key_prefix).keys.preset("p") == f"{key_prefix}presets:p"


def test_concurrent_changes_keep_the_invariants(real_redis, key_prefix):
    """Writers racing on the same names (each transaction on its own pipeline connection): each
    is all or nothing, so the index and the hashes always agree."""
    import threading

    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        store = PresetStore(ModelRegistry(real_redis, key_prefix=key_prefix),
                            options_from_mapping)
        try:
            for i in range(30):
                name = f"p{(seed + i) % 5}"
                if i % 3 == 2:
                    try:
                        store.remove(name)
                    except UnknownPreset:
                        pass
                else:
                    store.save_all([preset(name, options={"seed": seed}), preset(f"q{i % 4}")])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert preset_problems(real_redis, key_prefix) == []

"""Replica grouping (registry/replicas.py): which registry entries are one model on several hosts.
Pure: entries built in memory, digests handed in as the hosts would report them."""

from __future__ import annotations

from registry.model import ModelConfig
from registry.replicas import duplicate_of, group_of, replica_groups, replicas_of, same_model


def entry(n: int, name: str, port: int, model_type: str = "general", **changes) -> ModelConfig:
    return ModelConfig(model_id=f"model_{n:08x}", model_type=model_type,
                       url=f"http://127.0.0.1:{port}", model_name=name, timeout=30,
                       **{"is_active": False, "added_at": None, **changes})


def ids(group) -> list[str]:
    return [m.model_id for m in group.entries]


def test_same_name_on_three_hosts_is_one_model_with_three_hosts():
    a, b, c = (entry(i, "llama3.1:8b", 1000 + i) for i in (1, 2, 3))
    other = entry(4, "mistral:7b", 1001)
    groups = replica_groups([a, other, b, c])
    assert [ids(g) for g in groups] == [[a.model_id, b.model_id, c.model_id], [other.model_id]]
    assert groups[0].hosts == ["127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"]
    assert replicas_of(b, [a, other, b, c]) == [a, c]


def test_names_compare_as_ollama_does_latest_and_case():
    assert same_model(entry(1, "llama3", 1), entry(2, "Llama3:latest", 2))
    assert not same_model(entry(1, "llama3", 1), entry(2, "llama3:8b", 2))


def test_types_never_mix():
    general, coder = entry(1, "qwen2.5-coder:7b", 1), entry(2, "qwen2.5-coder:7b", 2, "coder")
    assert len(replica_groups([general, coder])) == 2


def test_equal_digests_group_different_names():
    a, b = entry(1, "llama3.1:8b", 1), entry(2, "llama3.1:latest", 2)
    assert not same_model(a, b)
    digests = {a.model_id: "sha256:aa", b.model_id: "sha256:aa"}
    assert [ids(g) for g in replica_groups([a, b], digests)] == [[a.model_id, b.model_id]]


def test_different_digests_split_one_name():
    """Another quantisation pushed under the same tag is another model."""
    a, b = entry(1, "llama3.1:8b", 1), entry(2, "llama3.1:8b", 2)
    digests = {a.model_id: "sha256:aa", b.model_id: "sha256:bb"}
    assert len(replica_groups([a, b], digests)) == 2


def test_one_digest_unknown_falls_back_to_the_name():
    a, b = entry(1, "llama3.1:8b", 1), entry(2, "llama3.1:8b", 2)
    assert same_model(a, b, {a.model_id: "sha256:aa"})


def test_grouping_is_transitive_and_independent_of_order():
    # a~b by digest, b~c by name (c's digest unknown): one model, whatever the order.
    a, b, c = entry(1, "llama3.1:latest", 1), entry(2, "llama3.1:8b", 2), entry(3, "llama3.1:8b", 3)
    digests = {a.model_id: "sha256:aa", b.model_id: "sha256:aa"}
    for order in ([a, b, c], [c, b, a], [c, a, b]):
        (group,) = replica_groups(order, digests)
        assert sorted(ids(group)) == [a.model_id, b.model_id, c.model_id]


def test_a_corrupt_entry_is_a_group_of_its_own():
    a = entry(1, "llama3", 1)
    broken = entry(2, "llama3", 2, problem="timeout is not a number")
    assert len(replica_groups([a, broken])) == 2
    assert group_of(broken, [a, broken]).entries == (broken,)


def test_preferred_entry_is_the_active_then_the_available_then_the_first():
    a, b = entry(1, "llama3", 1), entry(2, "llama3", 2, is_available=True)
    assert group_of(a, [a, b]).preferred() == b
    c = entry(3, "llama3", 3, is_active=True)
    assert group_of(a, [a, b, c]).preferred() == c
    assert group_of(a, [a]).preferred() == a


def test_duplicate_is_the_same_type_url_and_name():
    a = entry(1, "llama3", 11434)
    assert duplicate_of([a], "general", "http://127.0.0.1:11434/", "llama3:latest") == a
    assert duplicate_of([a], "coder", "http://127.0.0.1:11434", "llama3") is None
    assert duplicate_of([a], "general", "http://127.0.0.1:11435", "llama3") is None
    assert duplicate_of([a], "general", "http://127.0.0.1:11434", "llama3:8b") is None


def test_the_digest_an_entry_keeps_groups_it_without_being_passed():
    a = entry(1, "llama3:8b", 11431, capabilities_digest="d" * 64)
    b = entry(2, "llama3:latest", 11432, capabilities_digest="d" * 64)  # the same model, retagged
    c = entry(3, "llama3:8b", 11433, capabilities_digest="e" * 64)  # the tag, another quantisation
    assert [ids(g) for g in replica_groups([a, b, c])] == [[a.model_id, b.model_id], [c.model_id]]

"""Every way to name a model (registry/lookup.py) and each refusal, on entries built in memory:
ids, id prefixes, names meaning every host, `name@host` pinning one, tagless names."""

from __future__ import annotations

import pytest

from registry.errors import AmbiguousModel, UnknownModel, WrongModelType
from registry.lookup import name_choices, resolve
from registry.model import ModelConfig


def entry(n: int, name: str, port: int, model_type: str = "general", **changes) -> ModelConfig:
    return ModelConfig(model_id=f"model_{n:08x}", model_type=model_type,
                       url=f"http://127.0.0.1:{port}", model_name=name, timeout=30,
                       **{"is_active": False, "added_at": None, **changes})


LLAMA_A = entry(0xA1, "llama3.1:8b", 11434)
LLAMA_B = entry(0xB2, "llama3.1:8b", 11500, is_available=True)
LLAMA_C = entry(0xC3, "llama3.1:8b", 11600)
MISTRAL = entry(0xD4, "mistral:7b", 11434, is_active=True)
CODER = entry(0xE5, "qwen2.5-coder:7b", 11434, "coder")
FLEET = [LLAMA_A, LLAMA_B, LLAMA_C, MISTRAL, CODER]


def test_a_name_on_three_hosts_means_the_model_on_any_of_them():
    named = resolve(FLEET, "llama3.1:8b")
    assert named.any_host and named.several_hosts and not named.pinned
    assert named.model == LLAMA_B  # last seen available: tried first
    assert [m.model_id for m in named.group.entries] == [LLAMA_A.model_id, LLAMA_B.model_id,
                                                          LLAMA_C.model_id]


def test_exact_id_in_any_case():
    named = resolve(FLEET, "MODEL_000000A1")
    assert named.model == LLAMA_A and not named.any_host and not named.pinned
    assert len(named.group.entries) == 3  # its other hosts stay its failover


def test_name_at_host_pins_that_host():
    named = resolve(FLEET, "llama3.1:8b@127.0.0.1:11600")
    assert named.model == LLAMA_C and named.pinned


def test_name_at_host_without_the_default_port():
    assert resolve(FLEET, "llama3.1:8b@127.0.0.1").model == LLAMA_A  # :11434 is Ollama's


def test_name_at_host_without_a_port_when_the_host_is_unique():
    solo = [entry(1, "phi3", 8080)]
    assert resolve(solo, "phi3@127.0.0.1").model == solo[0]


def test_name_at_an_unknown_host_lists_its_hosts():
    with pytest.raises(UnknownModel) as refused:
        resolve(FLEET, "llama3.1:8b@127.0.0.1:9")
    message = str(refused.value)
    assert "127.0.0.1:11434, 127.0.0.1:11500, 127.0.0.1:11600" in message
    assert "model list" in message


def test_an_unknown_name_at_a_host_is_refused_as_typed():
    with pytest.raises(UnknownModel, match="'phi3@127.0.0.1'"):
        resolve(FLEET, "phi3@127.0.0.1")
    with pytest.raises(UnknownModel):
        resolve(FLEET, "@127.0.0.1")


def test_tagless_name_at_host():
    assert resolve(FLEET, "mistral@127.0.0.1:11434").model == MISTRAL


def test_tagless_name_when_one_tag_matches():
    named = resolve(FLEET, "mistral")
    assert named.model == MISTRAL and named.any_host
    assert resolve(FLEET, "llama3.1").model == LLAMA_B


def test_tagless_name_with_two_tags_lists_the_candidates_with_their_hosts():
    fleet = [*FLEET, entry(0xF6, "mistral:instruct", 11500)]
    with pytest.raises(AmbiguousModel) as refused:
        resolve(fleet, "mistral")
    message = str(refused.value)
    assert refused.value.exit_code == 2
    assert "mistral:7b @ 127.0.0.1:11434" in message
    assert "mistral:instruct @ 127.0.0.1:11500" in message
    assert "NAME@HOST" in message


def test_unique_id_prefix_of_four_hex_digits_or_more():
    assert resolve(FLEET, "model_000000d4").model == MISTRAL
    two = [entry(0x1234AAAA, "a", 1), entry(0x1234BBBB, "b", 2)]
    assert resolve(two, "model_1234a").model == two[0]
    with pytest.raises(AmbiguousModel):
        resolve(two, "model_1234")


def test_an_id_prefix_shorter_than_four_hex_digits_is_not_a_prefix():
    two = [entry(0x1234AAAA, "a", 1), entry(0x1234BBBB, "b", 2)]
    with pytest.raises(UnknownModel):
        resolve(two, "model_123")
    with pytest.raises(UnknownModel):
        resolve(two, "1234aaaa")  # a prefix starts with model_


def test_an_id_prefix_of_one_host_names_that_entry():
    named = resolve([LLAMA_A, LLAMA_B], "model_000000b")
    assert named.model == LLAMA_B and not named.any_host


def test_names_resolve_within_the_type_asked_for():
    assert resolve(FLEET, "qwen2.5-coder:7b", "coder").model == CODER
    with pytest.raises(WrongModelType):
        resolve(FLEET, "mistral", "coder")
    with pytest.raises(UnknownModel):
        resolve(FLEET, "nothing-here")


def test_a_name_of_both_types_prefers_the_type_asked_for():
    fleet = [entry(1, "qwen", 1), entry(2, "qwen", 2, "coder")]
    assert resolve(fleet, "qwen", prefer="coder").model.model_type == "coder"
    with pytest.raises(AmbiguousModel):
        resolve(fleet, "qwen")


def test_completion_offers_names_name_at_host_and_ids_with_their_hosts():
    choices = name_choices(FLEET)
    assert choices["llama3.1:8b"] == ("general · 3 hosts: 127.0.0.1:11434, 127.0.0.1:11500, "
                                      "127.0.0.1:11600")
    for m in (LLAMA_A, LLAMA_B, LLAMA_C):
        assert f"llama3.1:8b@{m.host}" in choices
        assert choices[m.model_id] == f"llama3.1:8b @ {m.host}"
    assert choices["mistral:7b"] == "general · 127.0.0.1:11434"
    # every offered name resolves to what it says
    for text in choices:
        assert resolve(FLEET, text)

"""Property: `ModelConfig.from_hash` turns ANY stored hash into a model; it never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.model import HASH_FIELDS, ModelConfig

SOUND = {"model_id": "model_1a2b3c4d", "model_type": "general", "url": "http://127.0.0.1:11434",
         "model_name": "llama3.1:8b", "timeout": "120", "is_active": "1",
         "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "", "is_available": ""}
texts = st.one_of(st.text(), st.binary(), st.sampled_from(["", "1", "0", "-1", "1e9", "9" * 40,
                                                           "2026-13-01", "0001-01-01T00:00:00+05:00",
                                                           "9999-12-31T23:00:00-05:00"]))
keys = st.one_of(st.sampled_from(HASH_FIELDS), st.text(max_size=12), st.binary(max_size=12))


def check_usable(model: ModelConfig) -> None:
    """Everything a command does with a model works on whatever came back."""
    assert isinstance(model, ModelConfig)
    model.to_json()
    model.host
    model.shown_url
    assert (model.problem is None) == (not model.corrupt)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, texts, max_size=12), st.one_of(st.none(), st.text(max_size=20)))
def test_any_hash_decodes_without_raising(fields, model_id):
    check_usable(ModelConfig.from_hash(fields, model_id))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(HASH_FIELDS), texts)
def test_one_damaged_field_of_a_sound_hash(name, value):
    model = ModelConfig.from_hash({**SOUND, name: value}, "model_1a2b3c4d")
    check_usable(model)
    if model.problem is None:  # whatever decoded clean must encode back to a sound hash
        assert ModelConfig.from_hash(model.to_hash(), model.model_id).problem is None


def test_a_sound_hash_round_trips():
    model = ModelConfig.from_hash(SOUND, "model_1a2b3c4d")
    # a hash stored before `num_ctx` and `parallel` existed reads as their defaults
    assert model.problem is None and model.to_hash() == {**SOUND, "num_ctx": "", "parallel": "1"}
    assert ModelConfig.from_hash(model.to_hash(), model.model_id) == model


def test_problems_say_what_is_wrong():
    model = ModelConfig.from_hash({**SOUND, "timeout": "soon", "model_type": "weird"})
    assert "timeout 'soon'" in model.problem and "model_type 'weird'" in model.problem
    missing = ModelConfig.from_hash({}, "model_1a2b3c4d")
    assert missing.model_id == "model_1a2b3c4d" and "no stored hash" in missing.problem

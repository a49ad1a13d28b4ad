"""The pure parts of presets: the precedence function, the hash encoding (hostile data decodes
to a corrupt preset, never an exception), checking, the `fastest:` selector and the plan of the
one-time steps."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from agent.precedence import (COMMAND_LINE, MODEL_ENTRY, Layer, Sourced, resolve_layers,
                              session_layer)
from migrations.add_presets import SHIPPED, plan_presets
from registry.answer_log import AnswerRecord
from registry.errors import InvalidInput
from registry.fastest import fastest_model
from registry.model import ModelConfig
from registry.presets import (Preset, checked_preset, clashing_model, presets_from_mapping,
                              validate_preset_name)
from registry.stats import preset_stats
from router.options import options_from_mapping

ENTRY = Layer(MODEL_ENTRY, options={"num_ctx": 2048})
PRESET = Layer("preset p", model="mistral", system="preset system",
               options={"num_ctx": 4096, "temperature": 0.1, "top_k": 5, "stop": ["a", "b"]})
SESSION = session_layer("session system", {"temperature": 0.7})
COMMAND = Layer(COMMAND_LINE, model="llama3", system="cli system", options={"top_k": 9})


def test_each_layer_overrides_each_lower_one_key_by_key():
    assert resolve_layers([ENTRY]).options == {"num_ctx": Sourced(2048, MODEL_ENTRY)}
    over_entry = resolve_layers([ENTRY, PRESET])
    assert over_entry.options["num_ctx"] == Sourced(4096, "preset p")  # preset > model entry
    assert over_entry.model == Sourced("mistral", "preset p")
    over_preset = resolve_layers([ENTRY, PRESET, SESSION])
    assert over_preset.options["temperature"] == Sourced(0.7, "session")  # session > preset
    assert over_preset.options["top_k"] == Sourced(5, "preset p")  # the other keys stay
    assert over_preset.system == Sourced("session system", "session")
    everything = resolve_layers([ENTRY, PRESET, SESSION, COMMAND])
    assert everything.option_values == {"num_ctx": 4096, "temperature": 0.7, "top_k": 9,
                                        "stop": ["a", "b"]}
    assert everything.options["top_k"].source == COMMAND_LINE  # command line > session
    assert everything.model == Sourced("llama3", COMMAND_LINE)  # -m replaces the model
    assert everything.system == Sourced("cli system", COMMAND_LINE)  # -s replaces the system


def test_an_empty_session_system_keeps_the_presets_and_an_empty_s_clears_it():
    assert resolve_layers([PRESET, session_layer("", {})]).system.source == "preset p"
    assert resolve_layers([PRESET, Layer(COMMAND_LINE, system="")]).system is None
    assert resolve_layers([PRESET, Layer(COMMAND_LINE, model=None)]).model.value == "mistral"


def test_a_stop_list_is_replaced_whole():
    merged = resolve_layers([PRESET, Layer(COMMAND_LINE, options={"stop": ["z"]})])
    assert merged.option_values["stop"] == ["z"]
    assert json.loads(json.dumps(merged.to_json()))["options"]["stop"] == {
        "value": ["z"], "source": COMMAND_LINE}


def check(**kwargs) -> Preset:
    return checked_preset(kwargs.pop("name", "p"), check_options=options_from_mapping, **kwargs)


def test_a_preset_round_trips_through_its_hash():
    preset = check(description="d", model="fastest:general", system="line\nline: two",
                   options={"stop": ["x", "y"], "temperature": 0.2, "think": False,
                            "keep_alive": "10m"},
                   requires=["tools", "vision"], updated_at="2026-12-07T10:00:00+00:00")
    assert Preset.from_hash(preset.to_hash(), "p", options_from_mapping) == preset


@pytest.mark.parametrize("fields, problem", [
    ({}, "no stored hash"),
    (ValueError("WRONGTYPE"), "another Redis type"),
    ({"name": "p"}, "missing"),
    ({**Preset("p").to_hash(), "options": "{not json"}, ""),
    ({**Preset("p").to_hash(), "options": "[1, 2]"}, "mapping"),
    ({**Preset("p").to_hash(), "options": '{"warmth": 1}'}, "Unknown option"),
    ({**Preset("p").to_hash(), "options": '{"temperature": "hot"}'}, "temperature"),
    ({**Preset("p").to_hash(), "requires": "telepathy"}, "capability"),
    ({**Preset("p").to_hash(), "model": "fastest:nothing"}, "fastest"),
    ({**Preset("p").to_hash(), "model": "two words"}, "model"),
    ({**Preset("p").to_hash(), "updated_at": 5}, "not text"),
    ({b"name": 5}, ""),
])
def test_hostile_hashes_decode_to_a_corrupt_preset(fields, problem):
    preset = Preset.from_hash(fields, "p", options_from_mapping)
    assert preset.corrupt and problem in preset.problem
    assert preset.to_json()["problem"] == preset.problem


@pytest.mark.parametrize("name", ["", "a b", "-lead", "x" * 65, "index", "none", "General",
                                  "coder", "model_12ab", "émoji", 7, None, "a:b"])
def test_names_that_cannot_be_presets(name):
    with pytest.raises(InvalidInput):
        validate_preset_name(name)


@pytest.mark.parametrize("options, message", [
    ({"warmth": 1}, "Unknown option"),
    ({"temperature": [0.1, 0.2]}, "one value"),
    ({"temperature": {"a": 1}}, "single value"),
    ({"num_predict": "many"}, "whole number"),
    ("temperature=1", "mapping"),
])
def test_options_are_checked_by_the_o_rules(options, message):
    with pytest.raises(InvalidInput, match=message):
        check(options=options)


def test_a_presets_file_is_checked_whole():
    good = {"a": {"options": {"temperature": 0.1}}, "b": None}
    assert [p.name for p in presets_from_mapping(good, options_from_mapping)] == ["a", "b"]
    for bad in ({"a": {}, "b": {"colour": "red"}}, {"a": []}, ["a"], {"a b": {}}):
        with pytest.raises(InvalidInput):
            presets_from_mapping(bad, options_from_mapping)


def model(model_id: str, name: str, model_type: str = "general", added: int = 1) -> ModelConfig:
    return ModelConfig(model_id, model_type, "http://127.0.0.1:11434", name, 30, True,
                       added_at=datetime(2026, 12, 1, added, tzinfo=timezone.utc))


def test_a_name_that_means_a_model_clashes():
    models = [model("model_00000001", "llama3:8b"), model("model_00000002", "mistral:latest")]
    assert clashing_model("mistral", models) == "mistral:latest"
    assert clashing_model("llama3", models) == "llama3:8b"  # its tagless name
    assert clashing_model("fast", models) is None


def record(model_id, ttft, status="ok", preset=None, name="m") -> AnswerRecord:
    return AnswerRecord(model_id, name, "http://127.0.0.1:11434", "active", status=status,
                        ttft_ms=ttft, preset=preset)


def test_fastest_is_the_best_median_time_to_first_token_of_its_type():
    models = [model("model_0000000a", "a"), model("model_0000000b", "b", added=2),
              model("model_0000000c", "c", "coder")]
    records = [record("model_0000000a", 300), record("model_0000000a", 100),
               record("model_0000000a", 120), record("model_0000000b", 150),
               record("model_0000000b", 5, status="broken"),  # not an answer that came whole
               record("model_0000000c", 1), record("model_gone", 1)]
    assert fastest_model(records, models, "general").model_id == "model_0000000a"
    assert fastest_model(records, models, "coder").model_id == "model_0000000c"
    assert fastest_model([], models, "general") is None


def test_stats_by_preset():
    groups = {g.name: g for g in preset_stats([record("model_0000000a", 10, preset="fast"),
                                               record("model_0000000a", 30, preset="fast"),
                                               record("model_0000000a", 20)])}
    assert groups["fast"].requests == 2 and groups["fast"].ttft_ms_p50 == 10
    assert groups[""].to_json("preset")["preset"] is None


def test_the_shipped_presets_are_planned_once_and_never_over_a_name_in_use():
    first = plan_presets(False, False, set(), None, [])
    assert [p.name for p in first.shipped] == ["fast", "accurate", "coding"]
    assert first.mark_shipped and not first.mark_migrated  # no presets: in config.yaml
    assert [p.name for p in plan_presets(False, False, {"fast"}, None, []).shipped] == [
        "accurate", "coding"]
    assert plan_presets(True, False, set(), None, []).shipped == ()  # removed: not re-created
    clash = [model("model_00000001", "fast")]
    assert [p.name for p in plan_presets(False, False, set(), None, clash).shipped] == [
        "accurate", "coding"]
    fast = next(p for p in SHIPPED if p.name == "fast")
    assert (fast.model, fast.options) == ("fastest:general", {"temperature": 0.2,
                                                               "num_predict": 512})


def test_config_presets_are_planned_once_and_refused_on_a_model_name():
    mine = presets_from_mapping({"fast": {"model": "general"}, "mine": {}}, options_from_mapping)
    plan = plan_presets(False, False, set(), mine, [])
    assert [p.name for p in plan.from_config] == ["fast", "mine"]
    assert [p.name for p in plan.shipped] == ["accurate", "coding"]  # config's fast wins
    assert plan.mark_migrated and "2 preset(s)" in plan.summary()
    assert plan_presets(True, True, set(), mine, []).changed is False
    with pytest.raises(InvalidInput, match="registered model"):
        plan_presets(True, False, set(), mine, [model("model_00000001", "mine")])

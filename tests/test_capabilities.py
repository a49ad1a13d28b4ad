"""Capabilities per registry entry: what the server reports (/api/show), the guess for a server
that does not, the user's override, and their encoding. Pure rules and the real checker against
the Ollama-protocol test server with a real Redis."""

from __future__ import annotations

import pytest
from ollama_fixtures import ollama_server  # noqa: F401

from registry import capabilities as caps
from registry.availability import AvailabilityChecker
from registry.errors import InvalidInput
from registry.manager import ModelRegistry
from registry.model import ModelConfig, now_utc


def entry(**changes) -> ModelConfig:
    base = ModelConfig("model_0000000a", "general", "http://127.0.0.1:1", "llava", 30, True,
                       now_utc())
    return base.with_changes(**changes)


# --- pure rules ------------------------------------------------------------------------------


def test_a_server_list_is_taken_as_it_is_and_cleaned():
    assert caps.from_show({"capabilities": ["completion", "Vision", "vision", 7, "bad word"]}) \
        == (("completion", "vision"), "server")
    assert caps.from_show("not a dict") is None and caps.from_show({}) is None


def test_an_old_server_gets_a_guess_from_its_model_info_and_template():
    vision = {"model_info": {"general.architecture": "llama", "clip.vision.image_size": 336},
              "template": "{{ .Prompt }}"}
    assert caps.from_show(vision) == (("completion", "vision"), "guessed")
    projector = {"model_info": {}, "projector_info": {"clip.has_vision_encoder": True},
                 "template": "{{ if .Tools }}{{ .Tools }}{{ end }}"}
    assert caps.from_show(projector)[0] == ("completion", "tools", "vision")
    embed = {"model_info": {"general.architecture": "nomic-bert"}, "template": ""}
    assert caps.from_show(embed)[0] == ("embedding",)
    thinking = {"model_info": {}, "template": "{{ if .Thinking }}...{{ end }}"}
    assert "thinking" in caps.from_show(thinking)[0]


def test_the_override_wins_and_the_last_word_about_a_name_counts():
    assert caps.parse_override(["+vision", "-tools", "+TOOLS"]) == ("+vision", "+tools")
    assert caps.apply_override(("completion", "tools"), ("+vision", "-tools")) \
        == ("completion", "vision")
    assert caps.merge_override(("+vision", "-tools"), ("+tools",)) == ("+vision", "+tools")
    for bad in (["vision"], ["+"], ["+two words"], []):
        with pytest.raises(InvalidInput):
            caps.parse_override(bad)


def test_the_entry_says_where_its_capabilities_came_from():
    assert entry().capabilities is None and entry().capabilities_source is None
    served = entry(server_capabilities=("completion",), server_capabilities_source="server")
    assert served.capabilities == ("completion",) and served.capabilities_source == "server"
    mine = served.with_changes(capabilities_user=("+vision",))
    assert mine.capabilities == ("completion", "vision") and mine.capabilities_source == "user"
    shown = mine.to_json()
    assert shown["capabilities"] == ["completion", "vision"]
    assert shown["capabilities_source"] == "user" and shown["capabilities_user"] == ["+vision"]


def test_the_hash_round_trips_and_hostile_fields_never_raise():
    kept = entry(server_capabilities=("completion", "vision"), server_capabilities_source="server",
                 capabilities_digest="sha256:ab", capabilities_user=("-tools",))
    back = ModelConfig.from_hash(kept.to_hash(), kept.model_id)
    assert (back.capabilities, back.capabilities_source, back.capabilities_digest) == (
        ("completion", "vision"), "user", "sha256:ab") and not back.corrupt
    hostile = {**entry().to_hash(), "capabilities": "\x1b[31m,,vision,\xff" * 50,
               "capabilities_source": "lies", "capabilities_user": "vision,+ok,-\x00"}
    decoded = ModelConfig.from_hash(hostile, "model_0000000a")
    assert decoded.server_capabilities is None  # an unknown source: never trusted
    assert decoded.capabilities_user == ("+ok",) and not decoded.corrupt
    assert "capabilities" not in entry().to_hash()  # an entry nobody asked about: the old hash


def test_compact_column():
    assert caps.compact(None) == "?"
    assert caps.compact(("tools", "completion", "vision")) == "CTV"
    assert caps.compact(()) == "-" and caps.compact(("completion", "audio")) == "C+1"


def test_having_filters_and_refuses_a_bad_name():
    a = entry(server_capabilities=("completion", "vision"), server_capabilities_source="server")
    b = entry(model_id="model_0000000b", server_capabilities=("completion",),
              server_capabilities_source="server")
    assert caps.having([a, b], "Vision") == [a]
    with pytest.raises(InvalidInput):
        caps.having([a], "not a name")


# --- the checker: read once per digest, written onto the entry -------------------------------


def shows(server) -> int:
    return len([r for r in server.requests if r.path == "/api/show"])


def test_capabilities_are_read_once_per_digest_across_processes(ollama_server, real_redis,
                                                                 key_prefix):
    ollama_server.add_model("llava", ("completion", "vision"))
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    added = registry.add_model("general", ollama_server.url, "llava")
    first = AvailabilityChecker(registry)
    first.check(added)
    assert first.capabilities(added) == ("completion", "vision")
    assert first.shown(added).capabilities == ("completion", "vision")  # cached, not asked
    stored = registry.get_model(added.model_id)
    assert stored.capabilities_source == "server"
    assert stored.capabilities_digest == ollama_server.digests["llava:latest"]
    assert shows(ollama_server) == 1
    second = AvailabilityChecker(registry)  # another process: the entry's answer serves it
    second.check(stored)
    assert second.capabilities(stored) == ("completion", "vision") and shows(ollama_server) == 1
    ollama_server.add_model("llava", ("completion", "vision", "tools"), digest="sha256:new")
    third = AvailabilityChecker(registry)
    third.check(stored, force=True)  # the host now reports another digest: read again
    assert third.capabilities(stored) == ("completion", "vision", "tools")
    assert shows(ollama_server) == 2
    assert registry.get_model(added.model_id).capabilities_digest == "sha256:new"


def test_an_old_server_is_guessed_and_the_override_wins(ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llava", capabilities=None)  # no `capabilities` on /api/show
    ollama_server.show_info = {"clip.vision.image_size": 336}
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    added = registry.add_model("general", ollama_server.url, "llava")
    checker = AvailabilityChecker(registry)
    assert checker.capabilities(added) == ("completion", "vision")
    assert registry.get_model(added.model_id).capabilities_source == "guessed"
    assert not checker.supports_tools(added)
    registry.update_capabilities(added.model_id, {"capabilities_user": "+tools,-vision"})
    mine = registry.get_model(added.model_id)
    assert checker.capabilities(mine) == ("completion", "tools") and checker.supports_tools(mine)
    assert mine.capabilities_source == "user"

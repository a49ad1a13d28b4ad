"""Routing by requirement as pure decisions (router/requirements.py): availability and
capabilities given as tables; every rule of "never silently switch a model the user named"."""

from datetime import datetime, timezone

from registry.availability import ProbeResult
from registry.config import FallbackModel
from registry.model import ModelConfig
from router.chain import Snapshot, request_key
from router.requirements import choose_capable

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
TINY = FallbackModel("http://127.0.0.1:11434", "tinyllama", 60, ())


def model(model_id, name, model_type="general", active=False, caps=("completion",), port=1):
    return ModelConfig(model_id, model_type, f"http://127.0.0.1:{port}", name, 30, active, T0,
                       server_capabilities=caps, server_capabilities_source="server")


TEXT = model("model_0000000a", "llama3.1:8b", active=True, caps=("completion", "tools"), port=1)
EYES = model("model_0000000b", "llava:13b", caps=("completion", "vision"), port=2)
CODER_EYES = model("model_0000000c", "qwen2.5vl", "coder", active=True,
                   caps=("completion", "vision", "tools"), port=3)


def up(*names):
    return lambda m: ProbeResult(getattr(m, "model_id", None), m.model_name in names,
                                 None if m.model_name in names else "refused", 1)


def has(m, capability):
    return isinstance(m, ModelConfig) and capability in (m.capabilities or ())


def route(models, needs=("vision",), available=None, requested=None, request_type="general"):
    snapshot = Snapshot(tuple(models), TINY, requested=requested)
    names = [m.model_name for m in models] + ["tinyllama"] if available is None else available
    return choose_capable(request_type, snapshot, up(*names), has, needs)


def test_no_need_is_the_plain_chain():
    assert route([TEXT, EYES], needs=()).model.model_id == TEXT.model_id


def test_the_active_model_serves_when_capable():
    active_eyes = EYES.with_changes(is_active=True)
    chosen = route([TEXT.with_changes(is_active=False), active_eyes])
    assert chosen.model.model_id == EYES.model_id and chosen.via == "active"
    assert chosen.notice is None


def test_a_capable_model_of_the_type_takes_over_with_one_notice():
    chosen = route([TEXT, EYES, CODER_EYES])
    assert chosen.model.model_id == EYES.model_id and chosen.via == "other"
    assert chosen.notice == ("ℹ Using llava:13b @ 127.0.0.1:2 (model_0000000b) for the image: "
                             "llama3.1:8b cannot see images.")


def test_a_capable_model_of_another_type_when_the_type_has_none():
    chosen = route([TEXT, CODER_EYES])
    assert chosen.model.model_id == CODER_EYES.model_id and chosen.request_type == "general"
    assert "qwen2.5vl @ 127.0.0.1:3" in chosen.notice and "cannot see images" in chosen.notice


def test_a_model_named_with_m_that_lacks_it_is_refused_naming_the_capable_ones():
    chosen = route([TEXT, EYES], requested=request_key(TEXT.model_id))
    assert not chosen.available
    assert "llama3.1:8b @ 127.0.0.1:1 (model_0000000a) cannot see images" in chosen.notice
    assert "llava:13b @ 127.0.0.1:2 (model_0000000b)" in chosen.notice
    assert "-m llava:13b" in chosen.notice


def test_a_named_capable_model_is_used():
    chosen = route([TEXT, EYES], requested=request_key(EYES.model_id))
    assert chosen.model.model_id == EYES.model_id and chosen.via == "requested"


def test_none_capable_is_refused_with_a_pull_hint_and_tinyllama_never_sees_an_image():
    chosen = route([TEXT])
    assert not chosen.available and chosen.model is None
    assert "ollama pull llava" in chosen.notice and "vision" in chosen.notice
    assert route([], available=["tinyllama"]).model is None


def test_capable_but_down_says_which_and_why():
    chosen = route([TEXT, EYES], available=["llama3.1:8b", "tinyllama"])
    assert not chosen.available
    assert "No model with vision is reachable" in chosen.notice and "refused" in chosen.notice


def test_thinking_and_tools_are_needs_too():
    thinker = model("model_0000000d", "qwen3", caps=("completion", "thinking"), port=4)
    chosen = route([TEXT, thinker], needs=("thinking",))
    assert chosen.model.model_id == thinker.model_id and "cannot think" in chosen.notice
    assert route([TEXT, thinker], needs=("tools",)).model.model_id == TEXT.model_id


def test_unknown_capabilities_never_count_as_capable():
    unknown = EYES.with_changes(server_capabilities=None, server_capabilities_source=None)
    assert not route([TEXT, unknown]).available

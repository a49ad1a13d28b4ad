"""The fallback chain as pure decisions: every branch, with availability given as a table."""

from datetime import datetime, timezone

import pytest

from registry.availability import ProbeResult
from registry.config import FallbackModel
from router.errors import NO_MODEL_WARNINGS
from registry.model import ModelConfig
from router.chain import Snapshot, choose, describe
from router.features import features_from_routes

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def model(model_id, model_type="general", active=False, name=None, minute=0):
    return ModelConfig(
        model_id=model_id, model_type=model_type, url=f"http://127.0.0.1:1{minute:04d}",
        model_name=name or model_id, timeout=30, is_active=active,
        added_at=T0.replace(minute=minute),
    )


TINY = FallbackModel("http://127.0.0.1:11434", "tinyllama", 60, ("code",))
TINY_ALL = FallbackModel("http://127.0.0.1:11434", "tinyllama", 60, ())


def availability(*available_names):
    """Availability as a table: the names listed are up, everything else is refused."""
    asked = []

    def check(m):
        asked.append(m.model_name)
        up = m.model_name in available_names
        return ProbeResult(getattr(m, "model_id", None), up, None if up else "refused", 1)

    check.asked = asked
    return check


def route(request_type, models, up, fallback=TINY, **snapshot):
    return choose(request_type, Snapshot(tuple(models), fallback, **snapshot), availability(*up))


G1 = model("model_0000000a", active=True, name="g1", minute=1)
G2 = model("model_0000000b", name="g2", minute=2)
G3 = model("model_0000000c", name="g3", minute=3)
C1 = model("model_0000001a", "coder", active=True, name="c1", minute=4)
C2 = model("model_0000001b", "coder", name="c2", minute=5)


# --- general -------------------------------------------------------------------------------


def test_general_active_available():
    r = route("general", [G1, G2], {"g1", "g2"})
    assert (r.model.model_id, r.via, r.notice) == (G1.model_id, "active", None)


def test_general_active_down_uses_another_available_one():
    r = route("general", [G1, G2, G3], {"g3", "tinyllama"})
    assert (r.model.model_name, r.via) == ("g3", "other")
    assert "g3" in r.notice and "g1" in r.notice and "unavailable (refused)" in r.notice
    assert "\n" not in r.notice


def test_general_no_active_model_uses_another():
    r = route("general", [G2], {"g2"})
    assert (r.model.model_name, r.via) == ("g2", "other")
    assert "no general model is active" in r.notice


def test_general_prefers_others_last_seen_available():
    seen_up = G3.with_changes(is_available=True)
    check = availability("g2", "g3")
    r = choose("general", Snapshot((G1, G2, seen_up), TINY), check)
    assert r.model.model_name == "g3"
    assert check.asked == ["g1", "g3"]


def test_general_falls_back_to_tinyllama():
    r = route("general", [G1, G2], {"tinyllama"})
    assert (r.model, r.via) == (TINY, "fallback")
    assert "tinyllama" in r.notice and "g1" in r.notice


def test_general_nothing_configured_uses_the_fallback():
    r = route("general", [], {"tinyllama"})
    assert r.via == "fallback" and "no general model is configured" in r.notice


def test_general_none_when_even_the_fallback_is_down():
    r = route("general", [G1], set())
    assert (r.model, r.via) == (None, "none")
    assert not r.available
    # configured but unreachable: which model, why, and what to do (not "add one")
    assert r.notice.startswith("⚠ No general model is reachable. g1 @ ")
    assert "(model_0000000a): " in r.notice and "run '/model check'" in r.notice
    assert "Start the Ollama server" in r.notice and "\n" not in r.notice


def test_none_names_every_unreachable_model_up_to_three():
    r = route("general", [G1, G2, G3], set())
    assert all(f"g{i} @ " in r.notice for i in (1, 2, 3))
    assert "Start the Ollama server for them" in r.notice


def test_fallback_up_but_turned_off_in_config_says_so():
    r = route("coder", [], {"tinyllama"})
    assert (r.model, r.via) == (None, "none")
    assert r.notice.startswith(NO_MODEL_WARNINGS["coder"])
    assert "code is turned off for it in config.yaml (tinyollama.disabled_features)" in r.notice


def test_none_with_nothing_configured_is_the_seed_warning_alone():
    r = route("general", [], set())
    assert (r.model, r.via, r.notice) == (None, "none", NO_MODEL_WARNINGS["general"])


def test_general_none_when_chat_is_disabled_on_the_fallback():
    no_chat = FallbackModel("http://127.0.0.1:11434", "tinyllama", 60, ("chat",))
    assert route("general", [], {"tinyllama"}, fallback=no_chat).via == "none"


def test_probes_stop_at_the_first_usable_model():
    check = availability("g1", "g2", "tinyllama")
    choose("general", Snapshot((G1, G2), TINY), check)
    assert check.asked == ["g1"]


def test_registry_down_routes_on_the_fallback_only():
    r = route("general", [], {"tinyllama"}, registry_problem="Redis at x is unreachable")
    assert r.via == "fallback" and "registry is unavailable (Redis at x" in r.notice


def test_pinned_model_wins_over_the_active_one():
    r = route("general", [G1, G2], {"g1", "g2"}, pinned={"general": G2.model_id})
    assert (r.model.model_name, r.via, r.notice) == ("g2", "active", None)


def test_pinned_model_down_moves_down_the_chain():
    r = route("general", [G1, G2], {"g1"}, pinned={"general": G2.model_id})
    assert (r.model.model_name, r.via) == ("g1", "other")
    assert "g2" in r.notice


# --- coder ---------------------------------------------------------------------------------


def test_coder_active_available():
    r = route("coder", [G1, C1], {"g1", "c1"})
    assert (r.model.model_name, r.via, r.notice) == ("c1", "active", None)


def test_coder_other_available():
    r = route("coder", [G1, C1, C2], {"g1", "c2"})
    assert (r.model.model_name, r.via) == ("c2", "other")
    assert "coder model c1" in r.notice


def test_coder_uses_the_general_route():
    r = route("coder", [G1, C1], {"g1", "tinyllama"})
    assert (r.model.model_name, r.via) == ("g1", "general")
    assert r.notice.startswith("ℹ Using general model g1") and "for code" in r.notice


def test_coder_general_route_can_be_another_general_model():
    r = route("coder", [G1, G2], {"g2"})
    assert (r.model.model_name, r.via) == ("g2", "general")
    assert "no coder model is configured" in r.notice


def test_coder_skips_tinyllama_when_code_is_disabled():
    r = route("coder", [G1, C1], {"tinyllama"})
    assert (r.model, r.via) == (None, "none")
    assert r.notice.startswith("⚠ No coder model is reachable. c1 @ ")


def test_coder_uses_tinyllama_when_code_is_not_disabled():
    r = route("coder", [C1], {"tinyllama"}, fallback=TINY_ALL)
    assert (r.model, r.via) == (TINY_ALL, "fallback")
    assert "coder model c1" in r.notice


def test_coder_none_when_nothing_is_up():
    assert route("coder", [G1, C1], set(), fallback=TINY_ALL).via == "none"


@pytest.mark.parametrize("request_type", ["general", "coder"])
def test_route_json(request_type):
    r = route(request_type, [G1], {"g1"})
    data = r.to_json()
    assert set(data) == {"model", "via", "notice"}
    assert data["model"]["model_id"] == G1.model_id and data["model"]["is_available"] is True
    none = route(request_type, [], set()).to_json()
    assert none == {"model": None, "via": "none", "notice": NO_MODEL_WARNINGS[request_type]}


# --- each model probed at most once per request ------------------------------------------------
#
# Counted through the injected probe. A general request must never walk the general chain a
# second time (that step belongs to coder requests only); every extra probe of a down host costs
# the user a probe timeout. The walk is checked up to the fallback: the "nothing reachable"
# warning then reads each model's reason again, which the real checker answers from its cache.


def test_a_general_request_with_nothing_up_probes_each_model_once():
    check = availability()
    route = choose("general", Snapshot((G1, G2), TINY_ALL), check)
    assert route.via == "none"
    assert check.asked[:3] == ["g1", "g2", "tinyllama"]


def test_a_general_request_reaching_the_fallback_probes_each_general_model_once():
    check = availability("tinyllama")
    route = choose("general", Snapshot((G1, G2), TINY), check)
    assert route.via == "fallback"
    assert check.asked == ["g1", "g2", "tinyllama"]


def test_a_coder_request_with_nothing_up_walks_coder_then_general_once_each():
    check = availability()
    route = choose("coder", Snapshot((G1, G2, C1, C2), TINY_ALL), check)
    assert route.via == "none"
    assert check.asked[:5] == ["c1", "c2", "g1", "g2", "tinyllama"]


# --- what a route says about itself ------------------------------------------------------------


@pytest.mark.parametrize(
    "request_type, models, up, via",
    [
        ("general", (G1,), {"g1"}, "active"),
        ("general", (G1, G2), {"g2"}, "other"),
        ("general", (G1,), {"tinyllama"}, "fallback"),
        ("general", (G1,), set(), "none"),
        ("coder", (C1, C2), {"c2"}, "other"),
        ("coder", (G1, C1), {"g1"}, "general"),
    ],
)
def test_every_route_names_the_request_type_it_serves(request_type, models, up, via):
    route = choose(request_type, Snapshot(models, TINY), availability(*up))
    assert (route.request_type, route.via) == (request_type, via)


def test_the_fallback_is_described_without_an_id():
    assert describe(TINY) == "tinyllama @ 127.0.0.1:11434"
    assert describe(G1) == "g1 @ 127.0.0.1:10001 (model_0000000a)"


# --- features ------------------------------------------------------------------------------


def test_features_all_on():
    general = route("general", [G1, C1], {"g1", "c1"})
    coder = route("coder", [G1, C1], {"g1", "c1"})
    f = features_from_routes(general, coder, coder_tools=True)
    assert f.to_json() == {"chat": True, "code": True, "code_tools": True}
    assert f.reasons == {}


def test_features_code_without_tools_says_plain_text():
    general = route("general", [G1], {"g1"})
    coder = route("coder", [G1], {"g1"})
    f = features_from_routes(general, coder, coder_tools=False)
    assert (f.chat, f.code, f.code_tools) == (True, True, False)
    assert "plain-text edits" in f.reasons["code_tools"]


def test_features_off_carry_the_warnings():
    general = route("general", [], set())
    coder = route("coder", [], set())
    f = features_from_routes(general, coder, coder_tools=False)
    assert f.to_json() == {"chat": False, "code": False, "code_tools": False}
    assert f.reasons["chat"] == NO_MODEL_WARNINGS["general"]
    assert f.reasons["code"] == NO_MODEL_WARNINGS["coder"]

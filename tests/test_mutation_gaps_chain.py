"""The chain probes each model at most once per request: counted through its injected probe.

A general request must never walk the general chain a second time (that step belongs to coder
requests only); every extra probe of a down host costs the user a probe timeout. The walk is
checked up to the fallback: the "nothing reachable" warning then reads each model's reason
again, which the real checker answers from its cache.
"""

from __future__ import annotations

import pytest

from router.chain import Snapshot, choose, describe
from test_router_chain import C1, C2, G1, G2, TINY, TINY_ALL, availability


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

"""Herding in bursts: picks made in the same milliseconds (by several processes) read the same
in-flight counts. The lease taken right after a pick counts what really is in flight; when it
shows others picked the same host since, the request is scored again with the real counts and
moves to a host now clearly sooner (router/balance.py `crowded`, `reconsider`; router/fleet.py
`Balancer.recheck`). Pure decisions first, then the balancer over a real Redis (no HTTP: the
/api/ps reader is told nothing)."""

from __future__ import annotations

import random

from registry.fleet_state import FleetState
from router.balance import Candidate, crowded, reconsider
from router.fleet import Balancer

NOW = 1_000_000.0


def host(key, ttft=300.0, **kw) -> Candidate:
    return Candidate(key, ttft_ms=ttft, weight=5.0, sampled_at=NOW - 1, **kw)


def test_a_lease_is_crowded_when_others_picked_the_host_since_the_pick():
    assert not crowded(1, 0, 2)  # this request alone: what the pick saw
    assert crowded(2, 0, 2)  # one more than the pick saw, though the host has two slots
    assert not crowded(3, 2, 2)  # the pick saw both already: nothing new
    assert crowded(3, None, 2) and not crowded(2, None, 2)  # pick unknown: over the slots


def test_a_burst_split_seven_three_moves_and_six_four_stays():
    # `ours` counts this request; the other host is read as it is now
    assert reconsider(host("a", in_flight=7, parallel=2), [host("b", in_flight=3, parallel=2)],
                      NOW).key == "b"
    assert reconsider(host("a", in_flight=6, parallel=2), [host("b", in_flight=4, parallel=2)],
                      NOW) is None  # 6/4: within one of the ideal share, not clearly sooner


def test_a_request_never_moves_to_a_slower_cooling_or_unloaded_host():
    ours = host("a", in_flight=2, parallel=2)  # 600 ms
    assert reconsider(ours, [host("c", 1500)], NOW) is None
    assert reconsider(ours, [host("b", cooling_until=NOW + 5)], NOW) is None
    assert reconsider(ours, [host("b", loaded=False, load_ms=3000)], NOW) is None


def test_the_balancer_moves_a_request_whose_host_was_picked_by_another_meanwhile(real_registry):
    entries = [real_registry.add_model("general", f"http://127.0.0.1:{port}", "llama3.1:8b",
                                       set_active=port == 9, parallel=2) for port in (9, 10)]
    state = FleetState(real_registry, fetch_ps=lambda url: None)
    balancer = Balancer(real_registry, rng=random.Random(3), state=state)
    for entry in entries:
        state.store_ttft(entry.model_id, 300.0, 5.0, state.clock())
    first = balancer.order(entries)[0]
    chosen = next(e for e in entries if e.model_id == first)
    other = next(e for e in entries if e.model_id != first)
    state.take(chosen.model_id, 60)  # another process picked the same host at the same moment
    mine = state.take(chosen.model_id, 60)
    assert mine.count == 2  # within the host's two slots: the old rule never looked again
    assert balancer.recheck(chosen, mine, entries).model_id == other.model_id
    # a thread that picked nothing just now keeps the old rule: over the slots only
    fresh = Balancer(real_registry, rng=random.Random(3), state=state)
    assert fresh.recheck(chosen, mine, entries) is None


def test_a_crowd_that_picked_the_same_host_splits_instead_of_herding_again():
    """Eight requests picked a (the pick saw it idle), b has its own two: each of the eight
    finds its place in the crowd from its lease and reads b at the same moment. Comparing its
    own count only, places 4 to 8 would all move (b: 7); replaying the crowd, two do (6/4)."""
    def place(k):
        moved = reconsider(host("a", in_flight=k, parallel=2), [host("b", in_flight=2, parallel=2)],
                           NOW, seen=0)
        return "a" if moved is None else moved.key

    places = [place(k) for k in range(1, 9)]
    assert places.count("b") == 2 and places.count("a") == 6

"""Pick and lease in one step: the lease script (registry/fleet_state.py `take_soonest`) counts
every host's leases at the moment it runs and leases the pick unless another host is clearly
sooner, so picks made on the same stale counts (a burst from several processes) are placed
one after the other. Real Redis; no HTTP (the /api/ps reader is told nothing)."""

from __future__ import annotations

import random
from collections import Counter

from registry.fleet_state import FleetState
from router.balance import NEAR, Candidate, lease_terms
from router.fleet import Balancer

NAME = "llama3.1:8b"
NOW = 1_000_000.0


def test_lease_terms_are_the_score_without_the_in_flight_count():
    fresh = Candidate("a", ttft_ms=300.0, sampled_at=NOW - 1, parallel=2, answer_ms=900.0)
    new = Candidate("b", loaded=False, load_ms=3000.0)
    cooling = Candidate("c", ttft_ms=200.0, sampled_at=NOW - 1, cooling_until=NOW + 5)
    assert lease_terms([fresh, new, cooling], NOW) == [
        (300.0, 900.0, 2, 0.0, True), (200.0, 200.0, 1, 3000.0, True),
        (200.0, 200.0, 1, 0.0, False)]


def test_the_script_leases_the_pick_unless_another_host_is_clearly_sooner(real_registry):
    state = FleetState(real_registry, fetch_ps=lambda url: None)
    ids = ["model_0000aaaa", "model_0000bbbb"]
    equal = [(300.0, 300.0, 1, 0.0, True), (300.0, 300.0, 1, 0.0, True)]
    placed = [state.take_soonest(ids, equal, 60, NEAR) for _ in range(4)]
    assert [(index, lease.count) for index, lease in placed] == [(0, 1), (1, 1), (0, 2), (1, 2)]
    assert placed[1][1].model_id == ids[1]
    unusable = [(300.0, 300.0, 1, 0.0, True), (100.0, 100.0, 1, 0.0, False)]
    assert state.take_soonest(ids, unusable, 60, NEAR)[0] == 0  # never a cooling host


def test_the_script_prices_the_queue_by_the_answer_time_as_the_score_does(real_registry):
    """a answers its first token fast but holds its one slot 3 s; with one request there, b
    (1 s, idle) is sooner: the lease goes to b, as router/balance.py's score says."""
    from router.balance import score

    state = FleetState(real_registry, fetch_ps=lambda url: None)
    ids = ["model_0000aaaa", "model_0000bbbb"]
    state.take(ids[0], 60)
    a = Candidate(ids[0], ttft_ms=300.0, sampled_at=NOW - 1, answer_ms=3000.0, in_flight=1)
    b = Candidate(ids[1], ttft_ms=1000.0, sampled_at=NOW - 1)
    assert score(b, now=NOW) * NEAR < score(a, now=NOW)
    index, lease = state.take_soonest(ids, lease_terms([a, b], NOW), 60, NEAR)
    assert (index, lease.model_id) == (1, ids[1])


def test_picks_made_on_the_same_counts_split_instead_of_herding(real_registry):
    entries = [real_registry.add_model("general", f"http://127.0.0.1:{port}", NAME,
                                       set_active=port == 9, parallel=2) for port in (9, 10)]
    state = FleetState(real_registry, fetch_ps=lambda url: None)
    for entry in entries:
        state.store_ttft(entry.model_id, 300.0, 5.0, state.clock())
    balancers = [Balancer(real_registry, rng=random.Random(1), state=state) for _ in range(6)]
    by_id = {e.model_id: e for e in entries}
    picks = [b.order(entries)[0] for b in balancers]  # six processes read the same counts
    leased = Counter()
    for balancer, first in zip(balancers, picks):
        entry, lease = balancer.take_soonest(by_id[first])
        leased[entry.model_id] += 1
    assert sorted(leased.values()) == [3, 3]


def test_the_lease_keeps_what_the_pick_chose_on_purpose():
    from router.balance import margin

    fast = Candidate("a", ttft_ms=300.0, sampled_at=NOW - 1)
    explored = Candidate("c", ttft_ms=800.0, sampled_at=NOW - 60)  # no recent sample
    assert margin([fast, explored], NOW) == NEAR  # an ordinary pick: moved only if clearly sooner
    assert abs(margin([explored, fast], NOW) - NEAR * 800 / 300) < 1e-9  # exploration stands
    idle = Candidate("b", ttft_ms=300.0, sampled_at=NOW - 1, cooling_until=NOW + 5)
    assert margin([fast, idle], NOW) == NEAR  # no usable other: nothing to compare

"""The host choice between replicas (router/balance.py), pure: scores, spread, stickiness,
exploration, cooldowns. A seeded RNG makes every pick repeatable; no clock, no Redis."""

from __future__ import annotations

import random
from collections import Counter

from router.balance import (
    COOL_FIRST,
    COOL_MOST,
    LOAD_MS,
    Candidate,
    current_weight,
    decayed,
    may_cool,
    next_cooldown,
    pick,
    score,
)

NOW = 1_000_000.0


def host(key, ttft=300.0, weight=5.0, sampled_at=NOW - 1, **kw) -> Candidate:
    return Candidate(key, ttft_ms=ttft, weight=weight, sampled_at=sampled_at, **kw)


def firsts(candidates, n=1000, seed=7, previous=None) -> Counter:
    rng = random.Random(seed)
    return Counter(pick(candidates, NOW, rng, previous)[0].key for _ in range(n))


def test_score_is_warm_ttft_times_queue_plus_load_when_not_loaded():
    assert score(host("a", 300)) == 300
    assert score(host("a", 300, in_flight=2, parallel=1)) == 900
    assert score(host("a", 300, in_flight=2, parallel=4)) == 450
    assert score(host("a", 300, loaded=False)) == 300 + LOAD_MS
    assert score(host("a", 300, loaded=True)) == 300


def test_equal_hosts_share_the_load_and_a_slow_one_gets_almost_nothing():
    counts = firsts([host("a"), host("b"), host("c", ttft=1500)])
    assert counts["a"] > 400 and counts["b"] > 400
    assert counts["c"] == 0


def test_in_flight_counted_at_pick_moves_the_next_request_elsewhere():
    # a is faster but already has a request on its one slot: b is predicted sooner
    order = pick([host("a", 300, in_flight=1), host("b", 400)], NOW, random.Random(1))
    assert order[0].key == "b"
    # with four slots the same request on a costs little: a again (or b, both near)
    counts = firsts([host("a", 300, in_flight=1, parallel=4), host("b", 400)])
    assert counts["a"] > counts["b"]


def test_a_recently_sampled_slow_host_gets_nothing():
    counts = firsts([host("a", 300), host("b", 3000, sampled_at=NOW - 29)])
    assert counts == {"a": 1000}


def test_a_clear_winner_takes_every_request():
    counts = firsts([host("a", 300), host("b", 300, loaded=False), host("c", 300, loaded=False)])
    assert counts == {"a": 1000}


def test_a_host_with_no_recent_sample_gets_a_small_exploration_share():
    # b was slower a minute ago (no sample since: it was never picked); a is fast now
    counts = firsts([host("a", 300), host("b", 800, weight=0.25, sampled_at=NOW - 60)])
    assert 30 < counts["b"] < 200  # about EXPLORE of the picks, never most of them


def test_a_never_sampled_host_is_scored_like_the_best():
    assert score(Candidate("new"), 300) == 300
    new = Candidate("new", loaded=True)  # its /api/ps lists the model (unknown: see queue_price)
    counts = firsts([host("a", 300), host("b", 1500), new])
    assert 30 < counts["new"] < 200 and counts["b"] == 0  # explored (a known host wins ties)
    busy = firsts([host("a", 300, in_flight=2), new])
    assert busy == {"new": 1000}  # clearly the soonest: it takes the request


def test_a_session_stays_on_its_host_within_one_and_a_half_times_the_best():
    fleet = [host("a", 300), host("b", 420)]
    assert firsts(fleet, previous="b") == {"b": 1000}
    slower = [host("a", 300), host("b", 460)]
    assert firsts(slower, previous="b")["b"] < 1000  # 1.53× the best: free to move


def test_cooling_and_busy_hosts_are_left_out_unless_none_is_left():
    fleet = [host("a", cooling_until=NOW + 5), host("b", busy_until=NOW + 1), host("c", 900)]
    assert firsts(fleet) == {"c": 1000}
    order = pick([host("a", cooling_until=NOW + 50), host("b", busy_until=NOW + 1)], NOW)
    assert [c.key for c in order] == ["b", "a"]  # the one free soonest first
    expired = pick([host("a", cooling_until=NOW - 1)], NOW)
    assert expired[0].key == "a"


def test_every_candidate_is_in_the_order_once():
    fleet = [host("a"), host("b", cooling_until=NOW + 5), host("c", 700)]
    order = [c.key for c in pick(fleet, NOW, random.Random(3))]
    assert sorted(order) == ["a", "b", "c"] and order[-1] == "b"
    assert pick([], NOW) == []


def test_same_seed_same_choices():
    fleet = [host("a"), host("b"), host("c", 310)]
    assert firsts(fleet, seed=11) == firsts(fleet, seed=11)


def test_decayed_average_forgets_old_samples():
    avg, weight = decayed(None, 0.0, None, 300, NOW)
    assert (avg, weight) == (300, 1.0)
    avg, weight = decayed(avg, weight, NOW, 500, NOW)
    assert avg == 400 and weight == 2.0
    # ten minutes later one slow sample outweighs the two old fast ones
    late, _ = decayed(avg, weight, NOW, 1500, NOW + 600)
    assert late > 1490
    assert current_weight(2.0, NOW, NOW + 30) == 1.0


def test_cooldown_doubles_from_five_seconds_to_five_minutes():
    steps, cool = [], 0.0
    for _ in range(8):
        cool = next_cooldown(cool)
        steps.append(cool)
    assert steps[:3] == [COOL_FIRST, 2 * COOL_FIRST, 4 * COOL_FIRST]
    assert steps[-1] == COOL_MOST and max(steps) == COOL_MOST


def test_the_last_candidate_is_never_cooled_down():
    fleet = [host("a"), host("b", cooling_until=NOW + 30)]
    assert not may_cool("a", fleet, NOW)
    assert may_cool("b", fleet, NOW)
    assert may_cool("a", [host("a"), host("b")], NOW)
    assert not may_cool("a", [host("a")], NOW)

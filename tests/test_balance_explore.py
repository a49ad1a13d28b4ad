"""Exploration between replicas (router/balance.py), pure: a host with no recent sample gets a
small share only where that share costs little — never a model load, never a host predicted
far slower while the others are free, never a host already being explored (a request in flight
there) — and a sample too old to mean anything is forgotten.
A seeded RNG makes every pick repeatable; no clock, no Redis."""

from __future__ import annotations

import random
from collections import Counter

from router.balance import FORGET_S, Candidate, pick, score

NOW = 1_000_000.0


def host(key, ttft=300.0, sampled_at=NOW - 1, **kw) -> Candidate:
    return Candidate(key, ttft_ms=ttft, weight=5.0, sampled_at=sampled_at, **kw)


def firsts(candidates, n=1000, seed=7) -> Counter:
    rng = random.Random(seed)
    return Counter(pick(candidates, NOW, rng)[0].key for _ in range(n))


def test_hosts_that_would_pay_a_load_are_not_explored_while_the_loaded_one_is_free():
    # the model loaded on b only; a and c never answered (no sample) and do not have it
    fleet = [host("b"), Candidate("a", loaded=False, load_ms=3000),
             Candidate("c", loaded=False, load_ms=6000)]
    assert firsts(fleet) == {"b": 1000}


def test_a_load_elsewhere_only_once_the_loaded_hosts_queue_costs_more():
    queued = [host("b", in_flight=4, parallel=2), Candidate("a", loaded=False, load_ms=3000)]
    assert firsts(queued) == {"b": 1000}  # b: 900 ms, a: 300 + 3000 ms
    long_queue = [host("b", in_flight=30, parallel=2), Candidate("a", loaded=False, load_ms=3000)]
    assert firsts(long_queue) == {"a": 1000}  # b: 4800 ms: the load is now cheaper


def test_a_host_with_unknown_load_state_may_still_be_explored():
    counts = firsts([host("a"), host("b", 600, sampled_at=NOW - 60)])
    assert 30 < counts["b"] < 200


def test_a_stale_host_five_times_slower_is_not_explored_while_the_others_are_free():
    fleet = [host("a"), host("b"), host("c", 1500, sampled_at=NOW - 60)]
    assert firsts(fleet)["c"] == 0
    full = [host("a", in_flight=2, parallel=2), host("b", in_flight=2, parallel=2),
            host("c", 1500, sampled_at=NOW - 60)]
    assert 30 < firsts(full)["c"] < 200  # no free slot elsewhere: worth a look again


def test_a_sample_older_than_the_forget_time_counts_no_more():
    old = host("c", 3000, sampled_at=NOW - FORGET_S - 1, loaded=True)
    assert score(old, 300, NOW) == 300  # judged like a host never sampled
    assert score(old, 300) == 3000  # without a clock: as stored
    counts = firsts([host("a"), old])
    assert 30 < counts["c"] < 200  # explored again, not ruled out for ever


def test_at_equal_predicted_cost_a_host_seen_lately_beats_an_unknown_one():
    counts = firsts([host("a"), Candidate("new", loaded=True)])  # its /api/ps lists the model
    assert counts["a"] > 800 and counts["new"] > 30


def test_a_host_with_an_exploring_request_in_flight_is_not_explored_again():
    stale = dict(ttft=1500, sampled_at=NOW - 60)
    busy = [host("a", in_flight=2, parallel=2), host("b", in_flight=2, parallel=2)]
    assert 30 < firsts([*busy, host("c", **stale)])["c"] < 200  # worth a look
    assert firsts([*busy, host("c", in_flight=1, **stale)])["c"] == 0  # being looked at

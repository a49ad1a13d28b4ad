"""The queue at a host is priced by how long each request ahead holds its slot (a whole answer),
not by one first token: a host deep in long answers loses to one that must load the model first.
Pure: router/balance.py."""

from __future__ import annotations

import random

from router.balance import Candidate, pick, score

NOW = 1_000_000.0


def host(key, in_flight=0, answer_ms=None, loaded=True, load_ms=3000.0):
    return Candidate(key, ttft_ms=300.0, weight=5.0, sampled_at=NOW - 1, in_flight=in_flight,
                     parallel=1, loaded=loaded, load_ms=load_ms, answer_ms=answer_ms)


def test_requests_ahead_cost_their_whole_answer():
    assert score(host("b", in_flight=2, answer_ms=4000.0), now=NOW) == 300 + 2 * 4000
    assert score(host("b", in_flight=2), now=NOW) == 300 * 3  # not measured yet: the TTFT


def test_a_deep_queue_of_long_answers_loses_to_a_load_elsewhere():
    busy_b = host("b", in_flight=3, answer_ms=4000.0)  # 12 s of answers ahead
    cold_a = host("a", loaded=False, load_ms=3000.0)  # 3 s to load, then free
    assert pick([busy_b, cold_a], NOW, random.Random(1))[0].key == "a"
    short_b = host("b", in_flight=3, answer_ms=500.0)  # 1.5 s ahead: cheaper than the load
    assert pick([short_b, cold_a], NOW, random.Random(1))[0].key == "b"

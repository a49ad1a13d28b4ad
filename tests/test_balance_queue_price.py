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


def test_a_fresh_host_of_unknown_load_is_taken_as_cold_while_another_has_the_model():
    warm_b = host("b", in_flight=1, answer_ms=500.0)  # loaded there (its /api/ps says so)
    fresh_a = Candidate("a", parallel=1, loaded=None, load_ms=3000.0)  # never sampled, ps unknown
    picks = {pick([warm_b, fresh_a], NOW, random.Random(seed))[0].key for seed in range(50)}
    assert picks == {"b"}  # never a request that pays a load while b answers in 0.55 s
    nobody_known = [Candidate("a", parallel=1), Candidate("c", parallel=1)]
    assert {c.key for c in pick(nobody_known, NOW, random.Random(3))} == {"a", "c"}


def test_a_host_that_answered_lately_has_the_model_loaded():
    answered_b = Candidate("b", ttft_ms=300.0, weight=3.0, sampled_at=NOW - 2, in_flight=1,
                           parallel=1, loaded=None, answer_ms=500.0)  # its /api/ps not read yet
    fresh_a = Candidate("a", parallel=1, loaded=None, load_ms=3000.0)
    assert {pick([answered_b, fresh_a], NOW, random.Random(s))[0].key for s in range(50)} == {"b"}

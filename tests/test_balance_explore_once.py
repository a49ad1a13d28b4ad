"""Exploration (router/balance.py), pure: a host already being explored (a request in flight
there) is not explored again before that request's sample is in, so a burst does not send one
exploring request per pick to a slow host. Seeded RNG; no clock, no Redis."""

from __future__ import annotations

import random
from collections import Counter

from router.balance import Candidate, pick

NOW = 1_000_000.0


def host(key, ttft=300.0, sampled_at=NOW - 1, **kw) -> Candidate:
    return Candidate(key, ttft_ms=ttft, weight=5.0, sampled_at=sampled_at, **kw)


def firsts(candidates, n=1000, seed=7) -> Counter:
    rng = random.Random(seed)
    return Counter(pick(candidates, NOW, rng)[0].key for _ in range(n))


def test_a_host_with_an_exploring_request_in_flight_is_not_explored_again():
    stale = dict(ttft=1500, sampled_at=NOW - 60)
    busy = [host("a", in_flight=2, parallel=2), host("b", in_flight=2, parallel=2)]
    assert 30 < firsts([*busy, host("c", **stale)])["c"] < 200  # worth a look
    assert firsts([*busy, host("c", in_flight=1, **stale)])["c"] == 0  # being looked at

"""A damaged fleet key (another Redis type under a `fleet:` name) is that key's problem: the
other hosts' state is still read, balancing goes on, and requests are answered; only a Redis
that does not answer turns balancing off for a while. Real Redis, Ollama-protocol test servers
on 127.0.0.1, the real router and ChatOllama."""

from __future__ import annotations

import random

import pytest

from ollama_fixtures import ollama_servers  # noqa: F401
from router_helpers import ask, make_router

NAME = "llama3.1:8b"
HI = [("user", "hi")]


@pytest.fixture
def fleet(real_registry, ollama_servers):
    *servers, tiny = ollama_servers(4)
    for server in servers:
        server.add_model(NAME)
    tiny.add_model("tinyllama")
    entries = [real_registry.add_model("general", s.url, NAME, timeout=30,
                                       set_active=s is servers[0]) for s in servers]
    router = make_router(real_registry, tiny.url)
    router.balancer.rng = random.Random(2)
    assert all(r.is_available for r in router.checker.check_many(entries))
    return router, servers, entries


def damage(router, entries) -> None:
    state = router.balancer.state
    redis = router.registry.redis
    redis.set(state.leases_key(entries[0].model_id), "not a sorted set")
    redis.rpush(state.host_key(entries[1].model_id), "not a hash")
    redis.sadd(state.ps_key(entries[2].url), "not a string")
    redis.hset(state.balance_key("general"), "on", "1")


def test_damaged_fleet_keys_leave_the_other_hosts_balanced(fleet):
    router, servers, entries = fleet
    damage(router, entries)
    view = router.balancer.state.read(entries, "s1", "general")
    assert view is not None and set(view.hosts) == {e.model_id for e in entries}
    assert view.balance is None and view.loaded[entries[2].url] is not None  # read anew
    assert router.balancer.order(entries) != ()  # still balanced
    for _ in range(12):
        route, answer = ask(router, "general", HI)
        assert answer.content
    assert sum(1 for s in servers if s.chat_requests) >= 2  # spread, not "active host first"
    assert router.balancer.state.read(entries) is not None  # and no rest was taken

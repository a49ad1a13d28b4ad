"""Balancing between replicas through the real router: real Redis for the shared fleet state,
several Ollama-protocol test servers on 127.0.0.1 reached through the real ChatOllama.

Where requests go, in-flight counted when a host is picked, 503 busy (not a failure), 404
(re-reads /api/tags), 400 (not retried), cooldowns (doubling, never the last candidate), a
session's host, `balance off`, a pinned host, Redis down, and damaged fleet keys (another type
under a `fleet:` name: only that key's state is lost). No timed assertions: a request
held by the server stays in flight until the test lets it go.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
import redis

from invariants import fleet_problems
from ollama_fixtures import dead_url, ollama_servers  # noqa: F401
from registry.fleet_state import FleetState
from registry.manager import ModelRegistry
from router.chain import request_key
from router.errors import OllamaServerError
from router.fleet import Balancer
from router_helpers import ask, make_router

HI = [("user", "hi")]
NAME = "llama3.1:8b"
BOUND_S = 30.0  # generous bound of a poll


@pytest.fixture
def fleet(real_registry, ollama_servers):
    """NAME on hosts a (active), b and c, all up and probed; tinyllama for the fallback."""
    *servers, tiny = ollama_servers(4)
    for server in servers:
        server.add_model(NAME)
    tiny.add_model("tinyllama")
    entries = [real_registry.add_model("general", s.url, NAME, timeout=30,
                                       set_active=s is servers[0]) for s in servers]
    router = make_router(real_registry, tiny.url)
    router.balancer.rng = random.Random(4)
    assert all(r.is_available for r in router.checker.check_many(entries))
    return router, servers, entries


def answered_by(servers) -> list[int]:
    return [len(s.chat_requests) for s in servers]


def poll(condition) -> bool:
    deadline = time.monotonic() + BOUND_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_requests_spread_over_every_host(fleet):
    router, servers, entries = fleet
    for server in servers:  # equal boxes: a first token after about 50 ms on each
        server.first_token_delay = 0.05
    for _ in range(30):
        ask(router, "general", HI)
    assert all(count > 0 for count in answered_by(servers)), answered_by(servers)
    assert fleet_problems(router.registry.redis, router.registry.keys.prefix) == []


def test_in_flight_is_counted_when_a_host_is_picked(fleet):
    """Three requests at once, each started once the previous one holds its slot: each goes to
    a host with a free slot, never onto one already busy."""
    router, servers, entries = fleet
    for server in servers:
        server.held = True
    threads = []
    try:
        for started in range(1, 4):
            thread = threading.Thread(target=ask, args=(router, "general", HI), daemon=True)
            thread.start()
            threads.append(thread)
            assert poll(lambda: sum(s.in_slots for s in servers) == started)
        assert [s.in_slots for s in servers] == [1, 1, 1]
        assert [router.balancer.state.in_flight(e.model_id) for e in entries] == [1, 1, 1]
    finally:
        for server in servers:
            server.held = False
        for thread in threads:
            thread.join(BOUND_S)
    assert [router.balancer.state.in_flight(e.model_id) for e in entries] == [0, 0, 0]


def test_503_busy_tries_another_host_and_is_not_a_failure(fleet):
    router, (a, b, c), entries = fleet
    router.balancer.enabled_by_default = False  # the active host a is asked first
    a.chat_mode = "busy"
    notices = []
    route, answer = ask(router, "general", HI, on_notice=notices.append)
    assert route.model.model_id != entries[0].model_id
    assert len(a.chat_requests) == 1
    assert router.checker.cached(entries[0]).is_available  # not marked unavailable
    state = router.balancer.state.host(entries[0].model_id)
    assert state.cool_until is None and state.busy_until is not None
    failed = [r for r in router.answers.recent(10) if r.model_id == entries[0].model_id]
    assert [r.failure for r in failed] == ["busy"]
    assert "busy" in notices[0]


def test_404_marks_the_model_missing_there_and_rereads_its_tags(fleet):
    router, (a, b, c), entries = fleet
    router.balancer.enabled_by_default = False
    a.remove_model(NAME)  # its cached /api/tags still lists it
    a.clear_requests()
    route, answer = ask(router, "general", HI)
    assert route.model.model_id != entries[0].model_id
    paths = [r.path for r in a.requests]
    assert paths.index("/api/tags") > paths.index("/api/chat")  # read again after the 404
    assert router.checker.cached(entries[0]).is_available is False
    logged = [r.failure for r in router.answers.recent(10) if r.model_id == entries[0].model_id]
    assert logged == ["model missing"]


def test_400_is_not_retried_and_cools_nothing(fleet):
    router, (a, b, c), entries = fleet
    router.balancer.enabled_by_default = False
    a.chat_mode = "bad_request"
    with pytest.raises(OllamaServerError, match="HTTP 400"):
        ask(router, "general", HI)
    assert answered_by([a, b, c]) == [1, 0, 0]
    assert router.checker.cached(entries[0]).is_available
    assert router.balancer.state.host(entries[0].model_id).cool_until is None


def test_a_refused_host_cools_down_doubling_but_never_the_last_one(fleet):
    router, (a, b, c), entries = fleet
    router.balancer.enabled_by_default = False
    a.mode = "down"
    ask(router, "general", HI)  # a refused: cooled down 5 s
    state = router.balancer.state
    assert state.host(entries[0].model_id).cool_s == 5
    router.balancer.failed(entries[0], "unreachable", entries)
    assert state.host(entries[0].model_id).cool_s == 10
    router.balancer.failed(entries[1], "timed out", entries)
    assert state.host(entries[1].model_id).cool_s == 5
    router.balancer.failed(entries[2], "unreachable", entries)  # the last usable host
    assert state.host(entries[2].model_id).cool_until is None


def test_an_answer_ends_a_cooldown(fleet):
    router, (a, b, c), entries = fleet
    router.balancer.enabled_by_default = False
    router.balancer.failed(entries[0], "unreachable", entries)
    assert router.balancer.state.host(entries[0].model_id).cool_s == 5
    route, _ = ask(router, "general", HI)  # balancing off: the active host a answers
    assert route.model.model_id == entries[0].model_id
    assert router.balancer.state.host(entries[0].model_id).cool_s == 0


def test_a_session_stays_on_the_host_of_its_previous_answer(fleet):
    router, servers, entries = fleet
    state = router.balancer.state
    now = time.time()
    for entry, ttft in zip(entries, (300, 300, 420)):  # c is 1.4x the best: still sticky
        state.store_ttft(entry.model_id, ttft, 5.0, now)
    state.remember_session("session_0000abcd", entries[2].model_id)
    picks = {router.balancer.order(entries, "session_0000abcd")[0] for _ in range(30)}
    assert picks == {entries[2].model_id}
    state.store_ttft(entries[2].model_id, 600, 5.0, now)  # 2x the best: free to move
    picks = [router.balancer.order(entries, "session_0000abcd")[0] for _ in range(30)]
    assert entries[2].model_id not in picks
    route, _ = ask(router, "general", HI, session_id="session_0000beef")
    assert state.registry.redis.get(state.session_key("session_0000beef")) == \
        route.model.model_id


def test_balance_off_sends_everything_to_the_active_host(fleet, real_registry):
    router, servers, entries = fleet
    Balancer(real_registry).state.set_balance("general", False)  # as `model general balance off`
    for _ in range(10):
        ask(router, "general", HI)
    assert answered_by(servers) == [10, 0, 0]


def test_balance_setting_wins_over_the_config(fleet, real_registry):
    router, servers, entries = fleet
    router.balancer.enabled_by_default = False  # routing.balance: false
    router.balancer.state.set_balance("general", True)
    for _ in range(30):
        ask(router, "general", HI)
    assert answered_by(servers)[0] < 30


def test_a_pinned_host_is_never_balanced_away(fleet):
    router, servers, entries = fleet
    for _ in range(10):
        ask(router, "general", HI, model_id=request_key(entries[1].model_id, pinned=True))
    assert answered_by(servers) == [0, 10, 0]


def test_a_model_named_by_its_id_is_asked_on_that_host(fleet):
    router, servers, entries = fleet
    for _ in range(10):
        ask(router, "general", HI, model_id=request_key(entries[2].model_id))
    assert answered_by(servers) == [0, 0, 10]


def test_redis_down_means_active_host_first_and_no_error(fleet, dead_url):
    router, servers, entries = fleet
    port = int(dead_url.rsplit(":", 1)[1])
    gone = ModelRegistry(redis.Redis(port=port, socket_connect_timeout=0.5), key_prefix="x:")
    router.balancer.state = FleetState(gone)
    assert router.balancer.order(entries) == ()
    for _ in range(5):
        ask(router, "general", HI)
    assert answered_by(servers) == [5, 0, 0]


def test_a_host_without_the_model_loaded_pays_a_load_estimate(fleet):
    router, (a, b, c), entries = fleet
    state = router.balancer.state
    now = time.time()
    for entry in entries:
        state.store_ttft(entry.model_id, 300, 5.0, now)
    a.loaded, b.loaded = set(), set()  # only c has the model in memory
    for server in (a, b, c):
        state.fetch_ps = lambda url, s=server: None  # refreshed below, in this thread
    from registry.fleet_state import fetch_loaded_models

    for server in (a, b, c):
        state.store_ps(server.url, fetch_loaded_models(server.url))
    picks = {router.balancer.order(entries)[0] for _ in range(20)}
    assert picks == {entries[2].model_id}


def test_a_released_lease_counts_no_more_and_a_renewed_one_stays(real_registry):
    now = [1000.0]
    fleet = FleetState(real_registry, clock=lambda: now[0])
    first = fleet.take("model_0000cafe", 30)
    second = fleet.take("model_0000cafe", 30)
    assert (first.count, second.count) == (1, 2)
    assert fleet.in_flight("model_0000cafe") == 2
    fleet.release(first)
    assert fleet.in_flight("model_0000cafe") == 1
    now[0] += 20
    fleet.renew(second)  # a third of its length passed: pushed on to now + 30
    now[0] += 20  # 40 s after it was taken, 20 after the renewal
    assert fleet.in_flight("model_0000cafe") == 1
    now[0] += 11
    assert fleet.in_flight("model_0000cafe") == 0


def test_a_host_picked_by_two_at_once_sends_the_later_one_elsewhere(fleet):
    """Herding: another process took a's only slot between this pick and this lease. The
    lease shows two in flight on one slot; b, idle, takes the request instead."""
    router, servers, entries = fleet
    a, b, c = entries
    state = router.balancer.state
    state.take(a.model_id, 60)  # the other process
    mine = state.take(a.model_id, 60)
    assert mine.count == 2
    assert router.recheck(a, mine, frozenset({c.model_id})).model_id == b.model_id
    state.take(b.model_id, 60)  # b as busy as a: nothing is clearly sooner, stay
    assert router.recheck(a, mine, frozenset({c.model_id})) is None
    free = state.take(c.model_id, 60)
    assert free.count == 1 and router.recheck(c, free) is None  # a free slot: never moved


def test_a_pinned_request_is_not_moved_by_the_recheck(fleet):
    router, servers, entries = fleet
    state = router.balancer.state
    for server in servers:
        server.held = True
    state.take(entries[1].model_id, 60)  # b's slot is taken by someone else
    done = threading.Event()

    def pinned():
        ask(router, "general", HI, model_id=request_key(entries[1].model_id, pinned=True))
        done.set()

    thread = threading.Thread(target=pinned, daemon=True)
    thread.start()
    try:
        assert poll(lambda: sum(s.in_slots for s in servers) == 1)
        assert [s.in_slots for s in servers] == [0, 1, 0]
    finally:
        for server in servers:
            server.held = False
        thread.join(BOUND_S)
    assert done.is_set()


def test_a_host_that_came_back_wins_traffic_back(fleet, real_registry):
    """b was last seen down (by another process, in the registry). Requests do not wait for a
    probe of it: one runs in the background, and once b answers it is balanced again."""
    warm, servers, entries = fleet
    a, b, c = entries
    real_registry.update_availability(b.model_id, False)
    router = make_router(real_registry, warm.fallback.url)  # a process with no probe of its own
    router.balancer.rng = random.Random(4)  # b, never sampled, comes back by exploration
    ask(router, "general", HI)  # not b; kicks off b's probe
    assert poll(lambda: (router.checker.cached(b) or False) and router.checker.cached(b)
                .is_available)
    for _ in range(30):
        ask(router, "general", HI)
    assert len(servers[1].chat_requests) > 0


def test_api_ps_is_read_in_the_background_once_per_15_s_for_every_process(fleet, real_registry):
    """Once nobody has read a host's /api/ps, the first request waits for that read (briefly,
    every such host at once): a fresh fleet must not look loaded everywhere. After that it is
    read in the background only, by one process per 15 s."""
    router, (a, b, c), entries = fleet
    a.loaded = set()
    now = [1000.0]
    state = FleetState(real_registry, clock=lambda: now[0])
    first = state.read(entries)
    assert first.loaded[a.url] == frozenset()  # read before the first choice
    assert first.loaded[b.url] == {"llama3.1:8b"}

    def asked() -> int:
        return sum(r.path == "/api/ps" for s in (a, b, c) for r in s.requests)

    def refreshed() -> None:
        for thread in [t for t in threading.enumerate() if t.name == "fleet-ps"]:
            thread.join(BOUND_S)

    assert first.loaded[c.url] is not None
    refreshed()
    before = asked()
    assert before == 3  # one /api/ps per host
    state.read(entries)  # fresh: no refresh
    other = FleetState(real_registry, clock=lambda: now[0] + 20)  # another process, 20 s on
    other.read(entries)  # stale for it, but the refresh lock (15 s) is held: nobody asks
    refreshed()
    assert asked() == before


def test_a_request_that_loaded_the_model_teaches_its_load_time_and_marks_it_loaded(fleet):
    router, (a, b, c), entries = fleet
    a.loaded, a.load_time = set(), 0.2  # a must load the model first (Ollama's load_duration)
    state = router.balancer.state
    state.refresh_now(a.url)  # /api/ps of a cached: not loaded
    assert state.read(entries).loaded[a.url] == frozenset()
    route, _ = ask(router, "general", HI, model_id=request_key(entries[0].model_id))
    assert route.model.model_id == entries[0].model_id
    assert state.host(entries[0].model_id).load_ms == 200
    assert state.read(entries).loaded[a.url] == {"llama3.1:8b"}
    assert fleet_problems(router.registry.redis, router.registry.keys.prefix) == []


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

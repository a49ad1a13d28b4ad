"""The first requests to a fleet nobody has measured yet: each host's /api/ps is read before the
first choice (which hosts have the model loaded, and how much of it sits in system memory), so a
fresh fleet neither pays a model load on an idle host's behalf nor fills the slots of a box that
runs the model on its CPU. Pure scoring first; then real Redis and Ollama-protocol test servers
on 127.0.0.1 through the real router and ChatOllama."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ollama_fixtures import ollama_servers  # noqa: F401
from registry.fleet_state import FleetState, loaded_models, offload_share
from router.balance import CPU_SLOWER, Candidate, pick, prior, scores
from router_helpers import ask, make_router

NAME = "llama3.1:8b"
NOW = 1_000_000.0
HI = [("user", "hi")]


# --- pure: what /api/ps says of the memory, in the score ---------------------------------------

def test_a_host_with_the_model_partly_in_system_memory_is_expected_slower_until_measured():
    gpu = Candidate("a")
    half = Candidate("c", offload=0.5)
    got = scores([gpu, half], NOW)
    assert got["c"] == pytest.approx(got["a"] * (1 + (CPU_SLOWER - 1) * 0.5))
    measured = Candidate("c", offload=0.5, ttft_ms=200.0, sampled_at=NOW - 1)
    assert scores([gpu, measured], NOW)["c"] == 200.0  # its own samples say how slow it is


def test_the_prior_is_the_best_measured_host_as_if_its_gpu_held_the_whole_model():
    slow_box = Candidate("c", offload=0.5, ttft_ms=1100.0, sampled_at=NOW - 1)  # 5.5x slower
    gpu = Candidate("a", loaded=True)
    assert prior([slow_box, gpu], NOW) == pytest.approx(200.0)
    assert scores([slow_box, gpu], NOW)["a"] == pytest.approx(200.0)


def test_odd_offload_values_count_as_none_or_all():
    assert Candidate("x", offload=-3).slowdown() == 1.0
    assert Candidate("x", offload=7).slowdown() == CPU_SLOWER


def burst(candidates: list[Candidate], requests: int, seed: int) -> Counter:
    """Where a burst goes when each pick sees the ones before it (leases counted at pick)."""
    rng = random.Random(seed)
    placed = Counter()
    for _ in range(requests):
        counted = [Candidate(c.key, in_flight=placed[c.key], parallel=c.parallel,
                             offload=c.offload) for c in candidates]
        placed[pick(counted, NOW, rng)[0].key] += 1
    return placed


def test_a_first_burst_fills_the_gpu_boxes_before_the_box_that_runs_on_its_cpu():
    fleet = [Candidate("A", parallel=2), Candidate("B", parallel=2),
             Candidate("C", parallel=1, offload=0.44)]
    for seed in range(20):
        assert burst(fleet, 10, seed)["C"] == 0


def test_without_a_word_from_api_ps_a_first_burst_splits_by_slots():
    """What the rule changes: the same burst when C's /api/ps shows the whole model on its GPU."""
    fleet = [Candidate("A", parallel=2), Candidate("B", parallel=2), Candidate("C", parallel=1)]
    assert burst(fleet, 10, 1)["C"] == 2


# --- reading /api/ps ---------------------------------------------------------------------------

def test_the_share_in_system_memory_comes_from_size_and_size_vram():
    assert offload_share(1000, 1000) == 0.0
    assert offload_share(1000, 250) == 0.75
    assert offload_share(1000, 0) == 1.0
    assert offload_share(1000, 5000) == 0.0  # more VRAM than the model: all on the GPU
    for size, vram in ((0, 0), (None, 10), ("1000", "10"), (True, False), (1000, None)):
        assert offload_share(size, vram) == 0.0  # missing or odd: assume the GPU
    body = {"models": [{"name": "llama3.1:8b", "size": 100, "size_vram": 40},
                       {"model": "qwen2.5", "size": 100, "size_vram": 100}]}
    assert loaded_models(body) == {"llama3.1:8b": 0.6, "qwen2.5:latest": 0.0}


def test_a_damaged_offload_in_the_cache_is_ignored(real_registry):
    state = FleetState(real_registry, fetch_ps=lambda url: None)
    entry = real_registry.add_model("general", "http://127.0.0.1:9", NAME)
    real_registry.redis.set(state.ps_key(entry.url),
                            '{"at": 1e12, "models": ["llama3.1:8b"], '
                            '"offload": {"llama3.1:8b": "all", "x": 7, "y": true}}')
    view = state.read([entry])
    assert view.loaded[entry.url] == {"llama3.1:8b"} and view.offload[entry.url] == {}


# --- through the router --------------------------------------------------------------------

@pytest.fixture
def fresh_fleet(real_registry, ollama_servers):
    """NAME on a (active), b and c, nothing measured, no /api/ps cached; a new router (a new
    process) per call of the returned function, after the shared cache is emptied."""
    *servers, tiny = ollama_servers(4)
    for server in servers:
        server.add_model(NAME)
    tiny.add_model("tinyllama")
    entries = [real_registry.add_model("general", s.url, NAME, timeout=30,
                                       set_active=s is servers[0]) for s in servers]

    def new_process(seed: int):
        redis = real_registry.redis
        for key in redis.scan_iter(f"{real_registry.keys.prefix}fleet:*"):
            redis.delete(key)
        router = make_router(real_registry, tiny.url)
        router.balancer.rng = random.Random(seed)
        assert all(r.is_available for r in router.checker.check_many(entries))
        return router

    return new_process, servers, entries


def test_the_first_request_of_a_fresh_fleet_goes_where_the_model_is_loaded(fresh_fleet):
    new_process, (a, b, c), entries = fresh_fleet
    a.loaded, c.loaded = set(), set()  # only b has the model in memory
    for seed in range(6):
        route, _ = ask(new_process(seed), "general", HI)
        assert route.model.model_id == entries[1].model_id
    assert a.chat_requests == [] and c.chat_requests == []


def test_the_first_request_of_a_fresh_fleet_avoids_a_box_running_on_its_cpu(fresh_fleet):
    new_process, (a, b, c), entries = fresh_fleet
    c.offload = 0.9
    for seed in range(8):
        ask(new_process(seed), "general", HI)
    assert c.chat_requests == []
    assert a.chat_requests and b.chat_requests


def test_a_host_whose_api_ps_does_not_answer_is_waited_for_once(fresh_fleet):
    new_process, (a, b, c), entries = fresh_fleet
    router = new_process(1)
    state = router.balancer.state
    asked = []
    state.fetch_ps = lambda url: asked.append(url)  # says nothing, every time
    for _ in range(3):
        state.read(entries)
    assert sorted(asked) == sorted({e.url for e in entries})  # one try per host, not per read


def test_only_the_host_predicted_soonest_pays_a_load():
    """B has the model and a long queue; A and C would each load it, C a little later than A
    (within NEAR of it): a load goes to A, never to C by the draw among near-equals."""
    queued = Candidate("B", loaded=True, ttft_ms=300.0, sampled_at=NOW - 1, answer_ms=500.0,
                       in_flight=26, parallel=2)
    a = Candidate("A", loaded=False, ttft_ms=300.0, sampled_at=NOW - 100)
    c = Candidate("C", loaded=False, ttft_ms=700.0, sampled_at=NOW - 100)
    got = scores([queued, a, c], NOW)
    assert got["A"] < got["C"] <= got["A"] * 1.15 and got["A"] < got["B"]
    rng = random.Random(3)
    assert {pick([queued, a, c], NOW, rng)[0].key for _ in range(50)} == {"A"}


def test_a_second_load_starts_only_when_clearly_sooner_than_the_load_under_way():
    """A is loading the model (one request in flight there, not loaded yet); C would start a
    load of its own and is predicted a little sooner (within NEAR): the request waits for A's."""
    from router.balance import starts_load

    queued = Candidate("B", loaded=True, ttft_ms=300.0, sampled_at=NOW - 1, answer_ms=500.0,
                       in_flight=40, parallel=2)
    loading = Candidate("A", loaded=False, in_flight=1, parallel=2)
    fresh = Candidate("C", loaded=False, parallel=2)
    assert not starts_load(loading) and starts_load(fresh)
    got = scores([queued, loading, fresh], NOW)
    assert got["C"] < got["A"] <= got["C"] * 1.15
    rng = random.Random(5)
    assert {pick([queued, loading, fresh], NOW, rng)[0].key for _ in range(30)} == {"A"}


def test_the_lease_script_starts_a_load_only_when_clearly_sooner(real_registry):
    from router.balance import NEAR, lease_terms

    state = FleetState(real_registry, fetch_ps=lambda url: None)
    ids = ["model_0000aaaa", "model_0000cccc"]
    for _ in range(30):
        state.take(ids[0], 60)
    queued = Candidate(ids[0], loaded=True, ttft_ms=300.0, sampled_at=NOW - 1,
                       answer_ms=400.0, in_flight=30, parallel=2)
    fresh = Candidate(ids[1], loaded=False, parallel=2)
    got = scores([queued, fresh], NOW)
    assert got[ids[1]] * NEAR < got[ids[0]] < got[ids[1]] * NEAR * NEAR
    index, _ = state.take_soonest(ids, lease_terms([queued, fresh], NOW), 60, NEAR)
    assert index == 0  # sooner, but not clearly enough to start a load


def test_with_balancing_off_no_api_ps_is_read(fresh_fleet):
    new_process, servers, entries = fresh_fleet
    router = new_process(2)
    router.balancer.state.set_balance("general", False)
    for _ in range(3):
        route, _ = ask(router, "general", HI)
        assert route.model.model_id == entries[0].model_id  # the active host, as before
    assert [r.path for s in servers for r in s.requests if r.path == "/api/ps"] == []


def test_a_host_whose_api_ps_fails_is_not_waited_for_by_the_next_process(real_registry):
    """Its failed read is kept (with its time): the next process (a one-shot `ai-cli chat`)
    does not wait for it again; it is read in the background, at most every 15 s."""
    import threading

    entry = real_registry.add_model("general", "http://127.0.0.1:9", NAME)
    asked = []
    first = FleetState(real_registry, fetch_ps=lambda url: asked.append(url))
    assert first.read([entry]).loaded[entry.url] is None
    for thread in [t for t in threading.enumerate() if t.name == "fleet-ps"]:
        thread.join(10)
    second = FleetState(real_registry, fetch_ps=lambda url: asked.append(url))
    assert second.read([entry]).loaded[entry.url] is None
    assert asked == [entry.url]

"""No probe on the request path of a balanced request in steady state: a process's first request
to a host it has not probed yet uses what is already known (the registry's stored availability,
the `/api/show` facts read on another host of the same model) and probes in the background.
Real Redis, Ollama-protocol test servers on 127.0.0.1; stopped servers show what was asked on
the request path (a probe there would have found them down)."""

from __future__ import annotations

from ollama_fixtures import ollama_servers  # noqa: F401
from registry import background
from registry.availability import AvailabilityChecker
from router_helpers import make_router

NAME = "llama3.1:8b"


def test_a_balanced_route_uses_the_stored_availability_and_probes_in_the_background(
        real_registry, ollama_servers):  # noqa: F811
    a, b, tiny = ollama_servers(3)
    for server in (a, b):
        server.add_model(NAME)
    tiny.add_model("tinyllama")
    entries = [real_registry.add_model("general", s.url, NAME, set_active=s is a) for s in (a, b)]
    for entry in entries:
        real_registry.update_availability(entry.model_id, True)  # another process saw them up
    router = make_router(real_registry, tiny.url)  # this process has probed nothing
    a.mode = b.mode = "hang"  # a probe on the request path would wait, then find both down;
    # hanging (not refusing) keeps the background probes out until the route is chosen, however
    # slow this process is
    route = router.route("general", balanced=True)
    assert route.model.model_id in {e.model_id for e in entries}
    assert route.via == "active" and route.notice is None
    background.wait_for_all(30)  # the background probes have found them down since
    assert router.checker.cached(route.model).is_available is False
    unbalanced = router.route("general")  # status and listings still probe
    assert unbalanced.via == "fallback"


def test_show_facts_read_on_one_host_serve_its_replica_without_asking_it(
        real_registry, ollama_servers):  # noqa: F811
    a, b = ollama_servers(2)
    for server in (a, b):
        server.add_model(NAME, capabilities=("completion", "tools"))
    on_a = real_registry.add_model("general", a.url, NAME)
    on_b = real_registry.add_model("general", b.url, NAME)
    checker = AvailabilityChecker(real_registry, probe_timeout=2.0)
    facts = checker.show(on_a)
    assert facts is not None and "tools" in facts.capabilities
    b.stop()  # asked on the request path, b would answer nothing
    assert checker.show(on_b) == facts
    assert checker.context_length(on_b) == checker.context_length(on_a)
    background.wait_for_all()

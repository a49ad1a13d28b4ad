"""Failover keeps the model: through the real ChatOllama over HTTP to several test servers on
127.0.0.1, a host that hangs or refuses before the first token is replaced by the same model on
another host; other models come only when every host of it failed; `name@host` is never moved."""

from __future__ import annotations

import pytest

from ollama_fixtures import ollama_servers  # noqa: F401
from registry.errors import OllamaUnreachable
from router.chain import Snapshot, choose, request_key
from router.errors import NoModelAvailable
from router_helpers import ask, chat_models, make_router

HI = [("user", "hi")]


@pytest.fixture
def fleet(real_registry, ollama_servers):
    """llama3.1:8b on hosts a (active), b and c; mistral:7b on m; the fallback on `tiny`. All
    up. Only a and mistral were probed: mistral, last seen available, is what a chain that
    ignored replicas would pick after a (b and c were never checked)."""
    a, b, c, m, tiny = ollama_servers(5)
    for server in (a, b, c):
        server.add_model("llama3.1:8b")
        server.reply("from llama")
    m.add_model("mistral:7b")
    m.reply("from mistral")
    tiny.add_model("tinyllama")
    llamas = [real_registry.add_model("general", s.url, "llama3.1:8b", timeout=1,
                                      set_active=s is a) for s in (a, b, c)]
    mistral = real_registry.add_model("general", m.url, "mistral:7b", timeout=1,
                                      set_active=False)
    router = make_router(real_registry, tiny.url)
    router.balancer.enabled_by_default = False  # failover order: the active host is tried first
    assert all(r.is_available for r in router.checker.check_many([llamas[0], mistral]))
    return router, (a, b, c, m, tiny), llamas, mistral


def hosts_asked(servers) -> list[int]:
    return [len(s.chat_requests) for s in servers]


@pytest.mark.parametrize("fault", ["hang", "refuse"])
def test_a_failing_host_is_replaced_by_the_same_model_on_another(fleet, fault):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    if fault == "hang":
        a.chat_mode = "hang"  # /api/tags still answers: the failure comes at call time
    else:
        a.mode = "down"
    notices = []
    route, answer = ask(router, "general", HI, on_notice=notices.append)
    assert answer.content == "from llama"
    assert route.model.model_id in {llamas[1].model_id, llamas[2].model_id}
    assert chat_models(m) == [] and chat_models(tiny) == []
    (notice,) = notices
    answered = route.model.host
    assert f"same model on {answered}" in notice and a.url.split("://")[1] in notice


def test_other_models_only_when_every_host_of_the_model_failed(fleet):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    a.chat_mode = b.chat_mode = "hang"
    c.mode = "down"
    notices = []
    route, answer = ask(router, "general", HI, on_notice=notices.append)
    assert answer.content == "from mistral" and route.model.model_id == mistral.model_id
    assert chat_models(tiny) == []
    # each llama host was tried (or found down by its probe) before mistral, none twice
    assert len(a.chat_requests) == 1 and len(b.chat_requests) <= 1
    assert "retrying with mistral:7b" in notices[-1]


def test_a_requested_name_fails_over_to_its_other_hosts(fleet, real_registry):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    b.mode = "down"
    route, answer = ask(router, "general", HI, model_id=request_key(llamas[1].model_id))
    assert answer.content == "from llama"
    assert route.model.model_id in {llamas[0].model_id, llamas[2].model_id}
    assert chat_models(m) == []


def test_a_pinned_host_is_not_failed_over(fleet):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    b.chat_mode = "hang"
    pinned = request_key(llamas[1].model_id, pinned=True)
    with pytest.raises(NoModelAvailable) as refused:
        ask(router, "general", HI, model_id=pinned)
    message = str(refused.value)
    assert "pinned" in message and b.url.split("://")[1] in message
    assert "-m llama3.1:8b" in message  # how to let any host answer
    assert hosts_asked([a, c, m, tiny]) == [0, 0, 0, 0]


def test_a_pinned_host_down_before_the_request_is_said(fleet):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    c.mode = "down"
    pinned = request_key(llamas[2].model_id, pinned=True)
    router.checker.check(llamas[2], force=True)  # found down, as `model check` would
    route = router.route("general", model_id=pinned)
    assert not route.available and "pinned" in route.notice and "connection refused" in route.notice
    with pytest.raises(NoModelAvailable, match="pinned"):
        ask(router, "general", HI, model_id=pinned)
    assert hosts_asked([a, b, c, m, tiny]) == [0, 0, 0, 0, 0]


def test_a_pinned_host_that_answers_is_used(fleet):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    pinned = request_key(llamas[2].model_id, pinned=True)
    route, answer = ask(router, "general", HI, model_id=pinned)
    assert route.model.model_id == llamas[2].model_id and route.via == "requested"
    assert hosts_asked([a, b, c]) == [0, 0, 1]


def test_every_host_and_model_down_raises_the_last_failure(fleet):
    router, (a, b, c, m, tiny), llamas, mistral = fleet
    for server in (a, b, c, m):
        server.mode = "down"
    with pytest.raises((OllamaUnreachable, NoModelAvailable)):
        ask(router, "general", HI)
    assert chat_models(tiny) == []  # one move to another model at most, as before


# --- the chain's order, pure ------------------------------------------------------------------


class Probe:
    def __init__(self, up: set[str]):
        self.up = up

    def __call__(self, model):
        from registry.availability import ProbeResult

        ok = model.model_id in self.up
        return ProbeResult(model.model_id, ok, None if ok else "connection refused", None)


def entry(n: int, name: str, port: int, **changes):
    from registry.model import ModelConfig

    return ModelConfig(model_id=f"model_{n:08x}", model_type="general",
                       url=f"http://127.0.0.1:{port}", model_name=name, timeout=5,
                       **{"is_active": False, "added_at": None, **changes})


def test_chain_tries_the_models_other_hosts_before_other_models():
    a = entry(1, "llama3.1:8b", 1, is_active=True)
    other = entry(2, "mistral:7b", 2, is_available=True)
    b = entry(3, "llama3.1:8b", 3)
    snapshot = Snapshot((a, other, b))
    assert snapshot.others("general") == [b, other]
    route = choose("general", snapshot, Probe({other.model_id, b.model_id}))
    assert route.model.model_id == b.model_id and route.via == "other"
    route = choose("general", snapshot, Probe({other.model_id}))
    assert route.model.model_id == other.model_id


def test_chain_of_a_pinned_host_has_nothing_after_it():
    a, b = entry(1, "llama3.1:8b", 1, is_active=True), entry(2, "llama3.1:8b", 2)
    snapshot = Snapshot((a, b), requested=request_key(a.model_id, pinned=True))
    route = choose("general", snapshot, Probe({b.model_id}))
    assert route.model is None and "pinned" in route.notice and "2 hosts" in route.notice
    route = choose("general", Snapshot((a, b), requested=request_key(a.model_id)),
                   Probe({b.model_id}))
    assert route.model.model_id == b.model_id

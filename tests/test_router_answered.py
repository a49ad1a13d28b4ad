"""A whole answer counts as a probe: the next message within the TTL is sent without first
asking the model's server `/api/tags` (nothing but the request between Enter and the
first token). Real Redis, real HTTP through ChatOllama; the checker's clock is a test clock."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from registry.availability import AvailabilityChecker
from router.errors import StreamBroken
from router import Router
from router_helpers import PROBE, config_with_fallback


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def tags_requests(server) -> int:
    return len([r for r in server.requests if r.path == "/api/tags"])


def test_an_answer_renews_the_models_availability_for_the_ttl(real_registry, ollama_server,
                                                              dead_url):
    ollama_server.add_model("llama3")
    real_registry.add_model("general", ollama_server.url, "llama3")
    clock = Clock()
    checker = AvailabilityChecker(real_registry, probe_timeout=PROBE, ttl=30, clock=clock)
    router = Router(real_registry, config_with_fallback(dead_url), checker)

    def ask() -> str:
        return "".join(c.content for c in router.stream("general", [HumanMessage("hi")]))

    ollama_server.default_reply = "fine"
    assert ask() == "fine"
    assert tags_requests(ollama_server) == 1  # the first message probes
    clock.now += 25
    ask()
    clock.now += 25  # 50 s after the probe, 25 s after the last answer
    ask()
    assert tags_requests(ollama_server) == 1
    clock.now += 31  # the last answer is older than the TTL: probed again
    ask()
    assert tags_requests(ollama_server) == 2

    clock.now += 25
    ollama_server.chat_mode = "die_mid_stream"  # an answer that breaks off renews nothing
    ollama_server.reply("one ", "two ", "three ", "four")
    with pytest.raises(StreamBroken):
        ask()
    ollama_server.chat_mode = None
    clock.now += 25  # 50 s after the last whole answer
    ask()
    assert tags_requests(ollama_server) == 3
    checker.close()

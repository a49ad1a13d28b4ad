"""Building a Router on a real Redis registry and Ollama-protocol test servers, for router tests."""

from __future__ import annotations

import pytest

from registry.availability import AvailabilityChecker
from registry.config import ConfigManager
from router import Router

PROBE = 0.5


def config_with_fallback(url: str, disabled=("code",), model: str = "tinyllama") -> ConfigManager:
    return ConfigManager(
        None, {"tinyollama": {"url": url, "model": model, "timeout": 5,
                              "disabled_features": list(disabled)}}
    )


def make_router(registry, fallback_url: str, disabled=("code",), ttl: float = 30) -> Router:
    checker = AvailabilityChecker(registry, probe_timeout=PROBE, ttl=ttl)
    return Router(registry, config_with_fallback(fallback_url, disabled), checker)


def two_general_models(registry, ollama_servers, timeout: int):
    """The active general model llama3 on `a`, another general model mistral on `b`, and
    tinyllama on `tiny` for the fallback, all up: (a, b, tiny, active, other)."""
    a, b, tiny = ollama_servers(3)
    a.add_model("llama3")
    b.add_model("mistral")
    tiny.add_model("tinyllama")
    active = registry.add_model("general", a.url, "llama3", timeout=timeout)
    other = registry.add_model("general", b.url, "mistral", timeout=timeout, set_active=False)
    return a, b, tiny, active, other


def chat_models(server) -> list[str]:
    """The model of every /api/chat request the server received, in order."""
    return [r.model for r in server.chat_requests]


def ask(router, request_type: str, messages, **kwargs):
    """(the route that answered, the whole answer as one AIMessage): a request streamed through
    the router, as the engine sends one."""
    from langchain_core.messages import message_chunk_to_message

    routed = router.stream(request_type, messages, **kwargs)
    whole = None
    for chunk in routed:
        whole = chunk if whole is None else whole + chunk
    return routed.route, message_chunk_to_message(whole)


@pytest.fixture
def two(real_registry, ollama_servers):
    """Active general on `a` (timeout 1 s), another general on `b`, the fallback on `tiny` (all
    up); the router is warm, so a failure comes at call time, not from the probe."""
    a, b, tiny, active, other = two_general_models(real_registry, ollama_servers, timeout=1)
    router = make_router(real_registry, tiny.url)
    router.route("general")
    return router, a, b, tiny, active, other

"""Embeddings through the `embedding` request type: its own active model and chain, any model
with the embedding capability when the type has none, failover, and never the tinyllama
fallback. The real router and registry against the Ollama-protocol test server's /api/embed."""

from __future__ import annotations

import pytest
from ollama_fixtures import ollama_servers  # noqa: F401
from ollama_server import embedding_of
from router_helpers import make_router

from registry.errors import InvalidModelType
from router.embed import embed
from router.errors import NoModelAvailable


def test_the_active_embedding_model_answers_one_vector_per_text(real_registry, ollama_servers):
    a, tiny = ollama_servers(2)
    a.add_model("nomic-embed-text", ("embedding",))
    tiny.add_model("tinyllama")
    model = real_registry.add_model("embedding", a.url, "nomic-embed-text", timeout=10)
    assert real_registry.get_active_model("embedding").model_id == model.model_id
    router = make_router(real_registry, tiny.url, disabled=())
    embedded = embed(router, ["one", "two"])
    assert embedded.vectors == [embedding_of("one"), embedding_of("two")]
    assert embedded.route.via == "active" and embedded.route.model.model_id == model.model_id
    assert a.requests[-1].body == {"model": "nomic-embed-text", "input": ["one", "two"]}


def test_a_model_with_the_capability_of_another_type_serves_when_the_type_has_none(
        real_registry, ollama_servers):
    a, tiny = ollama_servers(2)
    a.add_model("llama3.1:8b", ("completion", "tools"))
    a.add_model("bge-m3", ("embedding",))
    tiny.add_model("tinyllama")
    real_registry.add_model("general", a.url, "llama3.1:8b", timeout=10)
    bge = real_registry.add_model("general", a.url, "bge-m3", timeout=10, set_active=False)
    router = make_router(real_registry, tiny.url, disabled=())
    embedded = embed(router, ["x"])
    assert embedded.route.model.model_id == bge.model_id
    assert [r.model for r in a.requests if r.path == "/api/embed"] == ["bge-m3"]


def test_no_embedding_model_is_refused_and_tinyllama_never_asked(real_registry, ollama_servers):
    a, tiny = ollama_servers(2)
    a.add_model("llama3.1:8b", ("completion",))
    tiny.add_model("tinyllama", ("completion", "embedding"))
    real_registry.add_model("general", a.url, "llama3.1:8b", timeout=10)
    router = make_router(real_registry, tiny.url, disabled=())
    with pytest.raises(NoModelAvailable) as caught:
        embed(router, ["x"])
    assert "ollama pull nomic-embed-text" in caught.value.message
    assert [r for r in a.requests + tiny.requests if r.path == "/api/embed"] == []


def test_a_down_embedding_model_fails_over_to_another(real_registry, ollama_servers):
    a, b, tiny = ollama_servers(3)
    for server in (a, b):
        server.add_model("nomic-embed-text", ("embedding",))
    tiny.add_model("tinyllama")
    first = real_registry.add_model("embedding", a.url, "nomic-embed-text", timeout=10)
    real_registry.add_model("embedding", b.url, "nomic-embed-text", timeout=10,
                            set_active=False)
    router = make_router(real_registry, tiny.url)
    router.checker.capabilities(first)  # known before its server goes away
    a.mode = "down"
    heard = []
    embedded = embed(router, ["x"], on_notice=heard.append)
    assert embedded.route.model.url == b.url and embedded.vectors == [embedding_of("x")]


def test_embedding_is_a_model_type_and_nothing_else_is():
    from registry.model import validate_model_type

    assert validate_model_type("embedding") == "embedding"
    with pytest.raises(InvalidModelType, match="'embedding'"):
        validate_model_type("vectors")

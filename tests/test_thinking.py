"""Thinking: `think` sent only to models with the thinking capability (the user's choice, else
`defaults.think`), the reasoning kept apart from the answer (events, the stored message, the
answer log's thinking_tokens), and `--think` routed to a thinking model. Real ChatOllama against
the Ollama-protocol test server, real Redis."""

from __future__ import annotations

import pytest
from ollama_fixtures import ollama_servers  # noqa: F401
from router_helpers import make_router

from agent.chat import ChatRequest, exchange
from agent.events import Thinking, Token
from agent.sessions import SessionStore
from router.errors import NoModelAvailable


def fleet(real_registry, ollama_servers):
    a, b, tiny = ollama_servers(3)
    a.add_model("llama3.1:8b", ("completion", "tools"))
    b.add_model("qwen3:8b", ("completion", "tools", "thinking"))
    tiny.add_model("tinyllama")
    text = real_registry.add_model("general", a.url, "llama3.1:8b", timeout=10)
    thinker = real_registry.add_model("general", b.url, "qwen3:8b", timeout=10, set_active=False)
    return a, b, tiny, text, thinker


def ask(router, question="why?", options=None, model_id=None, store=None, session_id=None):
    events = []
    reply = exchange(router, store, ChatRequest(question, options=options, model_id=model_id,
                                                session_id=session_id), events.append)
    return reply, events


def test_no_think_is_ever_sent_to_a_model_without_thinking(real_registry, ollama_servers):
    a, b, tiny, text, thinker = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    ask(router)
    ask(router, options={"think": False})  # "don't think" to a model that cannot: not sent either
    assert [r.body.get("think") for r in a.chat_requests] == [None, None]


def test_think_routes_to_a_thinking_model_and_keeps_the_reasoning_apart(
        real_registry, ollama_servers, real_redis, key_prefix):
    a, b, tiny, text, thinker = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    store = SessionStore(real_redis, key_prefix=key_prefix)
    session = store.new()
    b.reply_thinking("Let me count the letters.", "Three.")
    reply, events = ask(router, "how many r in strawberry?", options={"think": "high"},
                        store=store, session_id=session.session_id)
    assert reply.route.model.model_id == thinker.model_id
    assert "llama3.1:8b cannot think" in reply.route.notice
    assert b.chat_requests[-1].body["think"] == "high" and a.chat_requests == []
    assert reply.answer == "Three."
    thought = "".join(e.text for e in events if isinstance(e, Thinking))
    assert thought == "Let me count the letters."
    first_token = next(i for i, e in enumerate(events) if isinstance(e, Token))
    assert all(not isinstance(e, Thinking) for e in events[first_token:])  # thinking comes first
    stored = store.history(session.session_id)[-1]
    assert (stored.content, stored.thinking) == ("Three.", "Let me count the letters.")
    assert router.answers.recent(1)[0].thinking_tokens == 5  # one piece per token
    ask(router, "and now?", store=store, session_id=session.session_id)
    sent_back = [m.get("thinking") for m in a.chat_requests[-1].body["messages"]]
    assert sent_back == [None, None, None]  # the thinking never goes back to a model


def test_a_thinking_model_gets_defaults_think_when_the_request_does_not_say(
        real_registry, ollama_servers):
    a, b, tiny, text, thinker = fleet(real_registry, ollama_servers)
    real_registry.set_active_model(thinker.model_id)
    router = make_router(real_registry, tiny.url)
    b.reply_thinking("hmm", "ok")
    reply, _ = ask(router)
    assert b.chat_requests[-1].body["think"] is True  # defaults.think: true
    assert reply.answer == "ok"
    ask(router, options={"think": False})
    assert b.chat_requests[-1].body["think"] is False


def test_think_with_m_naming_a_model_without_it_is_refused(real_registry, ollama_servers):
    a, b, tiny, text, thinker = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    with pytest.raises(NoModelAvailable) as caught:
        ask(router, options={"think": True}, model_id=text.model_id)
    assert "cannot think" in caught.value.message and "qwen3:8b" in caught.value.message
    real_registry.remove_model(thinker.model_id)
    with pytest.raises(NoModelAvailable) as caught:
        ask(router, options={"think": True})
    assert "ollama pull qwen3" in caught.value.message
    assert a.chat_requests == b.chat_requests == tiny.chat_requests == []

"""The Router on a real Redis and real HTTP: each branch of the chain, status, features, caching,
changes from another process, and Redis going away."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from router.errors import NO_MODEL_WARNINGS
from registry.manager import ModelRegistry
from router_helpers import chat_models, make_router, ask

ROOT = Path(__file__).resolve().parent.parent


def servers_with(ollama_servers, *models):
    servers = ollama_servers(len(models))
    for server, name in zip(servers, models):
        if name:
            server.add_model(name)
    return servers


def test_general_chain_over_real_servers(real_registry, ollama_servers):
    a, b, tiny = servers_with(ollama_servers, "llama3", "mistral", "tinyllama")
    router = make_router(real_registry, tiny.url, ttl=0)
    g1 = real_registry.add_model("general", a.url, "llama3")
    g2 = real_registry.add_model("general", b.url, "mistral", set_active=False)

    assert (router.route("general").model.model_id, router.route("general").via) == (g1.model_id, "active")
    a.mode = "down"
    r = router.route("general")
    assert (r.model.model_id, r.via) == (g2.model_id, "other") and "mistral" in r.notice
    b.remove_model("mistral")
    r = router.route("general")
    assert (r.model.model_name, r.via) == ("tinyllama", "fallback")
    assert "model not pulled" not in r.notice and "connection refused" in r.notice
    tiny.mode = "hang"
    r = router.route("general")
    assert (r.model, r.via) == (None, "none")
    # Configured but unreachable: which models, why, and what to do (not the "add one" warning).
    assert r.notice.startswith("⚠ No general model is reachable. ")
    assert "llama3" in r.notice and "mistral" in r.notice and "model not pulled" in r.notice
    assert "'/model check'" in r.notice


def test_coder_chain_over_real_servers(real_registry, ollama_servers):
    a, c, tiny = servers_with(ollama_servers, "llama3", "qwen-coder", "tinyllama")
    router = make_router(real_registry, tiny.url, ttl=0)
    real_registry.add_model("general", a.url, "llama3")
    c1 = real_registry.add_model("coder", c.url, "qwen-coder")
    c2 = real_registry.add_model("coder", c.url, "deepseek-coder", set_active=False)

    assert router.route("coder").model.model_id == c1.model_id
    c.add_model("deepseek-coder")
    c.remove_model("qwen-coder")
    r = router.route("coder")
    assert (r.model.model_id, r.via) == (c2.model_id, "other")
    c.mode = "down"
    r = router.route("coder")
    assert (r.model.model_name, r.via) == ("llama3", "general") and "for code" in r.notice
    a.mode = "down"
    r = router.route("coder")  # tinyllama is up, but `code` is in its disabled_features
    assert r.via == "none" and r.notice.startswith("⚠ No coder model is reachable. ")
    assert "qwen-coder" in r.notice and "deepseek-coder" in r.notice
    enabled = make_router(real_registry, tiny.url, disabled=(), ttl=0)
    assert enabled.route("coder").via == "fallback"


def test_the_model_each_route_picks(real_registry, ollama_servers):
    a, tiny = servers_with(ollama_servers, "llama3", "tinyllama")
    router = make_router(real_registry, tiny.url)
    assert router.route("general").model == router.fallback
    assert router.route("coder").model is None
    model = real_registry.add_model("general", a.url, "llama3")
    assert router.route("general").model.model_id == model.model_id
    assert router.route("coder").model.model_id == model.model_id


def test_status_json(real_registry, ollama_servers):
    a, tiny = servers_with(ollama_servers, "llama3", None)
    router = make_router(real_registry, tiny.url)
    model = real_registry.add_model("general", a.url, "llama3")
    status = json.loads(json.dumps(router.status()))
    assert set(status) == {"routes", "fallback", "features"}
    general, coder = status["routes"]["general"], status["routes"]["coder"]
    assert (general["model"]["model_id"], general["via"], general["notice"]) == (model.model_id, "active", None)
    assert (coder["via"], coder["model"]["model_id"]) == ("general", model.model_id)
    assert status["fallback"]["model_id"] is None
    assert status["fallback"]["model_name"] == "tinyllama"
    assert status["fallback"]["is_available"] is False
    assert "ollama pull tinyllama" in status["fallback"]["reason"]
    assert status["features"] == {"chat": True, "code": True, "code_tools": True}


def test_features_follow_tool_support(real_registry, ollama_servers):
    (a,) = ollama_servers(1)
    a.add_model("plain", capabilities=("completion",))
    router = make_router(real_registry, a.url)
    real_registry.add_model("general", a.url, "plain")
    features = router.features()
    assert (features.chat, features.code, features.code_tools) == (True, True, False)
    assert "plain-text edits" in features.reasons["code_tools"]


def test_no_models_at_all_disables_features_only(real_registry, dead_url):
    router = make_router(real_registry, dead_url)
    status = router.status()
    assert status["features"] == {"chat": False, "code": False, "code_tools": False}
    assert status["routes"]["general"]["notice"] == NO_MODEL_WARNINGS["general"]


def test_warm_routes_do_not_probe_again(real_registry, ollama_server):
    ollama_server.add_model("llama3")
    router = make_router(real_registry, ollama_server.url)
    real_registry.add_model("general", ollama_server.url, "llama3")
    for _ in range(5):
        router.route("general")
    assert [r.path for r in ollama_server.requests] == ["/api/tags"]


def test_chat_model_is_reused_while_the_config_is_unchanged(real_registry, ollama_server):
    router = make_router(real_registry, ollama_server.url)
    model = real_registry.add_model("general", ollama_server.url, "llama3", timeout=30)
    first = router.chat_model(model)
    assert router.chat_model(real_registry.get_model(model.model_id)) is first
    assert first.base_url == ollama_server.url and first.model == "llama3"
    assert first.client_kwargs == {"timeout": 30}
    assert router.chat_model(model.with_changes(timeout=31)) is not first
    assert router.chat_model(model.with_changes(url=ollama_server.url + "/x")) is not first


def test_options_reach_the_server_with_the_request(real_registry, ollama_server):
    router = make_router(real_registry, ollama_server.url)
    real_registry.add_model("general", ollama_server.url, "llama3", timeout=30)
    ollama_server.add_model("llama3")
    from langchain_core.messages import HumanMessage

    list(router.stream("general", [HumanMessage("hi")], options={"temperature": 0.25}))
    assert ollama_server.chat_requests[-1].body["options"]["temperature"] == 0.25


@pytest.mark.process
def test_a_change_by_another_process_is_seen_by_the_next_request(
        real_registry, ollama_servers, redis_url, key_prefix):
    a, b = servers_with(ollama_servers, "llama3", "mistral")
    router = make_router(real_registry, a.url)
    real_registry.add_model("general", a.url, "llama3")
    other = real_registry.add_model("general", b.url, "mistral", set_active=False)
    assert router.route("general").model.model_name == "llama3"
    script = (
        "import redis, sys; from registry.manager import ModelRegistry; "
        "ModelRegistry(redis.Redis.from_url(sys.argv[1]), key_prefix=sys.argv[2])"
        ".set_active_model(sys.argv[3])"
    )
    subprocess.run([sys.executable, "-c", script, redis_url, key_prefix, other.model_id],
                   check=True, cwd=ROOT)
    routed = router.stream("general", [("user", "hi")])
    assert routed.route.model.model_id == other.model_id
    assert "".join(c.content for c in routed)
    assert chat_models(b) == ["mistral"] and chat_models(a) == []


def test_redis_down_routes_on_the_fallback_with_a_notice(ollama_server, tmp_path):
    ollama_server.add_model("tinyllama")
    dead = redis.Redis(unix_socket_path=str(tmp_path / "gone.sock"), decode_responses=True,
                       retry=Retry(NoBackoff(), 0))
    router = make_router(ModelRegistry(dead, url="unix://gone.sock"), ollama_server.url)
    r = router.route("general")
    assert (r.model.model_name, r.via) == ("tinyllama", "fallback")
    assert "registry is unavailable" in r.notice and "gone.sock" in r.notice
    assert router.route("coder").via == "none"
    assert router.status()["features"] == {"chat": True, "code": False, "code_tools": False}
    answer = "".join(c.content for c in router.stream("general", [("user", "hi")]))
    assert answer and chat_models(ollama_server) == ["tinyllama"]


def test_pinned_model(real_registry, ollama_servers):
    a, b = servers_with(ollama_servers, "llama3", "mistral")
    router = make_router(real_registry, a.url)
    real_registry.add_model("general", a.url, "llama3")
    pinned = real_registry.add_model("general", b.url, "mistral", set_active=False)
    route, message = ask(router, "general", [("user", "hi")], pinned_model_id=pinned.model_id)
    assert (route.model.model_id, route.via) == (pinned.model_id, "active")
    assert chat_models(b) == ["mistral"] and chat_models(a) == []

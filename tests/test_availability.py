"""Availability probing over real HTTP against Ollama-protocol test servers, on a real Redis."""

import http.server
import threading

import pytest
import redis

from ollama_fixtures import dead_url, ollama_server, ollama_servers, silent_url  # noqa: F401
from registry.availability import AvailabilityChecker, ProbeResult
from registry.config import FallbackModel
from registry.errors import OllamaUnreachable
from registry.manager import ModelRegistry

PROBE = 0.3


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def checker(real_registry, clock):
    made = AvailabilityChecker(real_registry, probe_timeout=PROBE, ttl=30, clock=clock)
    yield made
    made.close()


def tags_requests(server):
    return [r for r in server.requests if r.path == "/api/tags"]


def test_available_model_and_its_latency(checker, real_registry, ollama_server):
    ollama_server.add_model("llama3")
    model = real_registry.add_model("general", ollama_server.url, "llama3")
    result = checker.check(model)
    assert result == ProbeResult(model.model_id, True, None, result.latency_ms)
    assert isinstance(result.latency_ms, int) and result.latency_ms >= 0
    assert result.to_json() == {"model_id": model.model_id, "is_available": True,
                                "reason": None, "latency_ms": result.latency_ms}


@pytest.mark.parametrize("registered, pulled", [("llama3", "llama3:latest"),
                                                ("llama3:latest", "llama3")])
def test_name_without_tag_is_latest(checker, real_registry, ollama_server, registered, pulled):
    ollama_server.add_model(pulled)
    model = real_registry.add_model("general", ollama_server.url, registered)
    assert checker.check(model).is_available


def test_model_not_pulled_says_how_to_pull_it(checker, real_registry, ollama_server):
    ollama_server.add_model("llama3:8b")
    model = real_registry.add_model("general", ollama_server.url, "llama3:70b")
    result = checker.check(model)
    assert not result.is_available
    assert result.reason.startswith("model not pulled: run 'ollama pull llama3:70b'")
    assert result.latency_ms is not None


def test_connection_refused(checker, real_registry, dead_url):
    model = real_registry.add_model("general", dead_url, "llama3")
    result = checker.check(model)
    assert (result.is_available, result.latency_ms) == (False, None)
    assert "connection refused" in result.reason and "ollama serve" in result.reason


def test_hanging_server_times_out_at_the_probe_timeout(checker, real_registry, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.mode = "hang"
    model = real_registry.add_model("general", ollama_server.url, "llama3")
    result = checker.check(model)
    assert not result.is_available
    assert result.reason.startswith("timed out") and f"{PROBE:g} s" in result.reason


def test_http_error_names_the_status(checker, real_registry, ollama_server):
    ollama_server.mode = "error_500"
    model = real_registry.add_model("general", ollama_server.url, "llama3")
    assert checker.check(model).reason.startswith("HTTP 500 from")


def test_a_server_that_is_not_ollama(checker, real_registry, tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "tags").write_text("<html>a web server</html>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=tmp_path, **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        model = real_registry.add_model("general", url, "llama3")
        assert "not like an Ollama server" in checker.check(model).reason
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_results_are_written_back_to_the_registry(checker, real_registry, ollama_server, dead_url):
    ollama_server.add_model("llama3")
    up = real_registry.add_model("general", ollama_server.url, "llama3")
    down = real_registry.add_model("general", dead_url, "llama3")
    checker.check_many([up, down])
    assert real_registry.get_model(up.model_id).is_available is True
    assert real_registry.get_model(down.model_id).is_available is False
    assert real_registry.get_model(down.model_id).last_checked is not None


def test_results_are_cached_for_the_ttl(checker, real_registry, ollama_server, clock):
    ollama_server.add_model("llama3")
    model = real_registry.add_model("general", ollama_server.url, "llama3")
    checker.check(model)
    ollama_server.remove_model("llama3")
    assert checker.check(model).is_available  # cached: the server is not asked again
    assert len(tags_requests(ollama_server)) == 1
    assert not checker.check(model, force=True).is_available
    ollama_server.add_model("llama3")
    clock.now += 29
    assert not checker.check(model).is_available
    clock.now += 2
    assert checker.check(model).is_available
    assert len(tags_requests(ollama_server)) == 3


def test_one_tags_request_per_server(checker, real_registry, ollama_server):
    ollama_server.add_model("a")
    models = [real_registry.add_model("general", ollama_server.url, n) for n in ("a", "b", "c")]
    assert [r.is_available for r in checker.check_many(models)] == [True, False, False]
    assert len(tags_requests(ollama_server)) == 1


def test_fifty_models_ten_hanging_all_answer(real_registry, ollama_servers, clock):
    """Concurrency is shown in bench/router_bench.py; here: every result arrives, right reasons."""
    servers = ollama_servers(50)
    for i, server in enumerate(servers):
        server.add_model("llama3")
        if i % 5 == 0:
            server.mode = "hang"
    models = [real_registry.add_model("general", s.url, "llama3", set_active=False)
              for s in servers]
    checker = AvailabilityChecker(real_registry, probe_timeout=PROBE, clock=clock)
    results = checker.check_many(models)
    assert [r.model_id for r in results] == [m.model_id for m in models]
    hanging = [r for i, r in enumerate(results) if i % 5 == 0]
    assert len(hanging) == 10 and all(r.reason.startswith("timed out") for r in hanging)
    assert all(r.is_available for i, r in enumerate(results) if i % 5)
    checker.close()


def test_fallback_model_is_checked_but_not_written(checker, real_registry, ollama_server):
    ollama_server.add_model("tinyllama")
    tiny = FallbackModel(ollama_server.url, "tinyllama", 60, ("code",))
    assert checker.check(tiny) == ProbeResult(None, True, None, checker.check(tiny).latency_ms)
    assert real_registry.list_models() == []


def test_mark_unavailable_is_trusted_for_the_ttl(checker, real_registry, ollama_server, clock):
    ollama_server.add_model("llama3")
    model = real_registry.add_model("general", ollama_server.url, "llama3")
    checker.mark_unavailable(model, "refused during a request")
    assert checker.check(model).reason == "refused during a request"
    assert real_registry.get_model(model.model_id).is_available is False
    clock.now += 31
    assert checker.check(model).is_available


def test_registry_down_does_not_break_probing(ollama_server, tmp_path):
    dead = redis.Redis(unix_socket_path=str(tmp_path / "none.sock"), decode_responses=True)
    registry = ModelRegistry(dead)
    ollama_server.add_model("llama3")
    from registry.model import ModelConfig, new_model_id, now_utc

    model = ModelConfig(new_model_id(), "general", ollama_server.url, "llama3", 30, True, now_utc())
    assert AvailabilityChecker(registry, probe_timeout=PROBE).check(model).is_available


def test_supports_tools_is_read_once_per_model(checker, real_registry, ollama_server):
    ollama_server.add_model("coder", capabilities=("completion", "tools"))
    ollama_server.add_model("plain", capabilities=("completion",))
    coder = real_registry.add_model("coder", ollama_server.url, "coder")
    plain = real_registry.add_model("general", ollama_server.url, "plain")
    assert checker.supports_tools(coder) and checker.supports_tools(coder)
    assert not checker.supports_tools(plain)
    shows = [r.body["model"] for r in ollama_server.requests if r.path == "/api/show"]
    assert shows == ["coder", "plain"]


def test_supports_tools_unknown_is_false_and_not_cached(checker, real_registry, ollama_server):
    model = real_registry.add_model("coder", ollama_server.url, "later")
    assert not checker.supports_tools(model)  # 404: not pulled yet
    ollama_server.add_model("later")
    assert checker.supports_tools(model)


def test_discover_lists_the_servers_models(checker, ollama_server):
    ollama_server.add_model("qwen2.5-coder:7b")
    ollama_server.add_model("llama3")
    assert checker.discover(ollama_server.url + "/") == ["llama3:latest", "qwen2.5-coder:7b"]


def test_discover_on_a_dead_server_is_one_clear_error(checker, dead_url):
    with pytest.raises(OllamaUnreachable, match="connection refused"):
        checker.discover(dead_url)


def test_connect_timeout_is_reported_as_such(checker, real_registry, silent_url):
    model = real_registry.add_model("general", silent_url, "llama3")
    result = checker.check(model)
    assert not result.is_available and "timed out connecting" in result.reason


def test_one_probe_per_server_serves_every_model_on_it(checker, real_registry, ollama_server, clock):
    """Walking the chain over three models on one hung server waits on it once, not three times."""
    ollama_server.add_model("a")
    ollama_server.mode = "hang"
    models = [real_registry.add_model("general", ollama_server.url, n) for n in ("a", "b", "c")]
    results = [checker.check(m) for m in models]
    assert [r.is_available for r in results] == [False, False, False]
    assert all("timed out" in r.reason for r in results)
    assert len(tags_requests(ollama_server)) == 1
    clock.now += 31  # past the TTL the server is asked again
    checker.check(models[0])
    assert len(tags_requests(ollama_server)) == 2
    checker.check(models[0], force=True)
    assert len(tags_requests(ollama_server)) == 3

"""Failover at call time, through the real ChatOllama over HTTP to several test servers:
which server received each request, what the user is told, and what ends the request."""

import pytest

from ollama_fixtures import dead_url, ollama_server, ollama_servers, silent_url  # noqa: F401
from registry.errors import OllamaUnreachable
from router.errors import ModelNotPulled, ModelTimedOut, NoModelAvailable, OllamaServerError, StreamBroken
from ollama_server import READ_FILE_TOOL
from router_helpers import ask, chat_models, make_router, two  # noqa: F401

HI = [("user", "hi")]


def collect(routed):
    return "".join(chunk.content for chunk in routed)


def test_refused_connection_fails_over_before_any_output(two, real_registry):
    router, a, b, tiny, active, other = two
    a.mode = "down"
    b.reply("from b")
    notices = []
    routed = router.stream("general", HI, on_notice=notices.append)
    assert routed.route.model.model_id == active.model_id
    assert collect(routed) == "from b"
    assert routed.route.model.model_id == other.model_id and routed.route.via == "other"
    assert chat_models(b) == ["mistral"] and chat_models(tiny) == []
    (notice,) = notices
    assert "llama3" in notice and "retrying with mistral" in notice and "\n" not in notice
    assert real_registry.get_model(active.model_id).is_available is False
    # the next request goes straight to b: the failure is remembered for the TTL
    assert router.route("general").model.model_id == other.model_id


def test_model_missing_404_fails_over(two, real_registry):
    router, a, b, tiny, active, other = two
    a.remove_model("llama3")
    route, message = ask(router, "general", HI)
    assert route.model.model_id == other.model_id and message.content
    assert chat_models(a) == ["llama3"] and chat_models(b) == ["mistral"]
    assert real_registry.get_model(active.model_id).is_available is False


def test_failover_reaches_the_fallback(real_registry, ollama_servers):
    a, tiny = ollama_servers(2)
    a.add_model("llama3")
    tiny.add_model("tinyllama")
    real_registry.add_model("general", a.url, "llama3")
    router = make_router(real_registry, tiny.url)
    router.route("general")
    a.mode = "down"
    route, message = ask(router, "general", HI)
    assert (route.via, route.model.model_name) == ("fallback", "tinyllama")
    assert chat_models(tiny) == ["tinyllama"]


def test_retries_once_only(two, real_registry):
    router, a, b, tiny, active, other = two
    assert router.checker.check(other).is_available  # b is known good, so failover picks it
    a.mode = "down"
    b.mode = "down"
    with pytest.raises(OllamaUnreachable, match="mistral"):
        collect(router.stream("general", HI))
    assert chat_models(tiny) == []  # one retry, not two
    assert real_registry.get_model(other.model_id).is_available is False


def test_no_model_left_after_failover_raises_the_failure(real_registry, ollama_servers, dead_url):
    (a,) = ollama_servers(1)
    a.add_model("llama3")
    real_registry.add_model("general", a.url, "llama3")
    router = make_router(real_registry, dead_url)
    router.route("general")
    a.mode = "down"
    with pytest.raises(OllamaUnreachable, match="ollama serve"):
        ask(router, "general", HI)


def test_hang_before_any_output_fails_over_at_the_models_timeout(two, real_registry):
    """No first token within the timeout is a model that cannot answer now, like a refused
    connection: the next model down the chain is asked (once)."""
    router, a, b, tiny, active, other = two
    a.chat_mode = "hang"
    b.reply("from b")
    notices = []
    assert collect(router.stream("general", HI, on_notice=notices.append)) == "from b"
    assert chat_models(b) == ["mistral"] and chat_models(tiny) == []
    assert "no answer within its timeout" in notices[0]
    assert real_registry.get_model(active.model_id).is_available is False


def test_hang_of_both_ends_at_the_timeouts_with_one_retry(two):
    router, a, b, tiny, active, other = two
    assert router.checker.check(other).is_available
    a.chat_mode = b.chat_mode = "hang"
    with pytest.raises(ModelTimedOut, match="timeout of 1 s"):
        collect(router.stream("general", HI))
    assert chat_models(b) == ["mistral"] and chat_models(tiny) == []  # one retry, not two


def test_stream_broken_after_output_is_not_retried(two):
    router, a, b, tiny, active, other = two
    a.reply("one two three four")
    a.chat_mode = "die_mid_stream"
    shown = []
    with pytest.raises(StreamBroken, match="incomplete"):
        for chunk in router.stream("general", HI):
            shown.append(chunk.content)
    assert "".join(shown) == "one two "
    assert chat_models(b) == [] and chat_models(tiny) == []


def test_timeout_after_output_began_is_a_broken_stream(two):
    router, a, b, tiny, active, other = two
    a.reply("slow words here")
    a.chat_mode = "slow"
    a.delay = 1.5  # more than the model's 1 s timeout, between chunks
    with pytest.raises(StreamBroken):
        collect(router.stream("general", HI))
    assert chat_models(b) == []


def test_server_error_is_reported_not_failed_over(two):
    router, a, b, tiny, active, other = two
    a.chat_mode = "error_500"
    with pytest.raises(OllamaServerError, match="HTTP 500"):
        ask(router, "general", HI)
    assert chat_models(b) == []


def test_empty_stream_is_a_server_error(two):
    router, a, b, tiny, active, other = two
    a.chat_mode = "empty_stream"
    with pytest.raises(OllamaServerError, match="empty answer"):
        ask(router, "general", HI)


def test_no_model_raises_the_seed_warning(real_registry, dead_url):
    router = make_router(real_registry, dead_url)
    with pytest.raises(NoModelAvailable) as caught:
        ask(router, "coder", HI)
    assert str(caught.value) == "⚠ No coder model available. Use '/model coder add' to configure a model."


def test_model_missing_message_when_no_failover_left(real_registry, ollama_server, dead_url):
    ollama_server.add_model("llama3")
    real_registry.add_model("general", ollama_server.url, "llama3")
    router = make_router(real_registry, dead_url)
    router.route("general")
    ollama_server.remove_model("llama3")
    with pytest.raises(ModelNotPulled, match="ollama pull llama3"):
        ask(router, "general", HI)


def test_coder_failover_to_the_general_route(real_registry, ollama_servers):
    c, g, tiny = ollama_servers(3)
    c.add_model("qwen-coder")
    g.add_model("llama3")
    real_registry.add_model("coder", c.url, "qwen-coder")
    real_registry.add_model("general", g.url, "llama3")
    router = make_router(real_registry, tiny.url)
    router.route("coder")
    c.mode = "down"
    notices = []
    routed = router.stream("coder", HI, on_notice=notices.append)
    assert collect(routed)
    assert (routed.route.via, routed.route.model.model_name) == ("general", "llama3")
    assert chat_models(g) == ["llama3"] and len(notices) == 1


def test_tools_reach_a_model_that_supports_them(real_registry, ollama_server):
    ollama_server.add_model("qwen-coder", capabilities=("completion", "tools"))
    real_registry.add_model("coder", ollama_server.url, "qwen-coder")
    ollama_server.reply_tool_call("read_file", {"path": "a.py"})
    router = make_router(real_registry, ollama_server.url)
    route, message = ask(router, "coder", HI, tools=[READ_FILE_TOOL])
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("read_file", {"path": "a.py"})]
    assert ollama_server.chat_requests[0].body["tools"][0]["function"]["name"] == "read_file"


def test_no_tools_for_a_model_without_tool_support(real_registry, ollama_server):
    ollama_server.add_model("llama3", capabilities=("completion",))
    real_registry.add_model("general", ollama_server.url, "llama3")
    router = make_router(real_registry, ollama_server.url)
    routed = router.stream("coder", HI, tools=[READ_FILE_TOOL])
    assert collect(routed)
    assert routed.route.via == "general" and routed.uses_tools is False
    assert not ollama_server.chat_requests[0].body.get("tools")


def test_a_stream_is_iterated_once(two):
    router = two[0]
    routed = router.stream("general", HI)
    collect(routed)
    with pytest.raises(RuntimeError):
        iter(routed)


def test_what_chatollama_raises_is_classified(ollama_server, dead_url, silent_url):
    """The table in router/failures.py, checked against the real client."""
    from langchain_ollama import ChatOllama

    from router import failures

    ollama_server.add_model("llama3")

    def raised(url, model="llama3"):
        try:
            ChatOllama(base_url=url, model=model, client_kwargs={"timeout": 1}).invoke("hi")
        except Exception as exc:  # noqa: BLE001
            return failures.classify(exc)
        raise AssertionError("no exception")

    assert raised(dead_url) is failures.UNREACHABLE
    assert raised(silent_url) is failures.CONNECT_TIMEOUT
    assert raised(ollama_server.url, "missing") is failures.MODEL_MISSING
    ollama_server.chat_mode = "hang"
    assert raised(ollama_server.url) is failures.TIMED_OUT
    ollama_server.chat_mode = "error_500"
    assert raised(ollama_server.url) is failures.SERVER_ERROR
    ollama_server.chat_mode = "die_mid_stream"
    assert raised(ollama_server.url) is failures.DROPPED
    ollama_server.chat_mode = "empty_stream"
    assert raised(ollama_server.url) is failures.EMPTY_REPLY
    assert failures.classify(KeyError("a bug")) is None

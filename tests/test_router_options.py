"""Per-request Ollama options and a per-request model (`-o`, `-m`) through the real ChatOllama
to the Ollama-protocol test server: what the server received, and the option table's checks."""

import pytest

from ollama_fixtures import ollama_servers  # noqa: F401
from registry.errors import InvalidInput
from router.options import OPTIONS, checked_options, format_options, parse_options
from router_helpers import chat_models, make_router, two_general_models, ask

HI = [("user", "hi")]


@pytest.fixture
def two(real_registry, ollama_servers):
    a, b, tiny, active, other = two_general_models(real_registry, ollama_servers, timeout=2)
    return make_router(real_registry, tiny.url), a, b, active, other


def test_options_reach_the_server_as_ollama_options(two):
    router, a, b, active, other = two
    options = parse_options([("temperature", "0.2"), ("seed", "7"), ("num_ctx", "2048"),
                             ("stop", "###"), ("stop", "END"), ("top_k", "5")])
    ask(router, "general", HI, options=options)
    sent = a.chat_requests[-1].body["options"]
    assert sent["temperature"] == 0.2 and sent["seed"] == 7 and sent["num_ctx"] == 2048
    assert sent["stop"] == ["###", "END"] and sent["top_k"] == 5


def test_requests_without_options_send_none_and_do_not_reuse_the_optioned_client(two):
    router, a, *_ = two
    ask(router, "general", HI, options={"temperature": 0.1})
    ask(router, "general", HI)
    ask(router, "general", HI, options={"temperature": 0.9})
    first, plain, third = (r.body.get("options") or {} for r in a.chat_requests)
    assert first.get("temperature") == 0.1
    assert "temperature" not in plain
    assert third.get("temperature") == 0.9


def test_a_requested_model_bypasses_the_active_one(two):
    router, a, b, active, other = two
    route, _ = ask(router, "general", HI, model_id=other.model_id)
    assert chat_models(b) == ["mistral"] and chat_models(a) == []
    assert route.model.model_id == other.model_id


def test_a_requested_model_that_is_down_fails_over_with_a_notice(two):
    router, a, b, active, other = two
    b.mode = "down"
    notices = []
    routed = router.stream("general", HI, model_id=other.model_id, on_notice=notices.append)
    assert "".join(c.content for c in routed)
    assert chat_models(a) == ["llama3"]
    # probed down before the request: the route's own notice says which model answers and why
    assert routed.route.via == "other" and notices == []
    assert "Using llama3" in routed.route.notice and "mistral" in routed.route.notice


def test_a_requested_model_failing_at_call_time_fails_over_with_a_notice(two):
    router, a, b, active, other = two
    router.route("general", model_id=other.model_id)  # probed fine: the failure comes later
    b.mode = "down"
    notices = []
    routed = router.stream("general", HI, model_id=other.model_id, on_notice=notices.append)
    assert "".join(c.content for c in routed)
    assert chat_models(a) == ["llama3"]
    (notice,) = notices
    assert "mistral" in notice and "retrying with llama3" in notice


@pytest.mark.parametrize("key,value,words", [
    ("temprature", "1", "Unknown option 'temprature'"),
    ("temperature", "hot", "takes a number"),
    ("seed", "1.5", "takes a whole number"),
    ("num_ctx", "0", "at least 1"),
    ("top_p", "nan", "takes a number"),
])
def test_bad_options_are_refused_in_one_line(key, value, words):
    with pytest.raises(InvalidInput) as caught:
        parse_options([(key, value)])
    assert words in caught.value.message and "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_options_on_top_of_defaults_and_back_from_storage():
    base = {"temperature": 0.5, "stop": ["a"]}
    merged = parse_options([("stop", "b"), ("TOP-P", "0.9")], base)
    assert merged == {"temperature": 0.5, "stop": ["b"], "top_p": 0.9}
    assert base == {"temperature": 0.5, "stop": ["a"]}
    assert checked_options({"temperature": "0.3", "bogus": 1, "seed": "x"}) == {"temperature": 0.3}
    assert format_options(merged) == "temperature=0.5 stop=b top_p=0.9"


def test_every_option_is_a_chat_ollama_field():
    from langchain_ollama import ChatOllama

    fields = set(ChatOllama.model_fields)
    in_options = {name for name, option in OPTIONS.items() if option.field is None}
    # ChatOllama sends a given `options` dict as it is, so min_p (no field of its own) reaches
    # Ollama too; keep_alive and think are request fields, sent through ChatOllama's keywords.
    assert in_options - fields == {"min_p"}
    assert {option.field for option in OPTIONS.values() if option.field} <= fields

"""The gateway's pure parts: request checking, answer shapes, listings and the access rule."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from agent.relay import Relayed, RelayedMessage, resolve_target
from registry.answer_log import AnswerRecord
from registry.errors import InvalidInput, UnknownModel
from registry.model import ModelConfig
from ui.gateway import listing, ollama_shapes, openai_shapes
from ui.security import Policy, basic_password, refusal

ADDED = datetime(2026, 1, 2, tzinfo=timezone.utc)


def entry(model_id, name, url, model_type="general"):
    return ModelConfig(model_id=model_id, model_type=model_type, url=url, model_name=name,
                       timeout=30, is_active=False, added_at=ADDED)


BOXES = [entry("model_aaaa1111", "llama3", "http://127.0.0.1:1"),
         entry("model_bbbb2222", "llama3:latest", "http://127.0.0.1:2"),
         entry("model_cccc3333", "qwen2.5-coder:7b", "http://127.0.0.1:1", "coder")]


def test_replicas_are_one_name_to_a_client_and_digests_never_collide():
    reported = {"http://127.0.0.1:2": [{"model": "llama3:latest", "size": 5, "digest": "d" * 64,
                                        "details": {"family": "llama"}}]}
    tags = listing.tags(BOXES, reported)
    assert [t["name"] for t in tags] == ["llama3:latest", "qwen2.5-coder:7b"]
    assert tags[0]["size"] == 5 and tags[0]["details"] == {"family": "llama"}
    assert tags[1]["digest"] and tags[1]["digest"] != tags[0]["digest"]
    assert [m["id"] for m in listing.openai_models(BOXES)] == ["llama3:latest", "qwen2.5-coder:7b"]
    assert listing.loaded(BOXES, {"http://127.0.0.1:1": [{"model": "qwen2.5-coder:7b"}]}) == [
        {"model": "qwen2.5-coder:7b", "name": "qwen2.5-coder:7b"}]


def test_a_model_field_resolves_like_dash_m_or_names_a_request_type():
    assert resolve_target(BOXES, "coder").request_type == "coder"
    target = resolve_target(BOXES, "qwen2.5-coder:7b")
    assert (target.request_type, target.model_key) == ("coder", "model_cccc3333")
    assert resolve_target(BOXES, "llama3@127.0.0.1:2").model_key == "model_bbbb2222@"
    with pytest.raises(UnknownModel):
        resolve_target(BOXES, "gpt-4o")
    with pytest.raises(InvalidInput):
        resolve_target(BOXES, " ")


def test_ollama_chat_call_keeps_request_fields_as_options():
    call = ollama_shapes.chat_call({
        "model": "llama3", "stream": False, "format": "json", "keep_alive": "5m", "think": True,
        "options": {"temperature": 0.1}, "messages": [
            {"role": "user", "content": "x", "images": ["aGk="]},
            {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "f", "arguments": {"a": 1}}}]},
            {"role": "tool", "content": "42"}]})
    assert call.options == {"temperature": 0.1, "format": "json", "keep_alive": "5m",
                            "think": True}
    assert call.stream is False and call.messages[0].images == ("aGk=",)
    assert call.messages[1].tool_calls == ({"id": None, "name": "f", "args": {"a": 1}},)


def test_final_chunk_numbers_come_from_the_server_else_from_what_ai_cli_measured():
    record = AnswerRecord("model_aaaa1111", "llama3", "http://127.0.0.1:1", "active",
                          input_tokens=9, output_tokens=3, total_ms=120)
    measured = ollama_shapes.final_numbers({}, record)
    assert (measured["prompt_eval_count"], measured["eval_count"], measured["total_duration"]) \
        == (9, 3, 120_000_000)
    served = ollama_shapes.final_numbers({"eval_count": 4, "done_reason": "length"}, record)
    assert (served["eval_count"], served["done_reason"]) == (4, "length")
    done = ollama_shapes.chat_done("llama3", Relayed(text="hi", final={"eval_count": 1}), None,
                                   whole=True)
    assert done["done"] is True and done["message"] == {"role": "assistant", "content": "hi"}


def test_openai_call_maps_fields_to_ollama_options():
    call = openai_shapes.completion_call({
        "model": "llama3", "stream": True, "stream_options": {"include_usage": True},
        "temperature": 0.5, "max_tokens": 10, "stop": "###", "seed": 1,
        "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
        "messages": [{"role": "developer", "content": "be brief"},
                     {"role": "user", "content": [{"type": "text", "text": "what"},
                                                  {"type": "image_url", "image_url": {
                                                      "url": "data:image/png;base64,aGk="}}]},
                     {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                      "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
                     {"role": "tool", "tool_call_id": "c1", "content": "2"}]})
    assert call.options == {"temperature": 0.5, "num_predict": 10, "stop": ["###"], "seed": 1,
                            "format": {"type": "object"}}
    assert call.messages[0] == RelayedMessage("system", "be brief")
    assert call.messages[1].images == ("aGk=",) and call.messages[1].content == "what"
    assert call.messages[2].tool_calls == ({"id": "c1", "name": "f", "args": {"a": 1}},)
    assert call.messages[3].tool_call_id == "c1" and call.include_usage
    with pytest.raises(InvalidInput, match="arguments is not JSON"):
        openai_shapes.completion_call({"model": "m", "messages": [{"role": "assistant",
                                       "tool_calls": [{"function": {"name": "f",
                                                                    "arguments": "{oops"}}]}]})


def test_openai_answer_shapes():
    relayed = Relayed(text="", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c9"}],
                      final={"prompt_eval_count": 5, "eval_count": 2})
    whole = openai_shapes.completion("chatcmpl-1", "llama3", relayed)
    assert whole["choices"][0]["finish_reason"] == "tool_calls"
    assert whole["choices"][0]["message"]["tool_calls"][0]["function"] == {
        "name": "f", "arguments": "{\"a\": 1}"}
    assert whole["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    last = openai_shapes.last_chunks("chatcmpl-1", "llama3", relayed, include_usage=True)
    assert last[0]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
    assert last[1]["choices"][0]["finish_reason"] == "tool_calls"
    assert last[2]["choices"] == [] and last[2]["usage"]["total_tokens"] == 7


GATEWAY = {"host": "127.0.0.1:8765"}


def test_the_gateway_is_open_on_loopback_only_and_only_without_gateway_auth():
    assert refusal("GET", "/api/tags", GATEWAY, Policy("127.0.0.1", 8765, "t")) is None
    assert refusal("GET", "/models", GATEWAY, Policy("127.0.0.1", 8765, "t"))[0] == 401
    assert refusal("GET", "/api/tags", GATEWAY,
                   Policy("127.0.0.1", 8765, "t", gateway_auth=True))[0] == 401
    assert refusal("GET", "/v1/models", GATEWAY, Policy("0.0.0.0", 8765, "t"))[0] == 401
    basic = "Basic " + base64.b64encode(b"anyone:t").decode()
    assert refusal("GET", "/v1/models", {**GATEWAY, "authorization": basic},
                   Policy("0.0.0.0", 8765, "t")) is None
    assert refusal("GET", "/models", {**GATEWAY, "authorization": basic},
                   Policy("0.0.0.0", 8765, "t"))[0] == 401  # basic auth is the gateway's only


def test_basic_password():
    assert basic_password(base64.b64encode(b"u:p:q").decode()) == "p:q"
    assert basic_password(base64.b64encode(b"nocolon").decode()) is None
    assert basic_password("%%%") is None

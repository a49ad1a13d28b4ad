"""The test server's model of a real box, used by the balancing tests and the bench: parallel
slots with a queue, 503 "server busy" when the queue is full, 400 on demand, GET /api/ps, a
digest per model in /api/tags. Driven over real HTTP (httpx); no timed assertions."""

from __future__ import annotations

import threading
import time

import httpx

from ollama_server import BUSY_ERROR, OllamaTestServer

BOUND_S = 30.0


def chat(server, results: list) -> None:
    response = httpx.post(server.url + "/api/chat", timeout=BOUND_S, json={
        "model": "llama3", "messages": [{"role": "user", "content": "hi"}], "stream": False})
    results.append(response.status_code)


def poll(condition) -> bool:
    deadline = time.monotonic() + BOUND_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_requests_beyond_the_slots_wait_in_the_queue_then_503_when_it_is_full():
    with OllamaTestServer() as server:
        server.add_model("llama3")
        server.parallel, server.max_queue, server.held = 1, 1, True
        results: list = []
        first = threading.Thread(target=chat, args=(server, results))
        first.start()
        assert poll(lambda: server.in_slots == 1)
        second = threading.Thread(target=chat, args=(server, results))
        second.start()
        assert poll(lambda: server.queued == 1)
        third = httpx.post(server.url + "/api/chat", json={
            "model": "llama3", "messages": [{"role": "user", "content": "hi"}]})
        assert (third.status_code, third.json()["error"]) == (503, BUSY_ERROR)
        server.held = False
        first.join(BOUND_S)
        second.join(BOUND_S)
        assert results == [200, 200] and (server.in_slots, server.queued) == (0, 0)


def test_busy_and_bad_request_modes():
    with OllamaTestServer() as server:
        server.add_model("llama3")
        body = {"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}
        server.chat_mode = "busy"
        assert httpx.post(server.url + "/api/chat", json=body).status_code == 503
        server.chat_mode = "bad_request"
        assert httpx.post(server.url + "/api/chat", json=body).status_code == 400
        server.chat_mode = None
        assert httpx.post(server.url + "/api/chat", json={**body, "stream": False}) \
            .status_code == 200


def test_ps_lists_the_loaded_models_and_tags_carry_a_digest_per_model():
    with OllamaTestServer() as server:
        server.add_model("llama3")
        server.add_model("mistral:7b", digest="ab" * 32)
        ps = httpx.get(server.url + "/api/ps").json()["models"]
        assert {m["name"] for m in ps} == {"llama3:latest", "mistral:7b"}
        server.loaded = {"mistral:7b"}
        assert [m["name"] for m in httpx.get(server.url + "/api/ps").json()["models"]] == [
            "mistral:7b"]
        tags = {m["name"]: m["digest"] for m in httpx.get(server.url + "/api/tags").json()["models"]}
        assert tags["mistral:7b"] == "ab" * 32
        assert len(tags["llama3:latest"]) == 64 and tags["llama3:latest"] != tags["mistral:7b"]
        with OllamaTestServer() as other:  # the same model elsewhere: the same digest
            other.add_model("llama3")
            theirs = httpx.get(other.url + "/api/tags").json()["models"][0]["digest"]
            assert theirs == tags["llama3:latest"]

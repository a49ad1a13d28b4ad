"""Who may use the gateway, and what it does with bad input and a client that leaves: real uvicorn,
real Redis, the Ollama test server behind it."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from test_gateway_clients import register
from web_support import TEST_TOKEN, start_web

pytestmark = pytest.mark.process

HI = {"model": "llama3", "stream": False, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def served(cli, ollama_server):
    register(cli, ollama_server)
    server = start_web(cli)
    yield server, ollama_server
    server.stop()


def test_on_loopback_the_gateway_needs_no_token_but_management_still_does(served):
    web, box = served
    box.reply("hello")
    assert httpx.post(web.url + "/api/chat", json=HI).status_code == 200
    assert httpx.get(web.url + "/v1/models").status_code == 200
    assert httpx.get(web.url + "/models").status_code == 401  # the registry's own routes


def test_gateway_auth_asks_for_the_token_as_bearer_or_basic_password(cli, ollama_server,
                                                                     monkeypatch):
    register(cli, ollama_server)
    cli.write_config(serve={"gateway_auth": True})
    web = start_web(cli)
    try:
        assert httpx.get(web.url + "/api/tags").status_code == 401
        assert httpx.get(web.url + "/api/tags",
                         headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(web.url + "/api/tags",
                         headers={"Authorization": f"Bearer {TEST_TOKEN}"}).status_code == 200
        basic = base64.b64encode(f"me:{TEST_TOKEN}".encode()).decode()
        assert httpx.get(web.url + "/api/tags",
                         headers={"Authorization": f"Basic {basic}"}).status_code == 200
        in_url = web.url.replace("http://", f"http://user:{TEST_TOKEN}@")  # basic auth (curl, httpx)
        assert httpx.get(in_url + "/api/tags").status_code == 200
        import ollama  # the ollama client sends OLLAMA_API_KEY as a bearer token

        monkeypatch.setenv("OLLAMA_API_KEY", TEST_TOKEN)
        assert "llama3:latest" in [m.model for m in ollama.Client(host=web.url).list().models]
    finally:
        web.stop()


def test_curl_as_ollamas_docs_show_it_is_answered(served):
    web, box = served
    box.reply("hi")  # `curl URL/api/chat -d '{...}'` sends a form's content type and no Origin
    response = httpx.post(web.url + "/api/chat", content=json.dumps(HI),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.json()["message"]["content"] == "hi"


def test_browsers_are_still_held_off(served):
    web, box = served
    cross = httpx.post(web.url + "/api/chat", json=HI, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    foreign = httpx.post(web.url + "/v1/chat/completions", json=HI,
                         headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    form = httpx.post(web.url + "/api/chat", content=json.dumps(HI),  # a form on a foreign page
                      headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert form.status_code == 403
    own_page = httpx.post(web.url + "/api/chat", content=json.dumps(HI),
                          headers={"Content-Type": "text/plain", "Origin": web.url})
    assert own_page.status_code == 415
    rebound = httpx.get(web.url + "/api/tags", headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    assert box.chat_requests == []


@pytest.mark.parametrize("body, words", [
    ({"model": "llama3", "messages": "hi"}, '"messages" must be a list'),
    ({"model": "llama3", "messages": [{"role": "robot", "content": "x"}]}, "role must be"),
    ({"model": "llama3", "messages": [{"role": "user", "content": "x", "images": ["%%%"]}]},
     "not valid base64"),
    ({"model": "llama3", "messages": [], "think": 3}, '"think" must be'),
    ({"model": "llama3", "messages": [], "options": [1]}, '"options" must be an object'),
    ({"model": "", "messages": []}, "names no model"),
])
def test_a_bad_ollama_request_is_one_line_and_asks_nothing(served, body, words):
    web, box = served
    response = httpx.post(web.url + "/api/chat", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"} and words in response.json()["error"]
    assert box.chat_requests == []


@pytest.mark.parametrize("body, words", [
    ({"model": "llama3", "messages": []}, "non-empty list"),
    ({"model": "llama3", "messages": [{"role": "user", "content": [{"type": "image_url",
      "image_url": {"url": "http://127.0.0.1:1/x.png"}}]}]}, "data URLs"),
    ({"model": "llama3", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
     '"temperature" must be a number'),
    ({"messages": [{"role": "user", "content": "x"}]}, '"model" is required'),
])
def test_a_bad_openai_request_is_an_error_object(served, body, words):
    web, box = served
    response = httpx.post(web.url + "/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and words in error["message"]
    assert box.chat_requests == []


def test_a_client_that_leaves_stops_the_request_to_the_box(served):
    web, box = served
    box.reply(*[f"w{i} " for i in range(400)])
    box.chat_mode, box.delay = "slow", 0.05  # twenty seconds in all: far longer than the wait
    with httpx.stream("POST", web.url + "/api/chat",
                      json={**HI, "stream": True}) as response:
        first = json.loads(next(response.iter_lines()))
        assert first["message"]["content"] == "w0 " and first["done"] is False
    deadline = time.monotonic() + 15
    while box.streams_cut == 0:  # the gateway closed its own request to the box
        assert time.monotonic() < deadline, "the box kept generating for a client that left"
        time.sleep(0.05)


def test_the_clients_own_num_ctx_wins(served):
    web, box = served
    box.reply("ok")
    httpx.post(web.url + "/api/chat", json={**HI, "options": {"num_ctx": 2048}})
    assert box.chat_requests[-1].body["options"]["num_ctx"] == 2048
    box.reply("ok")
    httpx.post(web.url + "/api/chat", json=HI)
    assert box.chat_requests[-1].body["options"]["num_ctx"] != 2048  # the entry's own


def test_when_no_box_answers_it_is_a_503_with_the_chains_reason(served):
    web, box = served
    box.mode = "down"
    response = httpx.post(web.url + "/api/chat", json=HI)
    assert response.status_code == 503, response.text
    assert "llama3" in response.json()["error"]
    openai_style = httpx.post(web.url + "/v1/chat/completions", json=HI)
    assert openai_style.status_code == 503
    assert openai_style.json()["error"]["type"] == "service_unavailable"


def test_an_empty_chat_or_generate_loads_the_model_as_ollama_does(served):
    web, box = served
    box.loaded, box.load_time = set(), 0.01  # not in memory yet
    for path, body in (("/api/chat", {"model": "llama3", "messages": [], "stream": False}),
                       ("/api/generate", {"model": "llama3", "prompt": "", "stream": False}),
                       ("/api/chat", {"model": "llama3", "keep_alive": 0, "stream": False})):
        answer = httpx.post(web.url + path, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["done"] is True
        assert answer.json()["done_reason"] == ("unload" if "keep_alive" in body else "load")
        assert answer.json().get("message", {}).get("content", "") == ""
        assert answer.json().get("response", "") == ""
    assert [r.body["messages"] for r in box.chat_requests] == [[], [], []]  # nothing generated
    assert box.chat_requests[-1].body["keep_alive"] == 0
    assert "llama3:latest" in box.loaded

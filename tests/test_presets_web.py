"""Presets over HTTP: `GET/POST /presets`, `DELETE /presets/{name}`, `"preset"` on `POST /chat`
and `POST /code` (checked on what the Ollama test server received), and preset changes on
`/events` — a real uvicorn, a real Redis, the real `ai-cli` beside it."""

from __future__ import annotations

import json

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import api, read_events, web  # noqa: F401

pytestmark = pytest.mark.process


def add_model(api, server, name="llama3", model_type="general"):
    server.add_model(name)
    response = api.post(f"/models/{model_type}", json={"url": server.url, "model_name": name})
    assert response.status_code == 201, response.text
    return response.json()


def test_add_list_remove_and_refusals(api, ollama_server, cli):
    add_model(api, ollama_server)
    response = api.post("/presets", json={"name": "terse", "system": "Be terse.",
                                          "options": {"temperature": 0.3, "think": False},
                                          "requires": ["tools"], "model": "llama3"})
    assert response.status_code == 201, response.text
    assert response.json()["options"] == {"temperature": 0.3, "think": False}
    listed = {p["name"]: p for p in api.get("/presets").json()}
    assert listed["terse"]["problem"] is None
    shell = {p["name"] for p in cli.json("preset", "list")}  # its start adds the shipped three
    assert shell == {p["name"] for p in api.get("/presets").json()} >= {"terse"}  # one store
    for body, status, fragment in (
        ({"name": "llama3"}, 400, "registered model"),
        ({"name": "x", "options": {"warmth": 1}}, 400, "Unknown option"),
        ({"name": "bad name"}, 400, "not a preset name"),
        ({"name": "x", "model": "nope"}, 404, "nope"),
        ({"name": "x", "colour": "red"}, 400, ""),
    ):
        refused = api.post("/presets", json=body)
        assert refused.status_code == status, (body, refused.text)
        assert fragment in refused.json()["error"]
    assert "x" not in {p["name"] for p in api.get("/presets").json()}
    assert api.delete("/presets/terse").json()["name"] == "terse"
    assert api.delete("/presets/terse").status_code == 404


def test_chat_and_code_through_a_preset(api, ollama_server):
    add_model(api, ollama_server, "llama3")
    add_model(api, ollama_server, "mistral")  # now the active general model
    api.post("/presets", json={"name": "p", "model": "llama3", "system": "preset system",
                               "options": {"temperature": 0.1, "top_k": 5}})
    ollama_server.reply("hi")
    with api.stream("POST", "/chat", json={"message": "q", "preset": "p",
                                           "options": {"top_k": 9}}) as response:
        assert response.status_code == 200
        events = read_events(response)
    assert events[-1][0] == "done"
    body = ollama_server.chat_requests[-1].body
    assert body["model"] == "llama3"
    assert body["messages"][0] == {"role": "system", "content": "preset system"}
    assert body["options"]["temperature"] == 0.1 and body["options"]["top_k"] == 9
    missing = api.post("/chat", json={"message": "q", "preset": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_preset_changes_reach_events(web, api):
    with web.client() as client, client.stream("GET", "/events", timeout=10) as response:
        lines = response.iter_lines()
        for line in lines:
            if line == ": subscribed":
                break
        assert api.post("/presets", json={"name": "live"}).status_code == 201
        assert api.delete("/presets/live").status_code == 200
        seen, event = [], None
        for line in lines:
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "models":
                seen.append(json.loads(line[5:]))
                if len(seen) == 2:
                    break
    assert seen == [{"event": "preset_added", "name": "live"},
                    {"event": "preset_removed", "name": "live"}]
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/presets", "/presets/{name}"} <= set(paths)

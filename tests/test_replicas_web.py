"""Model names in the web API, as `-m` takes them: `POST /chat`'s `model_id` may be a name on
several hosts or `name@host`; `DELETE /models/{name}` of a model on several hosts asks for one."""

from __future__ import annotations

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import api, read_events, start_web, web  # noqa: F401


def add(api, server, name="llama3.1:8b"):
    response = api.post("/models/general", json={"url": server.url, "model_name": name})
    assert response.status_code == 201, response.text
    return response.json()


def host(server) -> str:
    return server.url.split("://", 1)[1]


def test_chat_and_remove_by_name_and_name_at_host(api, ollama_servers):
    a, b = ollama_servers(2)
    for server in (a, b):
        server.add_model("llama3.1:8b")
        server.reply("hello")
    first = add(api, a)
    second = add(api, b)
    assert second["hosts"] == 2 and "already" not in second
    again = api.post("/models/general", json={"url": b.url, "model_name": "llama3.1:8b"})
    assert again.json()["already"] is True and again.json()["model_id"] == second["model_id"]
    with api.stream("POST", "/chat", json={"message": "hi",
                                           "model_id": f"llama3.1:8b@{host(b)}"}) as response:
        events = read_events(response)
    assert events[0][1]["model"]["model_id"] == second["model_id"]
    with api.stream("POST", "/chat", json={"message": "hi", "model_id": "llama3.1"}) as response:
        events = read_events(response)
    assert events[-1][0] == "done"
    refused = api.delete("/models/llama3.1:8b")
    assert refused.status_code == 400 and "served by 2 hosts" in refused.json()["error"]
    assert len(api.get("/models").json()) == 2
    removed = api.delete(f"/models/llama3.1:8b@{host(a)}")
    assert removed.status_code == 200 and removed.json()["model_id"] == first["model_id"]

"""`GET /models/stats` is `ai-cli model stats --json`, through a real uvicorn, a real Redis and
the Ollama-protocol test server; the page draws it."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import api, web  # noqa: F401

pytestmark = pytest.mark.process


def test_the_stats_route_answers_what_model_stats_json_prints(cli, api, ollama_server):
    ollama_server.add_model("llama3")
    added = api.post("/models/general", json={"url": ollama_server.url, "model_name": "llama3",
                                              "num_ctx": 2048, "parallel": 2})
    assert added.status_code == 201 and (added.json()["num_ctx"], added.json()["parallel"]) == (
        2048, 2)
    assert api.get("/models/stats").json()["entries"] == 0
    for _ in range(2):
        assert cli.run("chat", "hello").returncode == 0
    over_http = api.get("/models/stats")
    assert over_http.status_code == 200
    stats = over_http.json()
    assert stats == cli.json("model", "stats")
    assert [m["requests"] for m in stats["models"]] == [2]
    assert stats["hosts"][0]["parallel"] == 2 and stats["hosts"][0]["success_rate"] == 1.0
    assert "/models/stats" in api.get("/openapi.json").json()["paths"]
    page_script = api.get("/static/app.js").text
    assert 'api("GET", "/models/stats")' in page_script


def test_a_bad_num_ctx_over_http_is_400_and_adds_nothing(api, ollama_server):
    ollama_server.add_model("llama3")
    refused = api.post("/models/general", json={"url": ollama_server.url, "model_name": "llama3",
                                                "num_ctx": 5})
    assert refused.status_code == 400 and "--num-ctx" in refused.json()["error"]
    assert api.get("/models").json() == []

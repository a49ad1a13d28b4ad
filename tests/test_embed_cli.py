"""`ai-cli embed` and `POST /embed` as processes against the Ollama-protocol test server."""

from __future__ import annotations

import json

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from ollama_server import embedding_of
from test_cli_support import cli  # noqa: F401
from web_support import api, web  # noqa: F401

pytestmark = pytest.mark.process


def add_embedder(cli, server):
    server.add_model("nomic-embed-text", ("embedding",))
    proc = cli.run("model", "embedding", "add", server.url, "nomic-embed-text")
    assert proc.returncode == 0, proc.stderr


def test_embed_prints_the_vector_as_json(cli, ollama_server, tmp_path):
    add_embedder(cli, ollama_server)
    proc = cli.run("embed", "hello world")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == embedding_of("hello world")
    lines = cli.run("embed", "--lines", input="one\n\ntwo\n")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == [
        embedding_of("one"), embedding_of("two")]
    text = tmp_path / "doc.txt"
    text.write_text("from a file")
    assert json.loads(cli.run("embed", "-f", str(text)).stdout) == embedding_of("from a file")
    whole = cli.json("embed", "-m", "nomic-embed-text", "x")
    assert whole["model_name"] == "nomic-embed-text" and whole["embeddings"] == [embedding_of("x")]


def test_embed_without_an_embedding_model_is_refused(cli, ollama_server):
    ollama_server.add_model("llama3.1:8b", ("completion",))
    assert cli.run("model", "general", "add", ollama_server.url, "llama3.1:8b").returncode == 0
    proc = cli.run("embed", "hello")
    assert proc.returncode == 1 and "embedding" in proc.stderr and "Traceback" not in proc.stderr
    empty = cli.run("embed", input="")
    assert empty.returncode == 2 and "Nothing to embed" in empty.stderr


def test_post_embed(api, ollama_server):
    ollama_server.add_model("nomic-embed-text", ("embedding",))
    added = api.post("/models/embedding", json={"url": ollama_server.url,
                                                 "model_name": "nomic-embed-text"})
    assert added.status_code == 201, added.text
    answer = api.post("/embed", json={"input": ["a", "b"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["embeddings"] == [embedding_of("a"), embedding_of("b")]
    bad = api.post("/embed", json={"input": ""})
    assert bad.status_code == 400 and "Nothing to embed" in bad.json()["error"]

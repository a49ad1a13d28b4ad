"""Pytest fixtures for the Ollama-protocol test server (tests/ollama_server.py).

Use them by importing into a test module (pytest picks up imported fixtures):

    from ollama_fixtures import ollama_server, ollama_servers, dead_url

    def test_chat(ollama_server):
        ollama_server.add_model("llama3")
        ollama_server.reply("Hi there")
        ...  # ChatOllama(base_url=ollama_server.url, model="llama3", ...)
        assert [r.model for r in ollama_server.chat_requests] == ["llama3"]

    def test_failover(ollama_servers):
        first, second = ollama_servers(2)       # two independent servers, stopped after the test
        first.mode = "down"

`ollama_server` is one started server with no models; `ollama_servers(n)` starts n more (call it
as often as needed); `dead_url` is a loopback URL where nothing listens (connection refused);
`silent_url` is a loopback URL whose listen queue is full, so connecting times out
(httpx.ConnectTimeout), as with a host that drops packets.
"""

from __future__ import annotations

import socket

import pytest

from ollama_server import OllamaTestServer, refused_url


@pytest.fixture
def ollama_server():
    server = OllamaTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def ollama_servers():
    started: list[OllamaTestServer] = []

    def start(count: int = 1) -> list[OllamaTestServer]:
        servers = [OllamaTestServer().start() for _ in range(count)]
        started.extend(servers)
        return servers

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def dead_url() -> str:
    return refused_url()


@pytest.fixture
def silent_url():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(5):  # fill the accept queue; further connection attempts get no answer
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}"
    for sock in fillers + [listener]:
        sock.close()

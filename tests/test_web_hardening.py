"""The web server against idle clients, other local users and other web pages, and odd input.

Against a real uvicorn, a real Redis and the Ollama test server (tests/web_support.py); the
`ai-cli serve` tests run the real command in a child process. Correctness is asserted, never a
time: the machine these run on is shared.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import PROGRAM, cli  # noqa: F401
from test_web_api import add, assert_error
from web_support import NO_AUTH, TEST_TOKEN, api, start_web, web  # noqa: F401

from ui.live import MAX_CLIENTS
from ui.limits import MAX_MODEL_CALLS
from ui.security import Policy, lone_surrogate, page_answer
from ui.web_token import token_from_file, token_problem, url_with_token

pytestmark = pytest.mark.process  # uvicorn in a thread over the test's redis; `ai-cli serve`


# --- idle /events clients ---------------------------------------------------------------------


def open_events(web, token: str | None = TEST_TOKEN) -> tuple[socket.socket, str]:
    """A raw /events request; (the socket, what it answered up to the first blank line or the
    `: subscribed` comment)."""
    host, port = web.url.rsplit("/", 1)[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: {web.host_header}\r\n{auth}\r\n".encode())
    seen = b""
    while b": subscribed" not in seen and not (b"\r\n\r\n" in seen and b" 200 " not in seen
                                                and seen.endswith(b"}")):
        chunk = sock.recv(4096)
        if not chunk:
            break
        seen += chunk
    return sock, seen.decode("latin-1")


def read_until(sock: socket.socket, text: bytes) -> bytes:
    seen = b""
    while text not in seen:
        chunk = sock.recv(4096)
        if not chunk:
            break
        seen += chunk
    return seen


def test_a_hundred_idle_event_clients_leave_the_other_routes_answering(web, api, ollama_server):
    """64 clients follow live updates; the 65th and later get a 503 saying why; meanwhile the
    model list is right, and every follower hears the change."""
    ollama_server.add_model("llama3")
    model = add(api, ollama_server)
    opened = [open_events(web) for _ in range(100)]
    try:
        following = [sock for sock, head in opened if " 200 " in head.split("\r\n", 1)[0]]
        refused = [head for sock, head in opened if " 503 " in head.split("\r\n", 1)[0]]
        assert len(following) == MAX_CLIENTS == 64
        assert len(refused) == 100 - MAX_CLIENTS
        assert all("Busy" in head and "64 pages" in head for head in refused)
        for _ in range(3):
            listed = api.get("/models")
            assert listed.status_code == 200, listed.text
            assert [m["model_id"] for m in listed.json()] == [model["model_id"]]
        assert api.get("/sessions").json() == []
        assert api.put(f"/models/{model['model_id']}/activate").status_code == 200
        removed = api.delete(f"/models/{model['model_id']}")
        assert removed.status_code == 200
        for sock in following:
            heard = read_until(sock, b'"op": "remove"')
            assert model["model_id"].encode() in heard
    finally:
        for sock, _ in opened:
            sock.close()


def test_a_client_that_left_frees_its_place(web, monkeypatch):
    import ui.routes.chat as chat_routes

    monkeypatch.setattr(chat_routes, "HEARTBEAT", 0.2)  # a write soon finds the closed socket
    opened = [open_events(web) for _ in range(MAX_CLIENTS)]
    more = []
    try:
        assert " 503 " in open_events(web)[1].split("\r\n", 1)[0]
        opened[0][0].close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sock, head = open_events(web)
            more.append(sock)
            if " 200 " in head.split("\r\n", 1)[0]:
                break
            time.sleep(0.1)
        assert " 200 " in head.split("\r\n", 1)[0], head
    finally:
        for sock in [s for s, _ in opened[1:]] + more:
            sock.close()

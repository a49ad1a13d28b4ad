"""Helpers for the web tests: `ai-cli serve`'s app on a real uvicorn on 127.0.0.1 (ephemeral port).

The server runs in a thread of the test process over the test's Redis prefix and config (the same
files the `cli` fixture gives the `ai-cli` subprocesses), so a CLI command and the web API share
one registry. Like `ai-cli serve`, it needs a token by default (`TEST_TOKEN`); `client()` sends it,
`client(auth=False)` does not. Not tests themselves.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from agent.app import App, Flags
from agent.commands import command_table
from agent.face import WEB, QuietFace
from registry.config import ConfigManager
from ui.server import web_context


TEST_TOKEN = "test-token-0123456789"
NO_AUTH = None  # start_web(token=NO_AUTH): as `ai-cli serve --no-auth`


@dataclass
class WebServer:
    url: str
    host_header: str
    server: object
    thread: threading.Thread
    app: App
    token: str | None = None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, auth: bool = True, **kwargs) -> httpx.Client:
        headers = {**(self.auth if auth else {}), **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_web(cli, *, host: str = "127.0.0.1", token: str | None = TEST_TOKEN,
              workspace: Path | None = None) -> WebServer:
    import uvicorn

    from ui.app import create_app

    config = ConfigManager.load(cli.config_path, env=cli.env)
    flags = Flags(workspace=str(workspace) if workspace else None)
    app = App(config, QuietFace(WEB), command_table(), flags)
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    web = create_app(web_context(app), host=host, port=port, token=token,
                     gateway_auth=config.gateway_auth)
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", access_log=False,
                                          timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return WebServer(f"http://{host}:{port}", f"{host}:{port}", server, thread, app, token)


@pytest.fixture
def web(cli, tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    server = start_web(cli, workspace=workspace)
    yield server
    server.stop()


@pytest.fixture
def api(web):
    with web.client() as client:
        yield client


def read_events(response, until: str | None = None, limit: int = 1000) -> list[tuple[str, object]]:
    """(event, data) pairs of a text/event-stream response, in order; comments as ("", text)."""
    events: list[tuple[str, object]] = []
    name, data = "message", []
    for line in response.iter_lines():
        if line.startswith(":"):
            events.append(("", line[1:].strip()))
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            events.append((name, json.loads("\n".join(data))))
            if name == until:
                break
            name, data = "message", []
        elif line == "" and events and events[-1][0] == "" and events[-1][1] == until:
            break
        if len(events) >= limit:
            break
    return events


def same_origin(web: WebServer) -> dict:
    return {"Origin": web.url}


__all__ = ["WebServer", "TEST_TOKEN", "NO_AUTH", "start_web", "web", "api", "read_events", "same_origin", "replace"]

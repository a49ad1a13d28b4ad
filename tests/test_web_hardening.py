"""The web server against idle clients, other local users and other web pages, and odd input.

Against a real uvicorn, a real Redis and the Ollama test server (tests/web_support.py); the
`ai-cli serve` tests run the real command in a child process. Correctness is asserted, never a
time: the machine these run on is shared.
"""

from __future__ import annotations

import json
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


# --- headers on every response ----------------------------------------------------------------


def assert_no_framing(response) -> None:
    assert response.headers["x-frame-options"] == "DENY", response.url
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_response_forbids_framing_and_sniffing(web, api):
    with web.client(auth=False) as stranger:
        answers = [
            api.get("/"), api.get("/static/app.js"), api.get("/models"), api.get("/openapi.json"),
            api.get("/no-such-route"), api.get("/chat"), api.post("/chat", json={}),
            api.get("/models", headers={"Host": "evil.example"}),
            api.get("/models", headers={"Sec-Fetch-Site": "cross-site"}),
            stranger.get("/"), stranger.get("/models"), stranger.get(f"/?token={TEST_TOKEN}"),
        ]
        with api.stream("GET", "/events") as events:
            answers.append(events)
    for response in answers:
        assert_no_framing(response)


# --- other web pages --------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_request_from_another_page_is_refused_even_with_the_token(api, site):
    for method, path in [("GET", "/models"), ("GET", "/sessions"), ("GET", "/models/status"),
                         ("GET", "/events"), ("POST", "/models/check"), ("GET", "/static/app.js")]:
        response = api.request(method, path, headers={"Sec-Fetch-Site": site})
        assert_error(response, 403, "Sec-Fetch-Site")
    assert api.get("/models", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert api.get("/models", headers={"Sec-Fetch-Site": "none"}).status_code == 200


def test_a_get_changes_nothing_and_asks_no_model_server(api, ollama_server):
    """Discovery is a POST; GET /models/status reads what is known; only POST /models/check
    probes (and records what it found)."""
    ollama_server.add_model("llama3")
    model = add(api, ollama_server)
    ollama_server.clear_requests()
    status = api.get("/models/status").json()
    assert status["routes"]["general"]["model"]["model_id"] == model["model_id"]
    assert status["routes"]["general"]["via"] == "active"
    assert ollama_server.requests == []
    assert api.get("/models/discover", params={"url": ollama_server.url}).status_code == 400
    assert ollama_server.requests == []
    assert api.post("/models/check", json={}).status_code == 200
    assert ollama_server.requests != []


def test_status_reads_what_check_found(api, ollama_server):
    ollama_server.add_model("llama3")
    model = add(api, ollama_server)
    ollama_server.mode = "down"
    assert api.get("/models/status").json()["routes"]["general"]["via"] == "active"  # as known
    checked = api.post("/models/check", json={"model_id": model["model_id"]}).json()
    assert checked[0]["is_available"] is False
    assert api.get("/models/status").json()["routes"]["general"]["via"] != "active"


# --- other accounts: the token ----------------------------------------------------------------


def test_a_client_without_the_token_is_refused_on_loopback(web, ollama_server):
    with web.client(auth=False) as stranger:
        for method, path, body in [
            ("GET", "/models", None), ("GET", "/sessions", None), ("GET", "/events", None),
            ("GET", "/models/status", None), ("GET", "/openapi.json", None),
            ("GET", "/static/app.js", None), ("POST", "/chat", {"message": "hi"}),
            ("POST", "/code", {"instruction": "x"}), ("POST", "/undo", {}),
            ("POST", "/models/general", {"url": ollama_server.url, "model_name": "llama3"}),
            ("DELETE", "/models/model_00000000", None),
        ]:
            response = stranger.request(method, path, json=body)
            assert_error(response, 401, "token")
        page = stranger.get("/")
        assert page.status_code == 401 and 'name="token"' in page.text
        assert TEST_TOKEN not in page.text
        wrong = stranger.get("/", params={"token": "guess"})
        assert wrong.status_code == 401 and "not this server" in wrong.text
    with web.client(auth=False, headers={"Authorization": "Bearer guess"}) as guesser:
        assert_error(guesser.get("/models"), 401)


def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_url(web):
    with web.client(auth=False) as browser:
        trade = browser.get("/", params={"token": TEST_TOKEN})
        assert trade.status_code == 303 and trade.headers["location"] == "/"
        cookie = trade.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/models").json() == []  # the cookie came along
        page = browser.get("/")
        assert page.status_code == 200 and TEST_TOKEN not in page.text


def test_no_auth_serves_without_a_token(cli):
    server = start_web(cli, token=NO_AUTH)
    try:
        with server.client(auth=False) as client:
            assert client.get("/models").json() == []
            assert client.get("/").status_code == 200
            assert client.get("/", params={"token": "x"}, follow_redirects=False).status_code == 303
    finally:
        server.stop()


def serve(cli, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """`ai-cli serve --port 0 ARGS`, and the line giving its address."""
    proc = subprocess.Popen([*PROGRAM, "serve", "--port", "0", *args], cwd=cli.cwd,
                            env={**cli.env, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "ai-cli web: http://127.0.0.1:" in line, (line, proc.poll())
    return proc, line.split("ai-cli web: ", 1)[1].split()[0]


def data_dir(cli) -> Path:
    return Path(cli.env["XDG_DATA_HOME"]) / "ai-cli"


def test_the_printed_address_carries_the_token_from_a_private_file(cli):
    proc, address = serve(cli)
    try:
        token_file = data_dir(cli) / "web-token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert address.endswith(f"/?token={token}") and len(token) >= 40
        base = address.split("?", 1)[0]
        assert httpx.get(base + "models", timeout=10).status_code == 401
        assert httpx.get(base + "models", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).json() == []
        with httpx.Client(timeout=10, follow_redirects=True) as browser:
            page = browser.get(address)
            assert page.status_code == 200 and str(page.url) == base
            assert browser.get(base + "sessions").json() == []
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 143  # an exit with SIGTERM's status, not a kill
    again, address_again = serve(cli)  # the same token next time
    try:
        assert address_again.split("?", 1)[1] == address.split("?", 1)[1]
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=20)


def test_no_auth_is_said_and_needs_no_token(cli):
    proc, address = serve(cli, "--no-auth")
    try:
        assert "?token=" not in address
        assert "--no-auth" in proc.stderr.readline()
        assert httpx.get(address + "models", timeout=10).json() == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert not (data_dir(cli) / "web-token").exists()


@pytest.mark.parametrize("token", [" padded", "padded\n", "tökén", "two words"])
def test_a_token_that_cannot_work_is_refused_at_start(cli, token):
    proc = cli.run("serve", "--port", "0", env={"AI_CLI_API_TOKEN": token}, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert "AI_CLI_API_TOKEN cannot be used" in proc.stderr and "Traceback" not in proc.stderr
    assert token.strip() not in proc.stderr  # a secret, even a bad one, is not printed
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_token_chosen_in_the_environment_is_never_printed(cli):
    proc, address = serve(cli, env={"AI_CLI_API_TOKEN": "my-own-s3cret"})
    try:
        assert "?token=" not in address
        notice = proc.stderr.readline()
        assert "AI_CLI_API_TOKEN" in notice and "my-own-s3cret" not in notice + address
        assert httpx.get(address + "models", headers={"Authorization": "Bearer my-own-s3cret"},
                         timeout=10).json() == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


# --- odd input --------------------------------------------------------------------------------


def test_a_lone_surrogate_is_a_400_not_a_model_server_failure(api, ollama_server):
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    ollama_server.clear_requests()
    json_type = {"Content-Type": "application/json"}
    for path, raw in [("/chat", b'{"message": "hi \\ud800"}'),
                      ("/chat", b'{"message": "hi", "system": "\\udfff"}'),
                      ("/code", b'{"instruction": "\\ud83d"}'),
                      ("/models/general", b'{"url": "http://127.0.0.1:1", "model_name": "a\\ud800"}')]:
        assert_error(api.post(path, content=raw, headers=json_type), 400, "surrogate")
    assert ollama_server.chat_requests == []
    fine = api.post("/chat", content=b'{"message": "hi \\ud83d\\ude00"}', headers=json_type)
    assert fine.status_code == 200  # a pair is one character


def test_a_request_without_a_body_needs_no_content_type(api, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.add_model("mistral")
    first = add(api, ollama_server)
    second = add(api, ollama_server, "mistral", activate=False)
    bare = {"Content-Type": ""}
    activated = api.put(f"/models/{second['model_id']}/activate", headers=bare)
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    removed = api.delete(f"/models/{first['model_id']}", headers=bare)
    assert removed.status_code == 200 and removed.json()["model_id"] == first["model_id"]
    assert api.post("/models/check", headers=bare).status_code == 200
    assert_error(api.request("PUT", f"/models/{second['model_id']}/activate", content=b"{}",
                             headers={"Content-Type": "text/plain"}), 415)


def test_chat_with_an_unknown_model_is_a_404_never_the_active_model(api, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.add_model("mistral")
    add(api, ollama_server)
    other = add(api, ollama_server, "mistral", activate=False)
    ollama_server.clear_requests()
    for unknown in ("model_deadbeef", "no-such-model"):
        assert_error(api.post("/chat", json={"message": "hi", "model_id": unknown}), 404, unknown)
    assert ollama_server.chat_requests == []
    ollama_server.reply("from mistral")
    with api.stream("POST", "/chat", json={"message": "hi", "model_id": "mistral"}) as answer:
        assert answer.status_code == 200
        text = "".join(answer.iter_text())
    done = json.loads(text.split("event: done\ndata: ", 1)[1].split("\n", 1)[0])
    assert done["model_id"] == other["model_id"]
    assert [r.body["model"] for r in ollama_server.chat_requests] == [other["model_name"]]


def test_a_wrong_method_names_the_allowed_ones(api):
    response = api.get("/chat")
    assert_error(response, 405, "GET")
    assert response.headers["allow"] == "POST"
    assert set(api.put("/models").headers["allow"].replace(" ", "").split(",")) == {"GET"}


def test_the_openapi_document_lists_the_answers_the_routes_give(api):
    schema = api.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            answers = set(operation["responses"])
            assert "422" not in answers, (method, path)
            assert {"400", "401", "403", "503"} <= answers, (method, path, answers)
            if method in ("post", "put", "delete"):
                assert {"413", "415"} <= answers, (method, path, answers)
    assert "HTTPValidationError" not in json.dumps(schema)
    assert "404" in schema["paths"]["/chat"]["post"]["responses"]
    assert "post" in schema["paths"]["/models/discover"]
    assert "get" not in schema["paths"]["/models/discover"]


def test_a_hung_model_holds_at_most_its_slots(web, api, ollama_server):
    """Eight answers wait on a model that never answers; the ninth is told the server is busy
    at once, and the rest of the API answers meanwhile."""
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    ollama_server.chat_mode = "hang"
    results: list[int] = []

    def ask():
        with web.client() as client:
            try:
                results.append(client.post("/chat", json={"message": "hi"}, timeout=60).status_code)
            except httpx.HTTPError:
                results.append(-1)

    askers = [threading.Thread(target=ask, daemon=True) for _ in range(MAX_MODEL_CALLS)]
    for thread in askers:
        thread.start()
    deadline = time.monotonic() + 60
    while len(ollama_server.chat_requests) < MAX_MODEL_CALLS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(ollama_server.chat_requests) == MAX_MODEL_CALLS
    assert_error(api.post("/chat", json={"message": "one more"}), 503, "Busy", "8 model requests")
    assert_error(api.post("/code", json={"instruction": "x"}), 503, "Busy")
    assert api.get("/models").status_code == 200
    assert api.get("/sessions").status_code == 200
    ollama_server.chat_mode = None
    ollama_server.stop()  # the hung answers end (their connections close)
    for thread in askers:
        thread.join(timeout=60)
    assert len(results) == MAX_MODEL_CALLS


def test_the_serve_terminal_shows_one_line_per_problem(cli):
    proc, address = serve(cli)
    try:
        port = int(address.split(":")[2].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
            assert b" 400 " in sock.recv(200)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    rest = proc.stderr.read()
    assert rest == "ai-cli web: warning: Invalid HTTP request received.\n"


def test_followers_hear_that_redis_went_away_and_the_next_ones_subscribe_afresh(cli, tmp_path):
    from redis_process import RedisProcess

    (tmp_path / "own-redis").mkdir()
    own = RedisProcess(tmp_path / "own-redis").start()
    cli.env["AI_CLI_REDIS_URL"] = own.url
    server = start_web(cli)
    try:
        followers = [open_events(server) for _ in range(3)]
        assert all(" 200 " in head.split("\r\n", 1)[0] for _, head in followers)
        own.stop()
        for sock, _ in followers:
            heard = read_until(sock, b"reconnecting")
            assert b"event: error" in heard and b"went away" in heard
            sock.close()
        own.start()
        sock, head = open_events(server)
        try:
            assert " 200 " in head.split("\r\n", 1)[0], head
            proc = cli.run("model", "general", "add", "http://127.0.0.1:9", "llama3", "--force")
            assert proc.returncode == 0, proc.stderr
            assert b'"op": "add"' in read_until(sock, b'"op": "add"')
        finally:
            sock.close()
    finally:
        server.stop()
        own.stop()

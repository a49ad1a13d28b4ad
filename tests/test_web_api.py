"""The HTTP API through httpx against a real uvicorn, a real Redis and the Ollama test server."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import api, read_events, start_web, web  # noqa: F401

from router.errors import NO_MODEL_WARNINGS

MODEL_KEYS = {"model_id", "model_type", "url", "model_name", "timeout", "is_active", "added_at",
              "last_checked", "is_available", "num_ctx", "parallel", "capabilities",
              "capabilities_source", "capabilities_user"}


def add(api, server, name="llama3", model_type="general", **extra):
    response = api.post(f"/models/{model_type}", json={"url": server.url, "model_name": name,
                                                        **extra})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and "Traceback" not in body["error"]
    for fragment in fragments:
        assert fragment in body["error"]
    return body["error"]


# --- models ----------------------------------------------------------------------------------


def test_add_list_get_activate_remove(api, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.add_model("mistral")
    assert api.get("/models").json() == []
    first = add(api, ollama_server, "llama3", timeout=45)
    assert set(first) == MODEL_KEYS
    assert (first["is_active"], first["timeout"], first["is_available"]) == (True, 45, True)
    second = add(api, ollama_server, "mistral", activate=False)
    assert second["is_active"] is False
    assert {m["model_id"] for m in api.get("/models").json()} == {first["model_id"],
                                                                  second["model_id"]}
    assert api.get("/models/general").json()["model_id"] == first["model_id"]

    used = api.put(f"/models/{second['model_id']}/activate", json={})
    assert used.status_code == 200 and used.json()["is_active"] is True
    assert api.get("/models/general").json()["model_id"] == second["model_id"]

    removed = api.delete(f"/models/{second['model_id']}", headers={"Content-Type": "application/json"})
    assert removed.status_code == 200 and removed.json()["model_id"] == second["model_id"]
    assert_error(api.get("/models/general"), 404, "No general model is active")
    assert_error(api.delete(f"/models/{second['model_id']}",
                            headers={"Content-Type": "application/json"}), 404, "No model")


def test_add_refusals_say_why_and_change_nothing(api, ollama_server, dead_url):
    ollama_server.add_model("other")
    assert_error(api.post("/models/general", json={"url": "ftp://x", "model_name": "a"}), 400,
                 "http://")
    assert_error(api.post("/models/general", json={"url": "file:///etc/passwd",
                                                   "model_name": "a"}), 400)
    assert_error(api.post("/models/robot", json={"url": ollama_server.url, "model_name": "a"}),
                 400, "Unknown model type")
    assert_error(api.post("/models/general", json={"url": ollama_server.url, "model_name": "a",
                                                   "timeout": 0}), 400, "timeout")
    assert_error(api.post("/models/general", json={"url": ollama_server.url}), 400, "model_name")
    assert_error(api.post("/models/general", json={"url": ollama_server.url, "model_name": "llama3"}),
                 409, "ollama pull llama3", "--force")
    assert_error(api.post("/models/general", json={"url": dead_url, "model_name": "llama3"}),
                 409, "refused")
    assert api.get("/models").json() == []
    forced = api.post("/models/general?force=true", json={"url": dead_url, "model_name": "llama3"})
    assert forced.status_code == 201 and forced.json()["is_available"] is False


def test_unknown_ids_and_wrong_types(api, ollama_server):
    ollama_server.add_model("llama3")
    assert_error(api.put("/models/model_00000000/activate", json={}), 404, "model_00000000")
    assert_error(api.get("/models/robot"), 400, "Unknown model type")
    assert_error(api.get("/models/coder"), 404, "No coder model is active")
    assert_error(api.get("/no/such/route"), 404, "/openapi.json")
    assert_error(api.patch("/models", json={}), 405)


def test_status_check_and_discover(api, ollama_server, dead_url):
    ollama_server.add_model("llama3")
    model = add(api, ollama_server)
    status = api.get("/models/status").json()
    assert status["routes"]["general"]["via"] == "active"
    assert status["routes"]["general"]["model"]["model_id"] == model["model_id"]
    assert set(status["features"]) == {"chat", "code", "code_tools"}
    rows = api.post("/models/check", json={}).json()
    assert {r["model_id"] for r in rows} >= {model["model_id"]}
    one = api.post("/models/check", json={"model_id": model["model_id"]}).json()
    assert one == [{"model_id": model["model_id"], "is_available": True, "reason": None,
                    "latency_ms": one[0]["latency_ms"]}]
    assert_error(api.post("/models/check", json={"model_id": "model_deadbeef"}), 404)
    assert api.post("/models/discover", json={"url": ollama_server.url}).json() == {
        "url": ollama_server.url, "models": ["llama3:latest"]}
    assert_error(api.post("/models/discover", json={}), 400, "url")
    assert_error(api.post("/models/discover", json={"url": "gopher://x"}), 400, "http://")
    assert api.post("/models/discover", json={"url": dead_url}).status_code in (502, 503)


def test_passwords_in_urls_are_masked(api, ollama_server):
    ollama_server.add_model("llama3")
    url = ollama_server.url.replace("http://", "http://me:s3cret@")
    model = api.post("/models/general?force=true", json={"url": url, "model_name": "llama3"})
    assert model.status_code == 201
    for body in (model.text, api.get("/models").text, api.get("/models/status").text):
        assert "s3cret" not in body and "me:***@" in body


# --- chat ------------------------------------------------------------------------------------


def test_chat_without_a_model_is_503_with_the_seed_message(api):
    response = api.post("/chat", json={"message": "hi"})
    assert_error(response, 503)
    assert response.json()["error"].startswith(NO_MODEL_WARNINGS["general"])
    assert api.get("/sessions").json() == []


def test_chat_streams_route_tokens_done_and_keeps_the_session(api, ollama_server, cli):
    ollama_server.add_model("llama3")
    model = add(api, ollama_server)
    ollama_server.reply("Hello", " from", " the web")
    with api.stream("POST", "/chat", json={"message": "hi there"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_events(response)
    names = [name for name, _ in events]
    assert names == ["route", "token", "token", "token", "done"]
    assert events[0][1]["via"] == "active" and events[0][1]["model"]["model_id"] == model["model_id"]
    assert "".join(data["text"] for name, data in events if name == "token") == "Hello from the web"
    done = events[-1][1]
    assert done["model_id"] == model["model_id"] and done["model_name"] == "llama3"
    session_id = done["session_id"]
    assert response.headers["x-session-id"] == session_id

    # The terminal continues the conversation the page started, and the page sees it.
    ollama_server.reply("Terminal answer")
    proc = cli.run("--session", session_id, "chat", "and from the terminal?")
    assert proc.returncode == 0, proc.stderr
    assert "Terminal answer" in proc.stdout
    sent = ollama_server.chat_requests[-1].body["messages"]
    assert [m["content"] for m in sent] == ["hi there", "Hello from the web",
                                            "and from the terminal?"]
    shown = api.get(f"/sessions/{session_id}").json()
    assert [m["content"] for m in shown["messages"]] == [
        "hi there", "Hello from the web", "and from the terminal?", "Terminal answer"]
    assert api.get("/sessions").json()[0]["session_id"] == session_id

    ollama_server.reply("Third")
    with api.stream("POST", "/chat", json={"message": "again", "session_id": session_id}) as again:
        assert read_events(again)[-1][1]["session_id"] == session_id
    assert len(ollama_server.chat_requests[-1].body["messages"]) == 5


def test_a_client_that_leaves_mid_answer_stops_the_model_and_keeps_what_arrived(
        api, ollama_server):
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    ollama_server.reply(*[f"w{i} " for i in range(40)])
    ollama_server.chat_mode, ollama_server.delay = "slow", 0.05  # two seconds in all
    with api.stream("POST", "/chat", json={"message": "a long one"}) as response:
        session_id = response.headers["x-session-id"]
        assert [name for name, _ in read_events(response, until="token")] == ["route", "token"]
    deadline = time.monotonic() + 10  # the page closed: the next piece stops the exchange
    while not api.get(f"/sessions/{session_id}").json()["messages"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stored = api.get(f"/sessions/{session_id}").json()["messages"]
    assert stored[0]["content"] == "a long one"
    assert stored[1]["interrupted"] is True and stored[1]["content"].startswith("w0 ")
    assert len(stored[1]["content"].split()) < 40
    while ollama_server.streams_cut == 0:  # and the request to the model was closed
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_chat_failover_notice_is_in_the_route_event(api, ollama_servers):
    first, second = ollama_servers(2)
    first.add_model("llama3")
    second.add_model("mistral")
    add(api, second, "mistral")
    add(api, first, "llama3")  # active
    first.mode = "down"
    with api.stream("POST", "/chat", json={"message": "hi"}) as response:
        events = read_events(response)
    route = events[0][1]
    assert route["model"]["model_name"] == "mistral" and "retrying with" in route["notice"]


def test_chat_broken_after_output_ends_with_an_error_event(api, ollama_server):
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    ollama_server.chat_mode = "die_mid_stream"
    ollama_server.die_after = 2
    with api.stream("POST", "/chat", json={"message": "hi"}) as response:
        assert response.status_code == 200
        events = read_events(response)
    names = [name for name, _ in events]
    assert names[0] == "route" and names[-1] == "error" and "token" in names
    assert "done" not in names
    stored = api.get(f"/sessions/{response.headers['x-session-id']}").json()["messages"]
    assert stored[-1]["broken"] is True and stored[-1]["interrupted"] is False, stored[-1]


def test_chat_takes_system_options_and_a_model_like_the_cli_flags(api, ollama_servers):
    first, second = ollama_servers(2)
    first.add_model("llama3")
    second.add_model("mistral")
    add(api, first, "llama3")
    other = add(api, second, "mistral", activate=False)
    second.reply("From mistral")
    body = {"message": "hi", "system": "Answer briefly.", "model_id": other["model_id"],
            "options": {"temperature": 0.2, "stop": ["###", "END"]}}
    with api.stream("POST", "/chat", json=body) as response:
        events = read_events(response)
    assert events[-1] == ("done", {"session_id": response.headers["x-session-id"],
                                   "model_id": other["model_id"], "model_name": "mistral"})
    sent = second.chat_requests[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "Answer briefly."}
    assert sent["options"]["temperature"] == 0.2 and sent["options"]["stop"] == ["###", "END"]
    assert first.chat_requests == []
    assert_error(api.post("/chat", json={"message": "hi", "options": {"nonsense": 1}}), 400,
                 "Unknown option")
    assert_error(api.post("/chat", json={"message": "hi", "options": {"temperature": "hot"}}),
                 400, "temperature")


def test_chat_failing_before_output_is_an_http_error_and_leaves_no_session(api, ollama_server):
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    ollama_server.chat_mode = "error_500"
    response = api.post("/chat", json={"message": "hi"})
    assert response.status_code >= 500 and set(response.json()) == {"error"}
    assert api.get("/sessions").json() == []


def test_chat_bad_requests(api, ollama_server):
    ollama_server.add_model("llama3")
    add(api, ollama_server)
    assert_error(api.post("/chat", json={"message": "   "}), 400, "empty")
    assert_error(api.post("/chat", json={}), 400, "message")
    assert_error(api.post("/chat", json={"message": "hi", "session_id": "session_00000000"}),
                 404, "session_00000000")
    assert_error(api.post("/chat", json={"message": "hi", "extra": 1}), 400)
    assert_error(api.post("/chat", content=b"{not json",
                          headers={"Content-Type": "application/json"}), 400)
    assert_error(api.get("/sessions/nonsense"), 404)


# --- /code -----------------------------------------------------------------------------------


def test_code_without_a_coder_is_503(api):
    assert_error(api.post("/code", json={"instruction": "add a file"}), 503,
                 "No coder model available")


def test_code_proposes_then_apply_writes_then_undo_restores(api, web, ollama_server):
    workspace = web.app.workspace
    (workspace / "main.py").write_text("print('old')\n")
    ollama_server.add_model("coder")
    add(api, ollama_server, "coder", model_type="coder")
    ollama_server.reply_tool_call("edit_file", {"path": "main.py", "old_text": "old",
                                                "new_text": "new"})
    ollama_server.reply_tool_call("edit_file", {"path": "main.py", "old_text": "new",
                                                "new_text": "newer"})
    ollama_server.reply_tool_call("write_file", {"path": "../outside.py", "content": "x"})
    ollama_server.reply("Changed main.py.")
    response = api.post("/code", json={"instruction": "make it newer"})
    assert response.status_code == 200, response.text
    proposal = response.json()
    assert proposal["mode"] == "tools" and proposal["answer"] == "Changed main.py."
    assert [c["path"] for c in proposal["changes"]] == ["main.py"]
    diff = proposal["changes"][0]["diff"]
    assert "-print('old')" in diff and "+print('newer')" in diff  # the second edit built on the first
    assert (workspace / "main.py").read_text() == "print('old')\n"  # nothing written yet
    assert not (workspace.parent / "outside.py").exists()

    applied = api.post(f"/code/{proposal['id']}/apply", json={})
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == ["main.py changed (+1 -1)"]
    assert (workspace / "main.py").read_text() == "print('newer')\n"
    assert_error(api.post(f"/code/{proposal['id']}/apply", json={}), 404, "POST /code")

    undone = api.post("/undo", json={})
    assert undone.json() == {"restored": ["main.py"], "skipped": [], "deleted": []}
    assert (workspace / "main.py").read_text() == "print('old')\n"
    assert_error(api.post("/undo", json={}), 409, "Nothing to undo")


def test_code_apply_refuses_a_file_changed_since(api, web, ollama_server):
    workspace = web.app.workspace
    (workspace / "a.txt").write_text("one\n")
    ollama_server.add_model("coder")
    add(api, ollama_server, "coder", model_type="coder")
    ollama_server.reply_tool_call("write_file", {"path": "a.txt", "content": "two\n"})
    ollama_server.reply("done")
    proposal = api.post("/code", json={"instruction": "two"}).json()
    (workspace / "a.txt").write_text("someone else\n")
    assert_error(api.post(f"/code/{proposal['id']}/apply", json={}), 409, "changed since")
    assert (workspace / "a.txt").read_text() == "someone else\n"
    assert_error(api.post("/code", json={"instruction": ""}), 400, "empty")


# --- safety ----------------------------------------------------------------------------------


def test_foreign_host_is_refused(web):
    with web.client() as client:
        for host in ("evil.example", "evil.example:%d" % web.server.servers[0].sockets[0].getsockname()[1],
                     "127.0.0.1.evil.example", ""):
            assert_error(client.get("/models", headers={"Host": host}), 403, "Host")
        assert_error(client.get("/", headers={"Host": "rebind.example"}), 403)
        port = web.url.rsplit(":", 1)[1]
        assert client.get("/models", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_cross_origin_and_non_json_changes_are_refused(api, web, ollama_server):
    ollama_server.add_model("llama3")
    body = {"url": ollama_server.url, "model_name": "llama3"}
    assert_error(api.post("/models/general", json=body, headers={"Origin": "http://evil.example"}),
                 403, "Origin")
    assert_error(api.post("/models/general", json=body, headers={"Origin": "null"}), 403)
    assert_error(api.post("/models/general", content=json.dumps(body),
                          headers={"Content-Type": "text/plain"}), 415, "application/json")
    assert_error(api.post("/models/general", data={"url": ollama_server.url}), 415)
    assert_error(api.request("DELETE", "/models/model_00000000", content=b"x",
                             headers={"Content-Type": "text/plain"}), 415)
    assert_error(api.delete("/models/model_00000000"), 404)  # no body: no type needed
    assert api.get("/models").json() == []
    ok = api.post("/models/general", json=body, headers={"Origin": web.url})
    assert ok.status_code == 201


def test_bodies_over_one_mebibyte_are_refused(api):
    big = {"message": "x" * (1024 * 1024 + 10)}
    assert_error(api.post("/chat", json=big), 413, "larger than")

    def chunks():  # no Content-Length: the size is counted as it arrives
        yield b'{"message": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = api.post("/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "larger than")


def test_token_is_required_when_set(cli):
    server = start_web(cli, token="t0ken-secret")
    try:
        with server.client(auth=False) as client:
            assert_error(client.get("/models"), 401, "Bearer")
            assert_error(client.get("/models", headers={"Authorization": "Bearer wrong"}), 401)
            assert_error(client.get("/openapi.json"), 401)
            good = {"Authorization": "Bearer t0ken-secret"}
            assert client.get("/models", headers=good).json() == []
            page = client.get("/")  # the small page asking for the token
            assert page.status_code == 401 and "t0ken-secret" not in page.text
            page = client.get("/", headers=good)
            assert page.status_code == 200 and "t0ken-secret" not in page.text
    finally:
        server.stop()


def test_page_and_openapi_are_served(api):
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    schema = api.get("/openapi.json").json()
    for path in ("/models", "/models/{model_type}", "/models/{model_id}/activate", "/chat",
                 "/code", "/code/{proposal_id}/apply", "/undo", "/events", "/sessions",
                 "/sessions/{session_id}", "/models/status", "/models/check", "/models/discover"):
        assert path in schema["paths"], path
    assert api.get("/docs").status_code == 404  # no page that loads scripts from a CDN


# --- the command -----------------------------------------------------------------------------


def test_serve_refuses_a_public_host_without_a_token(cli):
    proc = cli.run("serve", "--host", "0.0.0.0", "--port", "0", "--no-auth", timeout=30)
    assert proc.returncode == 2
    assert "--no-auth" in proc.stderr and "Traceback" not in proc.stderr
    bad = cli.run("serve", "--port", "99999", timeout=30)
    assert bad.returncode == 2 and "port" in bad.stderr


def test_serve_runs_and_prints_its_address(cli):
    import subprocess
    import sys

    from test_cli_support import PROGRAM

    proc = subprocess.Popen([*PROGRAM, "serve", "--port", "0"], cwd=cli.cwd,
                            env={**cli.env, "AI_CLI_API_TOKEN": "s3cret-token"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "ai-cli web: http://127.0.0.1:" in line, line
        url = line.split("ai-cli web: ", 1)[1].split()[0].rstrip("/")
        notice = proc.stderr.readline()
        assert "Bearer" in notice and "s3cret-token" not in line + notice
        assert httpx.get(url + "/models", timeout=10).status_code == 401
        assert httpx.get(url + "/models", headers={"Authorization": "Bearer s3cret-token"},
                         timeout=10).json() == []
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert sys.executable  # the subprocess ran the same interpreter


@pytest.mark.parametrize("path", ["/models", "/sessions"])
def test_get_routes_answer_json(api, path):
    response = api.get(path)
    assert response.status_code == 200 and response.json() == []


# --- live events -----------------------------------------------------------------------------


def test_events_relay_a_cli_change(web, cli, dead_url):
    import time

    with web.client() as client, client.stream("GET", "/events", timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        for line in lines:
            if line == ": subscribed":
                break
        proc = cli.run("model", "general", "add", dead_url, "llama3", "--force", "--json")
        assert proc.returncode == 0, proc.stderr
        finished = time.monotonic()
        added = json.loads(proc.stdout)
        event, data = None, None
        for line in lines:
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "models":
                data = json.loads(line[5:])
                if data.get("op") == "add":  # a preset's event has no op
                    break
        waited = time.monotonic() - finished
    assert data == {"op": "add", "model_id": added["model_id"], "model_type": "general"}
    print(f"/events: the add arrived {waited * 1000:.0f} ms after the CLI process ended")


def test_redis_going_away_is_a_503_never_a_500(cli, tmp_path):
    from redis_process import RedisProcess

    (tmp_path / "own-redis").mkdir()
    own = RedisProcess(tmp_path / "own-redis").start()
    cli.env["AI_CLI_REDIS_URL"] = own.url
    server = start_web(cli)
    try:
        with server.client() as client:
            assert client.get("/models").json() == []
            own.stop()
            assert_error(client.get("/models"), 503, "Redis")
            assert_error(client.get("/sessions"), 503, "Redis")
            assert_error(client.get("/events"), 503)
            checked = client.post("/models/check", json={})  # config.yaml's models meanwhile
            assert checked.status_code == 200 and checked.json()[-1]["model_id"] is None
            chat = client.post("/chat", json={"message": "hi"})  # the fallback is unreachable
            assert_error(chat, 503, "No general model available")
    finally:
        server.stop()
        own.stop()


def test_events_send_heartbeats(web, monkeypatch):
    import ui.routes.chat as chat_routes

    monkeypatch.setattr(chat_routes, "HEARTBEAT", 0.2)
    with web.client() as client, client.stream("GET", "/events", timeout=10) as response:
        lines = response.iter_lines()
        assert next(lines) == "retry: 3000"
        assert next(lines) == ": subscribed"
        assert [line for line, _ in zip(lines, range(3)) if line] == [": heartbeat"]

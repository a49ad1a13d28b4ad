"""`ai-cli chat -a` as a process: a file, stdin, refusals with rc 2 and nothing sent, and
`session show` / `log --json` naming the image without its bytes."""

from __future__ import annotations

import base64
import subprocess

import pytest
from ollama_fixtures import dead_url, ollama_servers  # noqa: F401
from test_cli_support import PROGRAM, cli  # noqa: F401
from web_support import api, read_events, web  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def fleet(real_redis, key_prefix, ollama_servers):
    a, b = ollama_servers(2)
    a.add_model("llama3.1:8b", ("completion", "tools"))
    b.add_model("llava:13b", ("completion", "vision"))
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    registry.add_model("general", a.url, "llama3.1:8b", timeout=10)
    registry.add_model("general", b.url, "llava:13b", timeout=10, set_active=False)
    return a, b


def test_chat_attach_sends_the_image_to_the_vision_model(cli, ollama_servers, real_redis,
                                                          key_prefix, tmp_path):
    a, b = fleet(real_redis, key_prefix, ollama_servers)
    photo = tmp_path / "photo.dat"  # known by content, not by name
    photo.write_bytes(PNG)
    b.reply("A small black square.")
    proc = cli.run("chat", "-a", str(photo), "what is this?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "A small black square.\n"
    assert "for the image: llama3.1:8b cannot see images" in proc.stderr
    assert b.chat_requests[-1].body["messages"][-1]["images"] == [base64.b64encode(PNG).decode()]
    assert a.chat_requests == []
    logged = cli.json("log")[0]
    shown = cli.run("--session", logged["session_id"], "session", "show")
    assert f"attached: {photo} ({len(PNG)} bytes, image/png)" in shown.stdout
    assert logged["attachments"] == [{"name": str(photo), "size": len(PNG), "type": "image/png"}]


def test_attach_from_stdin(cli, ollama_servers, real_redis, key_prefix):
    a, b = fleet(real_redis, key_prefix, ollama_servers)
    b.reply("stdin image")
    proc = subprocess.run([*PROGRAM, "chat", "-a", "-", "describe"], input=PNG,
                          capture_output=True, env=cli.env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert b.chat_requests[-1].body["messages"][-1]["images"] == [base64.b64encode(PNG).decode()]


def test_wrong_type_and_missing_files_are_refused_and_nothing_is_sent(cli, ollama_servers,
                                                                     real_redis, key_prefix,
                                                                     tmp_path):
    a, b = fleet(real_redis, key_prefix, ollama_servers)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for spec, words in ((str(text), "is not an image"), (str(tmp_path / "no.png"),
                                                         "Cannot read")):
        proc = cli.run("chat", "-a", spec, "what?")
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = cli.run("chat", "-m", "llama3.1:8b", "-a", str(tmp_path / "x.png"), "q")
    assert proc.returncode == 2
    assert a.chat_requests == b.chat_requests == []


def test_m_naming_a_text_model_with_an_image_is_refused(cli, ollama_servers, real_redis,
                                                         key_prefix, tmp_path):
    a, b = fleet(real_redis, key_prefix, ollama_servers)
    photo = tmp_path / "p.png"
    photo.write_bytes(PNG)
    proc = cli.run("chat", "-m", "llama3.1:8b", "-a", str(photo), "what is this?")
    assert proc.returncode == 1
    assert "cannot see images" in proc.stderr and "-m llava:13b" in proc.stderr
    assert a.chat_requests == b.chat_requests == []


def test_web_chat_images_go_to_the_vision_model_or_are_refused(api, ollama_servers):
    a, b = ollama_servers(2)
    a.add_model("llama3.1:8b", ("completion", "tools"))
    b.add_model("llava:13b", ("completion", "vision"))
    for server, name in ((a, "llama3.1:8b"), (b, "llava:13b")):
        added = api.post("/models/general?force=true", json={
            "url": server.url, "model_name": name, "activate": name == "llama3.1:8b"})
        assert added.status_code == 201, added.text
    image = base64.b64encode(PNG).decode()
    b.reply("A square.")
    with api.stream("POST", "/chat", json={"message": "what?", "images": [
            "data:image/png;base64," + image]}) as response:
        assert response.status_code == 200
        events = read_events(response)
    assert "for the image: llama3.1:8b cannot see images" in events[0][1]["notice"]
    assert b.chat_requests[-1].body["messages"][-1]["images"] == [image]
    refused = api.post("/chat", json={"message": "what?", "images": [image],
                                      "model_id": "llama3.1:8b"})
    assert refused.status_code == 503 and "cannot see images" in refused.json()["error"]
    wrong = api.post("/chat", json={"message": "what?",
                                    "images": [base64.b64encode(b"text").decode()]})
    assert wrong.status_code == 400 and "image 1 is not an image" in wrong.json()["error"]
    assert a.chat_requests == [] and len(b.chat_requests) == 1


def test_repl_chat_attach(cli, ollama_servers, real_redis, key_prefix, tmp_path):
    import pexpect

    a, b = fleet(real_redis, key_prefix, ollama_servers)
    photo = tmp_path / "p.png"
    photo.write_bytes(PNG)
    b.reply("Seen in the REPL.")
    child = cli.spawn()
    child.expect(PROMPT)
    child.sendline(f"/chat -a {photo} what is this?")
    child.expect("for the image: llama3.1:8b cannot see images")
    child.expect("Seen in the REPL.")
    child.expect(PROMPT)
    child.sendline(f"/chat -a {tmp_path / 'missing.png'} and this?")
    child.expect("Cannot read")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    assert b.chat_requests[-1].body["messages"][-1]["images"] == [base64.b64encode(PNG).decode()]
    assert len(b.chat_requests) == 1 and a.chat_requests == []

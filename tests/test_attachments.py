"""Attachments: images known by their content, refusals in one line, URLs fetched from a loopback
server with the size cap, and the image reaching the Ollama server as `images` on the user
message through the real ChatOllama, routed to a vision model."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ollama_fixtures import ollama_servers  # noqa: F401
from router_helpers import make_router

from agent import attachments
from agent.chat import ChatRequest, exchange
from agent.errors import AttachmentNotFetched
from agent.sessions import SessionStore
from registry.errors import InvalidInput
from router.errors import NoModelAvailable

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
GIF = b"GIF89a" + b"\x00" * 24
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16


def test_images_are_known_by_their_content_not_their_name():
    assert [attachments.sniff(d) for d in (PNG, JPEG, GIF, WEBP)] == [
        "image/png", "image/jpeg", "image/gif", "image/webp"]
    assert attachments.sniff(b"%PDF-1.7") is None and attachments.sniff(b"") is None
    assert attachments.check("photo.txt", PNG).mime == "image/png"


def test_wrong_type_empty_and_oversized_are_refused_in_one_line(tmp_path):
    for data, words in ((b"hello", "is not an image"), (b"", "is empty")):
        with pytest.raises(InvalidInput) as caught:
            attachments.check("a.png", data)
        assert words in caught.value.message and "\n" not in caught.value.message
    big = tmp_path / "big.png"
    with big.open("wb") as f:  # sparse: the size is checked before anything is read
        f.write(PNG)
        f.truncate(attachments.MAX_BYTES + 1)
    with pytest.raises(InvalidInput) as caught:
        attachments.load(str(big))
    assert "limited to 20.0 MB" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        attachments.load(str(tmp_path / "missing.png"))
    assert "Cannot read" in caught.value.message


def test_the_record_never_holds_the_bytes():
    kept = attachments.check("cat.png", PNG)
    assert kept.to_json() == {"name": "cat.png", "size": len(PNG), "type": "image/png"}
    block = kept.content_block()
    assert block["image_url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()


class _Files(BaseHTTPRequestHandler):
    bodies: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.bodies.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if self.path != "/chunked":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def files():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    _Files.bodies = {"/cat.png": PNG, "/page.html": b"<html></html>",
                     "/chunked": PNG + b"\x00" * (attachments.MAX_BYTES + 10)}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_are_fetched_from_loopback_with_clear_errors(files):
    assert attachments.load(files + "/cat.png").data == PNG
    with pytest.raises(InvalidInput, match="is not an image"):
        attachments.load(files + "/page.html")
    with pytest.raises(AttachmentNotFetched, match="HTTP 404"):
        attachments.load(files + "/gone.png")
    with pytest.raises(InvalidInput, match="limited to"):  # no length said: counted as it comes
        attachments.load(files + "/chunked")
    with pytest.raises(InvalidInput, match="http:// or https://"):
        attachments.load("ftp://127.0.0.1/cat.png")


# --- through the engine and the real ChatOllama ----------------------------------------------


def fleet(real_registry, ollama_servers):
    a, b, tiny = ollama_servers(3)
    a.add_model("llama3.1:8b", ("completion", "tools"))
    b.add_model("llava:13b", ("completion", "vision"))
    tiny.add_model("tinyllama")
    text = real_registry.add_model("general", a.url, "llama3.1:8b", timeout=10)
    eyes = real_registry.add_model("general", b.url, "llava:13b", timeout=10, set_active=False)
    return a, b, tiny, text, eyes


def ask(router, question, images, model_id=None, store=None, session_id=None):
    events = []
    request = ChatRequest(question, attachments=images, model_id=model_id,
                          session_id=session_id)
    reply = exchange(router, store, request, events.append)
    return reply, events


def test_an_image_goes_to_the_vision_model_as_images(real_registry, ollama_servers):
    a, b, tiny, text, eyes = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    b.reply("A cat.")
    reply, events = ask(router, "what is this?", (attachments.check("cat.png", PNG),))
    assert reply.answer == "A cat." and reply.route.model.model_id == eyes.model_id
    notices = [e.route.notice for e in events if type(e).__name__ == "RouteChosen"]
    assert notices == [f"ℹ Using llava:13b @ {eyes.host} ({eyes.model_id}) for the image: "
                       "llama3.1:8b cannot see images."]
    sent = b.chat_requests[-1].body["messages"][-1]
    assert sent["images"] == [base64.b64encode(PNG).decode()]
    assert "what is this?" in sent["content"]
    assert a.chat_requests == [] and tiny.chat_requests == []
    logged = router.answers.recent(1)[0]
    assert logged.attachments == [{"name": "cat.png", "size": len(PNG), "type": "image/png"}]


def test_m_naming_a_text_model_is_refused_and_nothing_is_sent(real_registry, ollama_servers):
    a, b, tiny, text, eyes = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    with pytest.raises(NoModelAvailable) as caught:
        ask(router, "what is this?", (attachments.check("cat.png", PNG),),
            model_id=text.model_id)
    assert "cannot see images" in caught.value.message and "llava:13b" in caught.value.message
    assert a.chat_requests == b.chat_requests == tiny.chat_requests == []


def test_no_vision_model_refuses_and_tinyllama_never_sees_it(real_registry, ollama_servers):
    a, b, tiny, text, eyes = fleet(real_registry, ollama_servers)
    real_registry.remove_model(eyes.model_id)
    router = make_router(real_registry, tiny.url, disabled=())
    with pytest.raises(NoModelAvailable) as caught:
        ask(router, "what is this?", (attachments.check("cat.png", PNG),))
    assert "ollama pull llava" in caught.value.message
    assert a.chat_requests == tiny.chat_requests == []


def test_the_session_keeps_the_name_size_and_type(real_registry, ollama_servers, real_redis,
                                                  key_prefix):
    a, b, tiny, text, eyes = fleet(real_registry, ollama_servers)
    router = make_router(real_registry, tiny.url)
    store = SessionStore(real_redis, key_prefix=key_prefix)
    session = store.new()
    ask(router, "and this?", (attachments.check("dog.gif", GIF),), store=store,
        session_id=session.session_id)
    question, answer = store.history(session.session_id)
    assert question.attachments == [{"name": "dog.gif", "size": len(GIF), "type": "image/gif"}]
    assert "R0lG" not in str(question.to_json())  # no base64 of the GIF anywhere


def test_the_repl_line_takes_attachments_and_think_like_argv():
    from agent.commands import command_table

    table = command_table()
    line = table.parse_line("/chat -a cat.png -a https://127.0.0.1/d.gif --think high what is it?")
    argv = table.parse_argv(["chat", "-a", "cat.png", "--think", "what", "is", "it?"])
    assert line.args.attach == ["cat.png", "https://127.0.0.1/d.gif"]
    assert line.args.think == "high" and line.args.message == "what is it?"
    assert argv.args.attach == ["cat.png"] and argv.args.think is True
    assert argv.args.message == "what is it?"

"""The Ollama-protocol test server speaks the protocol the real clients expect."""

import httpx
import ollama
import pytest
from langchain_ollama import ChatOllama

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from ollama_server import READ_FILE_TOOL, normalize_name



def chat(server, model="llama3", timeout=5):
    return ChatOllama(base_url=server.url, model=model, client_kwargs={"timeout": timeout})


def test_root_version_and_tags(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.add_model("qwen2.5-coder:7b")
    assert httpx.get(ollama_server.url + "/").text == "Ollama is running"
    assert httpx.head(ollama_server.url + "/").status_code == 200
    assert httpx.get(ollama_server.url + "/api/version").json()["version"]
    listed = ollama.Client(host=ollama_server.url).list()
    assert [m.model for m in listed.models] == ["llama3:latest", "qwen2.5-coder:7b"]


def test_show_reports_capabilities_and_404(ollama_server):
    ollama_server.add_model("tiny", capabilities=("completion",))
    client = ollama.Client(host=ollama_server.url)
    assert client.show("tiny:latest").capabilities == ["completion"]
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("nope")
    assert caught.value.status_code == 404
    assert "nope" in caught.value.error


def test_streamed_reply_through_chatollama(ollama_server):
    ollama_server.add_model("llama3:latest")
    ollama_server.reply("Bonjour tout le monde")
    pieces = [c.content for c in chat(ollama_server).stream("hi")]
    assert "".join(pieces) == "Bonjour tout le monde"
    assert len([p for p in pieces if p]) == 4
    (request,) = ollama_server.chat_requests
    assert request.model == "llama3"
    assert request.body["stream"] is True
    assert request.body["messages"][-1] == {"role": "user", "content": "hi"}


def test_explicit_chunks_and_default_reply(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.reply("ab", "cd")
    ollama_server.default_reply = "fallback text"
    assert [c.content for c in chat(ollama_server).stream("x") if c.content] == ["ab", "cd"]
    assert chat(ollama_server).invoke("y").content == "fallback text"


def test_non_streaming_reply_with_the_ollama_client(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.reply("whole answer")
    response = ollama.Client(host=ollama_server.url).chat(
        model="llama3", messages=[{"role": "user", "content": "q"}], stream=False
    )
    assert response.message.content == "whole answer"
    assert response.done and response.done_reason == "stop"


def test_tool_calls_reach_chatollama(ollama_server):
    ollama_server.add_model("coder")
    ollama_server.reply_tool_call("read_file", {"path": "a.py"})
    message = chat(ollama_server, "coder").bind_tools([READ_FILE_TOOL]).invoke("read a.py")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("read_file", {"path": "a.py"})]
    assert ollama_server.chat_requests[0].body["tools"][0]["function"]["name"] == "read_file"


def test_unknown_model_is_a_404(ollama_server):
    with pytest.raises(ollama.ResponseError) as caught:
        chat(ollama_server, "missing").invoke("hi")
    assert caught.value.status_code == 404


def test_hang_ends_at_the_client_timeout(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.chat_mode = "hang"
    with pytest.raises(httpx.ReadTimeout):
        chat(ollama_server, timeout=0.3).invoke("hi")
    ollama_server.chat_mode = None
    assert chat(ollama_server).invoke("again").content


def test_hang_mode_covers_probes_too(ollama_server):
    ollama_server.mode = "hang"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(ollama_server.url + "/api/tags", timeout=0.3)


def test_error_500(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.mode = "error_500"
    assert httpx.get(ollama_server.url + "/api/tags").status_code == 500
    with pytest.raises(ollama.ResponseError) as caught:
        chat(ollama_server).invoke("hi")
    assert caught.value.status_code == 500


def test_die_mid_stream_after_some_output(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.reply("one two three four")
    ollama_server.chat_mode = "die_mid_stream"
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in chat(ollama_server).stream("hi"):
            received.append(chunk.content)
    assert "".join(received) == "one two "


def test_empty_stream(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.chat_mode = "empty_stream"
    with pytest.raises(ValueError):
        chat(ollama_server).invoke("hi")


def test_down_refuses_then_comes_back_on_the_same_port(ollama_server):
    ollama_server.add_model("llama3")
    url = ollama_server.url
    ollama_server.mode = "down"
    with pytest.raises(httpx.ConnectError):
        chat(ollama_server).invoke("hi")
    ollama_server.mode = "normal"
    assert ollama_server.url == url
    assert chat(ollama_server).invoke("hi").content


def test_dead_url_refuses(dead_url):
    with pytest.raises(httpx.ConnectError):
        httpx.get(dead_url + "/api/tags", timeout=2)


def test_servers_are_independent_and_log_their_own_requests(ollama_servers):
    first, second = ollama_servers(2)
    for server in (first, second):
        server.add_model("llama3")
    chat(second).invoke("only second")
    assert first.requests == []
    assert [r.path for r in second.requests] == ["/api/chat"]
    second.clear_requests()
    assert second.requests == []


def test_names_without_tag_mean_latest():
    assert normalize_name("llama3") == "llama3:latest"
    assert normalize_name("llama3:8b") == "llama3:8b"
    assert normalize_name("ns/model") == "ns/model:latest"
    assert normalize_name("host:5000/ns/model") == "host:5000/ns/model:latest"


def test_unknown_mode_is_refused(ollama_server):
    with pytest.raises(ValueError):
        ollama_server.mode = "sideways"

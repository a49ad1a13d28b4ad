"""The gateway (`ai-cli serve`'s `/api` and `/v1`) driven by real clients: the `ollama` Python
client, the `openai` Python client, and `llm` with `llm-ollama`, each against the web app on a real
uvicorn, over a real Redis, in front of Ollama-protocol test servers (reached by ChatOllama)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import start_web

from registry.answer_log import AnswerLog

pytestmark = pytest.mark.process

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAAB"
       "JRU5ErkJggg==")


def register(cli, server, name="llama3", model_type="general", activate=True,
             capabilities=("completion", "tools")):
    server.add_model(name, capabilities)
    args = ["model", model_type, "add", server.url, name, "--json"]
    if not activate:
        args.append("--no-activate")
    result = cli.run(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def gateway(cli):
    server = start_web(cli)
    yield server
    server.stop()


# --- the ollama client ---------------------------------------------------------------------------


def test_ollama_client_chat_whole_and_streamed(cli, gateway, ollama_server):
    import ollama

    register(cli, ollama_server)
    client = ollama.Client(host=gateway.url)
    ollama_server.reply("Hello", " there")
    whole = client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}],
                        stream=False, options={"temperature": 0.2})
    assert whole.message.content == "Hello there" and whole.done
    assert whole.eval_count == 2 and whole.prompt_eval_count and whole.total_duration
    sent = ollama_server.chat_requests[-1].body
    assert sent["model"] == "llama3" and sent["options"]["temperature"] == 0.2
    assert sent["messages"][-1] == {"role": "user", "content": "hi"}

    ollama_server.reply("a", "b", "c")
    parts = list(client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}],
                             stream=True))
    assert "".join(p.message.content for p in parts) == "abc"
    assert parts[-1].done and parts[-1].eval_count == 3 and not any(p.done for p in parts[:-1])


def test_ollama_client_tools_and_images(cli, gateway, ollama_server):
    import ollama

    register(cli, ollama_server, capabilities=("completion", "tools", "vision"))
    client = ollama.Client(host=gateway.url)
    tool = {"type": "function", "function": {
        "name": "weather", "description": "the weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}
    ollama_server.reply_tool_call("weather", {"city": "Paris"})
    answer = client.chat(model="llama3", messages=[{"role": "user", "content": "weather?"}],
                         tools=[tool], stream=False)
    assert [(c.function.name, dict(c.function.arguments)) for c in answer.message.tool_calls] \
        == [("weather", {"city": "Paris"})]
    assert ollama_server.chat_requests[-1].body["tools"][0]["function"]["name"] == "weather"

    ollama_server.reply("a red dot")
    client.chat(model="llama3", stream=False,
                messages=[{"role": "user", "content": "what is this?", "images": [PNG]}])
    assert ollama_server.chat_requests[-1].body["messages"][-1]["images"] == [PNG]


def test_ollama_client_generate_tags_show_version(cli, gateway, ollama_servers):
    import ollama

    first, second = ollama_servers(2)
    register(cli, first)
    register(cli, second)  # the same model on a second host: one name to a client
    register(cli, first, "qwen2.5-coder:7b", "coder")
    client = ollama.Client(host=gateway.url)
    listed = client.list().models
    names = sorted(m.model for m in listed if m.details.family != "ai-cli preset")
    assert names == ["llama3:latest", "qwen2.5-coder:7b"]
    presets = sorted(m.model for m in listed if m.details.family == "ai-cli preset")
    assert presets == ["accurate:latest", "coding:latest", "fast:latest"]  # the shipped ones
    first.reply("generated")
    second.reply("generated")
    done = client.generate(model="llama3", prompt="say it", system="be short", stream=False)
    assert done.response == "generated" and done.done
    served = (first.chat_requests or second.chat_requests)[-1].body["messages"]
    assert [m["role"] for m in served] == ["system", "user"]
    shown = client.show("qwen2.5-coder:7b")
    assert "tools" in shown.capabilities
    assert httpx.get(gateway.url + "/api/version").json()["version"]


def test_unknown_model_is_ollamas_404_never_a_substitute(cli, gateway, ollama_server):
    import ollama

    register(cli, ollama_server)
    client = ollama.Client(host=gateway.url)
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model="nope:1b", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 404 and 'model "nope:1b" not found' in raised.value.error
    assert ollama_server.chat_requests == []


def test_a_killed_box_fails_over_to_the_same_model_elsewhere(cli, gateway, ollama_servers):
    import ollama

    first, second = ollama_servers(2)
    register(cli, first)
    register(cli, second)
    first.default_reply, second.default_reply = "from the first box", "from the second box"
    client = ollama.Client(host=gateway.url)
    answer = client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}],
                         stream=False).message.content
    served = first if first.chat_requests else second
    assert answer == served.default_reply
    served.mode = "down"  # the box that answered goes away (connections refused)
    other = second if served is first else first
    response = httpx.post(gateway.url + "/api/chat", json={
        "model": "llama3", "stream": False, "messages": [{"role": "user", "content": "again"}]})
    assert response.status_code == 200
    assert response.json()["message"]["content"] == other.default_reply
    assert other.chat_requests[-1].body["messages"][-1]["content"] == "again"
    assert "llama3" in response.headers["X-AI-CLI-Route"]


def test_gateway_requests_are_in_the_answer_log_as_api(cli, gateway, ollama_server):
    register(cli, ollama_server)
    ollama_server.reply("logged")
    httpx.post(gateway.url + "/api/chat", json={
        "model": "general", "stream": False, "messages": [{"role": "user", "content": "hi"}]})
    records = AnswerLog(gateway.app.registry).recent(10)
    assert [(r.face, r.status, r.model_name) for r in records][0] == ("api", "ok", "llama3")


# --- the openai client ---------------------------------------------------------------------------


def test_openai_client_chat_stream_tools_models(cli, gateway, ollama_server):
    import openai

    register(cli, ollama_server)
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="unused-on-loopback")
    assert [m.id for m in client.models.list().data] == ["llama3:latest", "accurate", "coding",
                                                         "fast"]

    ollama_server.reply("Hello", " world")
    whole = client.chat.completions.create(
        model="llama3", messages=[{"role": "user", "content": "hi"}], temperature=0.3,
        max_tokens=50, stop=["###"], seed=7)
    assert whole.choices[0].message.content == "Hello world"
    assert whole.choices[0].finish_reason == "stop" and whole.usage.completion_tokens == 2
    options = ollama_server.chat_requests[-1].body["options"]
    assert (options["temperature"], options["num_predict"], options["stop"], options["seed"]) \
        == (0.3, 50, ["###"], 7)

    ollama_server.reply("x", "y")
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="llama3", messages=[{"role": "user", "content": "hi"}], stream=True) if c.choices]
    assert "".join(p for p in pieces if p) == "xy"

    ollama_server.reply_tool_call("weather", {"city": "Oslo"})
    called = client.chat.completions.create(
        model="llama3", messages=[{"role": "user", "content": "weather?"}],
        tools=[{"type": "function", "function": {"name": "weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}])
    call = called.choices[0].message.tool_calls[0]
    assert called.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, json.loads(call.function.arguments)) == ("weather", {"city": "Oslo"})

    ollama_server.reply('{"a": 1}')
    client.chat.completions.create(model="llama3", response_format={"type": "json_object"},
                                   messages=[{"role": "user", "content": "json please"}])
    assert ollama_server.chat_requests[-1].body["format"] == "json"


def test_openai_unknown_model_is_a_404_error_object(cli, gateway, ollama_server):
    import openai

    register(cli, ollama_server)
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x")
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.body["code"] == "model_not_found"
    assert ollama_server.chat_requests == []


# --- llm with llm-ollama, in a process of its own --------------------------------------------------


def test_llm_with_llm_ollama_lists_and_answers(cli, gateway, ollama_server, tmp_path):
    register(cli, ollama_server)
    ollama_server.reply("hello from the gateway")
    env = {**os.environ, "OLLAMA_HOST": gateway.url, "LLM_USER_PATH": str(tmp_path / "llm")}
    llm = [sys.executable, "-m", "llm"]
    listed = subprocess.run(llm + ["models", "list"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "ollama/llama3:latest" in listed.stdout
    answered = subprocess.run(llm + ["-m", "ollama/llama3:latest", "--no-log", "hi"], env=env,
                              capture_output=True, text=True, timeout=60)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip() == "hello from the gateway"


def test_a_preset_is_a_model_name_with_its_system_prompt_and_options(cli, gateway, ollama_server):
    import openai

    register(cli, ollama_server)
    added = cli.run("preset", "add", "terse", "-m", "llama3", "-s", "Answer in one word.",
                    "-o", "temperature", "0.1", "-o", "num_predict", "20", "--json")
    assert added.returncode == 0, added.stderr
    ollama_server.reply("Paris")
    response = httpx.post(gateway.url + "/api/chat", json={
        "model": "terse:latest", "stream": False, "options": {"num_predict": 5},
        "messages": [{"role": "user", "content": "capital of France?"}]})
    assert response.status_code == 200 and response.json()["model"] == "terse:latest"
    sent = ollama_server.chat_requests[-1].body
    assert sent["model"] == "llama3" and sent["messages"][0] == {
        "role": "system", "content": "Answer in one word."}
    assert (sent["options"]["temperature"], sent["options"]["num_predict"]) == (0.1, 5)

    ollama_server.reply("Paris")  # the client's own system prompt wins over the preset's
    openai.OpenAI(base_url=gateway.url + "/v1", api_key="x").chat.completions.create(
        model="terse", messages=[{"role": "system", "content": "Be verbose."},
                                 {"role": "user", "content": "capital?"}])
    sent = ollama_server.chat_requests[-1].body
    assert [m["content"] for m in sent["messages"] if m["role"] == "system"] == ["Be verbose."]
    records = AnswerLog(gateway.app.registry).recent(10)
    assert [(r.face, r.preset) for r in records][:2] == [("api", "terse"), ("api", "terse")]


def test_embeddings_through_both_apis(cli, gateway, ollama_server):
    import ollama
    import openai

    ollama_server.add_model("nomic-embed-text", ("embedding",))
    added = cli.run("model", "embedding", "add", ollama_server.url, "nomic-embed-text", "--json")
    assert added.returncode == 0, added.stderr
    vectors = ollama.Client(host=gateway.url).embed(model="nomic-embed-text",
                                                     input=["a", "b"]).embeddings
    assert len(vectors) == 2 and vectors[0] != vectors[1]
    answer = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x").embeddings.create(
        model="embedding", input="a")
    assert answer.data[0].embedding == vectors[0]  # the same model, by its route's name
    assert [r.body["model"] for r in ollama_server.requests if r.path == "/api/embed"] == [
        "nomic-embed-text", "nomic-embed-text"]


def test_an_image_goes_to_a_model_that_sees(cli, gateway, ollama_servers):
    text_box, vision_box = ollama_servers(2)
    register(cli, text_box)  # the active general model: it cannot see
    vision_box.add_model("llava", ("completion", "vision"))
    added = cli.run("model", "general", "add", vision_box.url, "llava", "--no-activate", "--json")
    assert added.returncode == 0, added.stderr
    vision_box.reply("a red dot")
    response = httpx.post(gateway.url + "/api/chat", json={
        "model": "general", "stream": False,
        "messages": [{"role": "user", "content": "what is this?", "images": [PNG]}]})
    assert response.status_code == 200 and response.json()["message"]["content"] == "a red dot"
    assert text_box.chat_requests == []
    assert "llava" in response.headers["X-AI-CLI-Route"]
    refused = httpx.post(gateway.url + "/api/chat", json={
        "model": "llama3", "stream": False,
        "messages": [{"role": "user", "content": "what is this?", "images": [PNG]}]})
    assert refused.status_code in (400, 422, 503) and "llava" in refused.json()["error"]


def test_show_gives_the_capabilities_ai_cli_routes_by(cli, gateway, ollama_server):
    import ollama

    register(cli, ollama_server)
    assert "vision" not in ollama.Client(host=gateway.url).show("llama3").capabilities
    changed = cli.run("model", "caps", "llama3", "+vision", "--json")
    assert changed.returncode == 0, changed.stderr
    assert "vision" in ollama.Client(host=gateway.url).show("llama3").capabilities

"""The options people reach for: `min_p`, `keep_alive`, `think` with the types Ollama's API
documents, sent where Ollama reads them (`options`, or the request itself), and `-m` on `/code`.
Pure checks directly; the requests as the Ollama-protocol test server received them from real
`ai-cli` processes."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.errors import InvalidInput
from registry.manager import ModelRegistry
from router.options import checked_options, parse_options, request_fields


@pytest.mark.parametrize("key, text, value", [
    ("min_p", "0.05", 0.05),
    ("keep_alive", "10m", "10m"), ("keep_alive", "1h30m", "1h30m"), ("keep_alive", "300", 300),
    ("keep_alive", "-1", -1), ("keep_alive", "0", 0), ("keep_alive", "2.5", 2.5),
    ("think", "false", False), ("think", "True", True), ("think", "high", "high"),
    ("think", "off", False),
])
def test_each_option_takes_the_type_ollama_documents(key, text, value):
    assert parse_options([(key, text)]) == {key: value}
    assert checked_options({key: value}) == {key: value}  # read back from a session as stored


@pytest.mark.parametrize("key, text, says", [
    ("min_p", "-0.1", "at least 0"), ("min_p", "lots", "takes a number"),
    ("keep_alive", "forever", "takes a duration (5m, 1h, 30s) or seconds"),
    ("keep_alive", "5 minutes", "takes a duration"),
    ("think", "maybe", "takes true or false, or low, medium or high"),
])
def test_a_bad_value_says_what_the_option_takes(key, text, says):
    with pytest.raises(InvalidInput) as caught:
        parse_options([(key, text)])
    assert says in caught.value.message
    assert len(caught.value.message.splitlines()) == 1


def test_keep_alive_and_think_go_beside_options():
    options = parse_options([("min_p", "0.1"), ("keep_alive", "5m"), ("think", "low"),
                             ("temperature", "0.2")])
    assert request_fields(options) == ({"min_p": 0.1, "temperature": 0.2},
                                       {"keep_alive": "5m", "reasoning": "low"})



@pytest.mark.process
def test_the_request_carries_them_where_ollama_reads_them(cli, ollama_server, real_redis,
                                                          key_prefix):
    ollama_server.add_model("qwen3", ("completion", "tools", "thinking"))  # think goes to those only
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "qwen3", timeout=10)
    ollama_server.reply("ok")
    proc = cli.run("chat", "-o", "min_p", "0.05", "-o", "keep_alive", "10m", "-o", "think",
                   "false", "hi")
    assert proc.returncode == 0, proc.stderr
    body = ollama_server.chat_requests[-1].body
    assert body["options"]["min_p"] == 0.05 and "keep_alive" not in body["options"]
    assert body["keep_alive"] == "10m" and body["think"] is False
    bad = cli.run("chat", "-o", "keep_alive", "forever", "hi")
    assert bad.returncode == 2 and "takes a duration" in bad.stderr
    assert len(ollama_server.chat_requests) == 1


@pytest.mark.process
def test_code_takes_m_for_one_run(cli, ollama_server, real_redis, key_prefix, tmp_path):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    for name in ("coder-a", "coder-b"):
        ollama_server.add_model(name)
    registry.add_model("general", ollama_server.url, "coder-a", timeout=10)
    registry.add_model("coder", ollama_server.url, "coder-a", timeout=10)
    registry.add_model("coder", ollama_server.url, "coder-b", timeout=10, set_active=False)
    ollama_server.default_reply = "Nothing to change."
    workspace = tmp_path / "ws"
    workspace.mkdir()
    proc = cli.run("code", "-m", "coder-b", "look around", "--yes", "--workspace",
                   str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert {r.model for r in ollama_server.chat_requests} == {"coder-b"}
    assert registry.get_active_model("coder").model_name == "coder-a"  # for this run only
    unknown = cli.run("code", "-m", "nosuch", "look", "--yes", "--workspace", str(workspace))
    assert unknown.returncode == 1 and "No model with id or name 'nosuch'" in unknown.stderr

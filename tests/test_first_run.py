"""First run like ollama: OLLAMA_HOST (read as Ollama reads it) is the default server of the
fallback, `discover` and the wizard; the first start offers the models it has; URLs without a
scheme get http://; the fallback's "unreachable" line once a day; the banner of `--session`;
`model status`'s exit rule. Real `ai-cli` processes, a real Redis, the Ollama-protocol test
server on 127.0.0.1 (OLLAMA_HOST points only there)."""

from __future__ import annotations

import json

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from agent.sessions import SessionStore
from cli.wizard import host_offers
from registry.manager import ModelRegistry
from registry.model import ModelConfig, now_utc
from registry.ollama_host import parse_ollama_host

pytestmark = pytest.mark.process
PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def host_of(server) -> str:
    return server.url.split("://", 1)[1]  # "127.0.0.1:PORT", as people set OLLAMA_HOST


@pytest.mark.parametrize("text, url", [
    ("", "http://127.0.0.1:11434"), ("127.0.0.1", "http://127.0.0.1:11434"),
    ("127.0.0.1:11500", "http://127.0.0.1:11500"), ("http://localhost", "http://localhost:80"),
    ("https://localhost", "https://localhost:443"), ("[::1]:9", "http://[::1]:9"),
    ("localhost:x", "http://localhost:11434")])
def test_ollama_host_is_read_as_ollama_reads_it(text, url):
    assert parse_ollama_host(text) == url


def test_the_wizard_offers_the_hosts_already_registered():
    models = [ModelConfig(f"model_0000000{i}", "general", url, "m", 10, False, now_utc())
              for i, url in enumerate(("http://127.0.0.1:2", "http://127.0.0.1:3",
                                       "http://127.0.0.1:2"))]
    assert host_offers("http://127.0.0.1:11434", models) == [
        "http://127.0.0.1:11434", "http://127.0.0.1:2", "http://127.0.0.1:3"]


def test_discover_without_a_type_word_asks_ollama_host(cli, ollama_server):
    ollama_server.add_model("llama3.1:8b")
    env = {"OLLAMA_HOST": host_of(ollama_server)}
    found = cli.json("model", "discover", env=env)
    assert found == {"url": ollama_server.url, "models": ["llama3.1:8b"]}
    assert cli.json("model", "general", "discover", env=env)["url"] == ollama_server.url
    typed = cli.json("model", "discover", host_of(ollama_server))  # no scheme: http://
    assert typed["url"] == ollama_server.url


def test_a_url_without_a_scheme_gets_http(cli, ollama_server):
    ollama_server.add_model("llama3")
    added = cli.json("model", "general", "add", host_of(ollama_server), "llama3")
    assert added["url"] == ollama_server.url


def test_the_fallback_defaults_to_ollama_host(cli, ollama_server):
    del cli.config["tinyollama"]["url"]
    cli.write_config()
    env = {"OLLAMA_HOST": host_of(ollama_server)}
    status = cli.json("model", "status", env=env, expect=1)
    assert status["fallback"]["url"] == ollama_server.url
    shown = {s["name"]: s for s in cli.json("config", "show", env=env)["settings"]}
    assert (shown["tinyollama.url"]["value"], shown["tinyollama.url"]["source"]) == (
        ollama_server.url, "env")


def test_model_status_exits_1_when_only_the_coder_route_is_missing(cli, ollama_server):
    ollama_server.add_model("tinyllama")
    cli.write_config(tinyollama={"url": ollama_server.url})  # code stays off on the fallback
    done = cli.run("model", "status", "--json")
    status = json.loads(done.stdout)
    assert status["routes"]["general"]["model"] is not None
    assert status["routes"]["coder"]["model"] is None and done.returncode == 1


def test_first_start_offers_the_models_of_ollama_host(cli, ollama_server):
    ollama_server.add_model("llama3.1:8b")
    ollama_server.add_model("qwen2.5:7b")
    del cli.config["tinyollama"]["url"]  # the fallback is on OLLAMA_HOST too, without tinyllama
    cli.write_config()
    child = cli.spawn(env={"OLLAMA_HOST": host_of(ollama_server)}, timeout=30)
    child.expect_exact(f"Ollama at {ollama_server.url} has llama3.1:8b, qwen2.5:7b.")
    child.expect_exact(f"ai-cli model general add {ollama_server.url} llama3.1:8b")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_the_fallback_unreachable_line_shows_once_a_day(cli, dead_url):
    first = cli.spawn(timeout=30)
    first.expect(PROMPT)
    banner = first.before
    first.sendline("/quit")
    first.expect(pexpect.EOF)
    assert "Fallback: tinyllama" in banner and "unreachable" in banner
    second = cli.spawn(timeout=30)
    second.expect(PROMPT)
    again = second.before
    second.sendline("/quit")
    second.expect(pexpect.EOF)
    assert "Fallback: tinyllama" not in again, again


def test_the_banner_of_session_names_it_its_system_prompt_and_pin(cli, ollama_server,
                                                                  real_redis, key_prefix):
    ollama_server.add_model("llama3")
    model = ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", ollama_server.url, "llama3", timeout=10)
    store = SessionStore(real_redis, key_prefix)
    session = store.new("trip planning")
    store.set_defaults(session.session_id, system="Answer in French.")
    store.pin(session.session_id, "general", model.model_id)
    child = cli.spawn("--session", session.session_id, timeout=30)
    child.expect_exact(f"Session: {session.session_id} — trip planning (0 messages)")
    child.expect_exact("system prompt: Answer in French.")
    child.expect_exact(f"pinned: general={model.model_id}")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)

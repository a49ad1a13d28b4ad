"""`ai-cli model caps` and the capability column and filter of `model list`, as processes."""

from __future__ import annotations

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def fleet(real_redis, key_prefix, server):
    server.add_model("llama3.1:8b", ("completion", "tools"))
    server.add_model("llava:13b", ("completion", "vision"))
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    text = registry.add_model("general", server.url, "llama3.1:8b")
    seeing = registry.add_model("general", server.url, "llava:13b", set_active=False)
    return registry, text, seeing


def test_check_reads_capabilities_and_list_shows_and_filters_them(cli, ollama_server, real_redis,
                                                                  key_prefix):
    fleet(real_redis, key_prefix, ollama_server)
    before = {m["model_name"]: m for m in cli.json("model", "list")}
    assert before["llava:13b"]["capabilities"] is None  # never read: nothing guessed from names
    assert cli.run("model", "check").returncode == 0
    listed = {m["model_name"]: m for m in cli.json("model", "list")}
    assert listed["llava:13b"]["capabilities"] == ["completion", "vision"]
    assert listed["llava:13b"]["capabilities_source"] == "server"
    assert [m["model_name"] for m in cli.json("model", "list", "--capability", "vision")] \
        == ["llava:13b"]
    shown = cli.run("model", "list", env={"COLUMNS": "160"})
    assert "CV" in shown.stdout and "CT" in shown.stdout, shown.stdout
    bad = cli.run("model", "list", "--capability", "see things")
    assert bad.returncode == 2 and "is not a capability" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_caps_override_is_stored_on_the_entry_and_reset(cli, ollama_server, real_redis,
                                                         key_prefix):
    registry, text, _ = fleet(real_redis, key_prefix, ollama_server)
    changed = cli.json("model", "caps", "llama3.1:8b", "+vision", "-tools")
    assert changed["capabilities_source"] == "user"
    assert "vision" in changed["capabilities"] and "tools" not in changed["capabilities"]
    assert registry.get_model(text.model_id).capabilities_user == ("+vision", "-tools")
    shown = cli.run("model", "caps", "llama3.1:8b")
    assert shown.returncode == 0 and "your override (+vision -tools)" in shown.stdout
    reset = cli.json("model", "caps", "llama3.1:8b", "--reset")
    assert reset["capabilities_source"] == "server" and reset["capabilities_user"] == []
    assert reset["capabilities"] == ["completion", "tools"]  # read from the server meanwhile
    bad = cli.run("model", "caps", "llama3.1:8b", "vision")
    assert bad.returncode == 2 and "+NAME" in bad.stderr and "Traceback" not in bad.stderr

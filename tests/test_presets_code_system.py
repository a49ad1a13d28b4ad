"""`code -p NAME`: the preset's system prompt reaches the coder model under /code's own guide (the
shipped `coding` preset is mostly its system prompt)."""

from __future__ import annotations

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def test_the_presets_system_prompt_goes_under_the_code_guide(cli, ollama_server, real_redis,
                                                            key_prefix, tmp_path):
    ollama_server.add_model("coder-7b")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "coder", ollama_server.url, "coder-7b", timeout=10)
    assert cli.run("preset", "add", "house-style", "-s", "Prefer pathlib over os.path."
                   ).returncode == 0
    ollama_server.reply("Nothing to change.")
    ran = cli.run("--workspace", str(tmp_path), "code", "-p", "house-style", "look", "--yes")
    assert ran.returncode == 0, ran.stderr
    system = ollama_server.chat_requests[-1].body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].endswith("\n\nPrefer pathlib over os.path.")
    assert len(system["content"]) > len("Prefer pathlib over os.path.") + 100  # the guide first

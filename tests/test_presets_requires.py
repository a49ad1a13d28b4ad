"""A preset's `requires` routes like an image does: only models with every required capability
answer through it (the real `ai-cli`, real Redis, two Ollama-protocol test servers)."""

from __future__ import annotations

import pytest
from ollama_fixtures import dead_url, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def test_a_chat_through_a_preset_goes_to_a_model_with_what_it_requires(
        cli, ollama_servers, real_redis, key_prefix):
    plain_box, vision_box = ollama_servers(2)
    plain_box.add_model("llama3", ("completion", "tools"))
    vision_box.add_model("llava", ("completion", "vision"))
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    registry.add_model("general", plain_box.url, "llama3", timeout=10)  # active: cannot see
    registry.add_model("general", vision_box.url, "llava", timeout=10, set_active=False)
    assert cli.run("preset", "add", "eyes", "--requires", "vision").returncode == 0
    vision_box.reply("seen")
    answered = cli.run("chat", "-p", "eyes", "describe it")
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip() == "seen" and plain_box.chat_requests == []
    assert "llava" in answered.stderr  # the notice names the model that can

    plain_box.reply("plain")  # without the preset the active model answers as before
    assert cli.run("chat", "describe it").stdout.strip() == "plain"

    refused = cli.run("chat", "-p", "eyes", "-m", "llama3", "describe it")
    assert refused.returncode != 0 and "llava" in refused.stderr  # a model the user named
    assert len(plain_box.chat_requests) == 1  # is never switched silently, nor asked

"""Config is never picked up by accident: ./config.yaml is read only when it has the `ai_cli:`
line (or --config / AI_CLI_CONFIG names it); a file found in the current folder never chooses
the Redis server; `config path` says which file and why, `config show` each setting's source.
Real `ai-cli` processes in a folder of another project."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.code.loop import DEFAULT_MAX_STEPS
from agent.code.tools import DEFAULT_MAX_OUTPUT
from agent.sessions import DEFAULT_MAX_HISTORY, DEFAULT_MAX_STORED
from registry.config.settings import SHOWN_DEFAULTS, ConfigManager

ROOT = Path(__file__).resolve().parent.parent


def ai_cli(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("AI_CLI_") and k != "OLLAMA_HOST"}
    base.update(PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="200",
                XDG_CONFIG_HOME=str(folder / "xdg-config"), XDG_DATA_HOME=str(folder / "xdg-data"),
                AI_CLI_EMBEDDED_LINGER="0")
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=folder,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_shown_defaults_agree_with_the_layers_that_use_them():
    assert SHOWN_DEFAULTS["sessions"] == {"max_history": DEFAULT_MAX_HISTORY,
                                          "max_stored": DEFAULT_MAX_STORED}
    assert SHOWN_DEFAULTS["code"] == {"max_steps": DEFAULT_MAX_STEPS,
                                      "max_tool_output": DEFAULT_MAX_OUTPUT}


def test_another_projects_config_yaml_is_not_read(tmp_path):
    (tmp_path / "config.yaml").write_text("redis: {url: 12}\ndefaults: nonsense\n")
    config = ConfigManager.load(env={}, cwd=tmp_path)
    assert config.path is None and config.redis_url == "embedded"
    assert [p for p, _why in config.pickup.skipped] == [tmp_path / "config.yaml"]
    (tmp_path / "config.yaml").write_text("{{{ not yaml at all")
    assert ConfigManager.load(env={}, cwd=tmp_path).path is None


def test_the_marked_file_is_read_but_never_picks_the_redis_server(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "ai_cli: 1\ndefaults: {timeout: 77}\nredis: {url: 'redis://127.0.0.1:1', cluster: true}\n")
    config = ConfigManager.load(env={}, cwd=tmp_path)
    assert config.path == tmp_path / "config.yaml" and config.get_default_timeout() == 77
    assert config.redis_url == "embedded" and config.redis_cluster is False
    named = ConfigManager.load(str(tmp_path / "config.yaml"), env={}, cwd=tmp_path)
    assert named.redis_url == "redis://127.0.0.1:1"  # named by the user: theirs


@pytest.mark.process
def test_a_bad_value_in_another_projects_config_no_longer_breaks_ai_cli(tmp_path):
    (tmp_path / "config.yaml").write_text("redis:\n  url: 12\nname: my-webapp\n")
    done = ai_cli(tmp_path, "config", "path", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["path"] is None and shown["skipped"][0]["path"] == str(tmp_path / "config.yaml")
    assert "no `ai_cli:` line" in shown["skipped"][0]["why"]
    assert done.stderr == ""  # not ai-cli's at all: nothing to say on every command
    text = ai_cli(tmp_path, "config", "path")
    assert "passed over" in text.stdout and "ai_cli: 1" in text.stdout


@pytest.mark.process
def test_an_old_ai_cli_config_without_the_line_is_named_once_per_command(tmp_path):
    (tmp_path / "config.yaml").write_text("ollama: {url: 'http://127.0.0.1:1', model: x}\n")
    done = ai_cli(tmp_path, "config", "path")
    assert done.returncode == 0
    assert done.stderr.count("Not reading") == 1 and "ai_cli: 1" in done.stderr


@pytest.mark.process
def test_a_redis_url_from_the_folder_is_never_contacted(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0)
    port = listener.getsockname()[1]
    try:
        (tmp_path / "config.yaml").write_text(
            f"ai_cli: 1\nredis: {{url: 'redis://:pw@127.0.0.1:{port}'}}\n")
        listed = ai_cli(tmp_path, "model", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert "is not contacted" in listed.stderr and "pw" not in listed.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
        shown = json.loads(ai_cli(tmp_path, "config", "show", "--json").stdout)
        url = next(s for s in shown["settings"] if s["name"] == "redis.url")
        assert (url["value"], url["source"]) == ("embedded", "default") and "note" in url
    finally:
        listener.close()


@pytest.mark.process
def test_config_show_names_each_source(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text("defaults: {timeout: 50}\nredis: {url: 'redis://u:secret@127.0.0.1:9'}\n")
    done = ai_cli(tmp_path, "--config", str(own), "config", "show", "--json",
                  env={"AI_CLI_EMBEDDED_LINGER": "5"})
    assert done.returncode == 0, done.stderr
    settings = {s["name"]: (s["value"], s["source"]) for s in json.loads(done.stdout)["settings"]}
    assert settings["defaults.timeout"] == (50, "file")
    assert settings["defaults.probe_timeout"] == (2, "default")
    assert settings["redis.embedded_linger"] == ("5", "env")
    assert settings["redis.url"] == ("redis://u:***@127.0.0.1:9", "file")
    flagged = ai_cli(tmp_path, "--config", str(own), "--redis-url", "unix:///tmp/x.sock",
                     "config", "show", "--json")
    settings = {s["name"]: (s["value"], s["source"]) for s in json.loads(flagged.stdout)["settings"]}
    assert settings["redis.url"] == ("unix:///tmp/x.sock", "flag")
    path = json.loads(ai_cli(tmp_path, "--config", str(own), "config", "path", "--json").stdout)
    assert path == {"path": str(own), "why": "named by --config", "skipped": []}

"""config.yaml and the environment that cannot hang or lie: an alias bomb is refused in bounded
time and memory, a section of the wrong type and a non-finite number are errors with file:line,
and a malformed AI_CLI_REDIS_URL is one line naming the variable and the expected form."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from registry.config import ConfigManager
from registry.config.yaml_file import MAX_DEPTH, MAX_NODES
from registry.errors import ConfigError

LAUGHS = "\n".join(
    [f'a0: &a0 [{", ".join(["lol"] * 9)}]']
    + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
) + "\n"  # nine levels of nine: 9**10 (3.5 billion) values once expanded


def load(tmp_path: Path, text: str, env: dict | None = None) -> ConfigManager:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return ConfigManager.load(path, env=env or {})


def refusal(tmp_path: Path, text: str, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_an_alias_bomb_is_refused_in_bounded_memory(tmp_path):
    tracemalloc.start()
    try:
        message = refusal(tmp_path, LAUGHS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{tmp_path / 'config.yaml'}, line 10" in message  # the entry that expands past it
    assert f"more than {MAX_NODES:,} values" in message
    assert peak < 50 * 1024 * 1024  # counting, not expanding: a few MB at most


def test_a_small_file_with_aliases_still_loads(tmp_path):
    text = ("defaults: &d\n  timeout: 90\n  probe_timeout: 1\n"
            "tinyollama:\n  url: http://127.0.0.1:11434\n  model: tinyllama\n  timeout: 9\n"
            "sessions:\n  max_history: 10\n")
    assert load(tmp_path, text).get_default_timeout() == 90


def test_a_recursive_or_deep_document_is_refused(tmp_path):
    assert f"deeper than {MAX_DEPTH} levels" in refusal(tmp_path, "x: &x [*x]\n")
    deep = "x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert f"deeper than {MAX_DEPTH} levels" in refusal(tmp_path, deep)


@pytest.mark.parametrize("text, line, words", [
    ("sessions: 5\n", 1, "sessions must be a mapping"),
    ("redis:\n  url: embedded\ndefaults: [1]\n", 3, "defaults must be a mapping"),
    ("code: yes\n", 1, "code must be a mapping"),
    ("tinyollama: http://127.0.0.1:11434\n", 1, "tinyollama must be a mapping"),
    ("redis: [embedded]\n", 1, "redis must be a mapping"),
])
def test_a_section_of_the_wrong_type_names_file_and_line(tmp_path, text, line, words):
    message = refusal(tmp_path, text)
    assert f"config.yaml, line {line}: {words}" in message


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "+.Inf"])
@pytest.mark.parametrize("setting", ["probe_timeout", "availability_ttl", "timeout"])
def test_nan_and_infinity_are_refused_wherever_a_number_is_read(tmp_path, setting, value):
    message = refusal(tmp_path, f"defaults:\n  {setting}: {value}\n")
    assert f"config.yaml, line 2: defaults.{setting}" in message


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_nan_and_infinity_elsewhere(tmp_path, value):
    for text, words in ((f"redis:\n  embedded_linger: {value}\n", "redis.embedded_linger"),
                        (f"tinyollama:\n  timeout: {value}\n", "tinyollama.timeout")):
        assert words in refusal(tmp_path, text)
    counted = load(tmp_path, f"sessions:\n  max_history: {value}\n")
    with pytest.raises(ConfigError) as caught:
        counted.get_count("sessions", "max_history", 40)
    assert "sessions.max_history" in str(caught.value)
    for raw in ("nan", "inf", "-inf", "Infinity"):
        with pytest.raises(ConfigError) as caught:
            ConfigManager(None, {}, {"AI_CLI_EMBEDDED_LINGER": raw}).embedded_linger
        assert "AI_CLI_EMBEDDED_LINGER" in str(caught.value)


@pytest.mark.parametrize("url, words", [
    ("redis://localhost:abc", "Port could not be cast"),
    ("redis://[::1", "Invalid IPv6 URL"),
    ("redis://localhost:99999", "Port out of range"),
    ("unix://", "names no socket"),
    ("rediss://127.0.0.1:1/0?socket_timeout=abc", "socket_timeout"),
    ("http://127.0.0.1:6379", "is not a Redis URL"),
])
def test_a_malformed_redis_url_is_one_line_naming_the_variable(tmp_path, url, words):
    message = refusal(tmp_path, "", env={"AI_CLI_REDIS_URL": url})
    assert message.startswith("AI_CLI_REDIS_URL=") and words in message
    assert "redis://[:PASSWORD@]HOST[:PORT][/DB]" in message


def test_a_malformed_redis_url_in_the_file_names_file_and_line(tmp_path):
    message = refusal(tmp_path, "redis:\n  url: 'redis://:secret@localhost:abc'\n")
    assert "config.yaml, line 2: redis.url" in message and "secret" not in message


def test_a_malformed_redis_url_from_the_flag(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ConfigManager.load(path, env={}, overrides={"redis_url": "redis://h:x"})
    assert str(caught.value).startswith("--redis-url=")


@pytest.mark.process
@pytest.mark.parametrize("env, words", [
    ({"AI_CLI_REDIS_URL": "redis://localhost:abc"}, "AI_CLI_REDIS_URL="),
    ({"AI_CLI_CONFIG": "BOMB"}, "more than"),
])
def test_the_cli_says_one_line_and_exits_2(tmp_path, env, words):
    import os
    import subprocess
    import sys

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(LAUGHS, encoding="utf-8")
    env = {k: str(bomb) if v == "BOMB" else v for k, v in env.items()}
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "cli", "model", "list"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(root), **env},
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert "Unexpected error" not in proc.stderr

"""config.yaml loading, lookup order, precedence and error messages."""

from pathlib import Path

import pytest

from registry.config import ConfigManager
from registry.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_shipped_config_is_loopback_and_complete():
    config = ConfigManager.load(ROOT / "config.yaml", env={})
    fallback = config.get_fallback_model()
    assert (fallback.url, fallback.model_name, fallback.disabled_features) == (
        "http://localhost:11434", "tinyllama", ("code",))
    assert fallback.timeout == 60
    assert config.redis_url == "embedded"
    assert config.get_default_timeout() == 120
    assert (config.probe_timeout, config.availability_ttl) == (2.0, 30.0)
    assert config.get_legacy_models() == []


def test_builtin_defaults_without_any_file(tmp_path):
    config = ConfigManager.load(env={}, cwd=tmp_path)
    assert config.path is None
    assert config.get_fallback_model().model_name == "tinyllama"
    assert config.redis_url == "embedded"


def test_lookup_order(tmp_path, monkeypatch):
    user = write(tmp_path / "xdg-config" / "ai-cli" / "config.yaml", "defaults: {timeout: 11}\n")
    assert ConfigManager.load(env={}).path == user
    here = write(tmp_path / "config.yaml", "defaults: {timeout: 22}\n")
    assert ConfigManager.load(env={}).path == user  # ./config.yaml without `ai_cli:`: not ours
    here = write(tmp_path / "config.yaml", "ai_cli: 1\ndefaults: {timeout: 22}\n")
    assert ConfigManager.load(env={}).path == here
    from_env = write(tmp_path / "env.yaml", "defaults: {timeout: 33}\n")
    assert ConfigManager.load(env={"AI_CLI_CONFIG": str(from_env)}).get_default_timeout() == 33
    flag = write(tmp_path / "flag.yaml", "defaults: {timeout: 44}\n")
    config = ConfigManager.load(flag, env={"AI_CLI_CONFIG": str(from_env)})
    assert config.get_default_timeout() == 44


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="AI_CLI_CONFIG"):
        ConfigManager.load(env={"AI_CLI_CONFIG": str(tmp_path / "nope.yaml")})
    with pytest.raises(ConfigError, match="--config"):
        ConfigManager.load(tmp_path / "nope.yaml", env={})


def test_precedence_file_env_flag(tmp_path):
    path = write(tmp_path / "c.yaml", "redis: {url: 'redis://localhost:6390/1'}\n")
    assert ConfigManager.load(path, env={}).redis_url == "redis://localhost:6390/1"
    env = {"AI_CLI_REDIS_URL": "unix:///tmp/r.sock"}
    assert ConfigManager.load(path, env=env).redis_url == "unix:///tmp/r.sock"
    flagged = ConfigManager.load(path, env=env, overrides={"redis_url": "redis://127.0.0.1:1/0"})
    assert flagged.redis_url == "redis://127.0.0.1:1/0"


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path / "c.yaml", "tinyollama:\n  url: http://localhost:11434\n  model: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        ConfigManager.load(path, env={})
    assert str(path) in str(caught.value) and "line" in str(caught.value)


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("tinyollama:\n  url: ftp://x\n", 2, "tinyollama.url"),
        ("tinyollama:\n  model: tinyllama\n  timeout: -1\n", 3, "tinyollama.timeout"),
        ("tinyollama:\n  disabled_features: code\n", 2, "must be a list"),
        ("defaults:\n  timeout: 120\n  probe_timeout: fast\n", 3, "defaults.probe_timeout"),
        ("redis:\n  url: mysql://x\n", None, "mysql"),
        ("ollama:\n  url: http://localhost:11434\n  model: 'bad name'\n", 3, "ollama.model"),
        ("coder: nope\n", 1, "coder"),
        ("- a\n- b\n", 1, "mapping"),
    ],
)
def test_wrong_values_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError) as caught:
        config = ConfigManager.load(path, env={})
        config.get_legacy_models()
    message = str(caught.value)
    assert words in message
    if line:
        assert f"{path}, line {line}" in message
    assert "\n" not in message


def test_legacy_sections(tmp_path):
    path = write(tmp_path / "c.yaml", """
general:
  url: http://127.0.0.1:11434
  model: llama3.1:8b
coder:
  url: http://localhost:11434/
  model: qwen2.5-coder:7b
  timeout: 300
defaults: {timeout: 90}
""")
    models = {m.model_type: m for m in ConfigManager.load(path, env={}).get_legacy_models()}
    assert models["general"].model_name == "llama3.1:8b"
    assert models["general"].timeout == 90
    assert models["coder"].url == "http://localhost:11434"
    assert models["coder"].timeout == 300


def test_ollama_section_wins_over_general(tmp_path):
    path = write(tmp_path / "c.yaml", """
ollama: {url: 'http://localhost:1', model: a}
general: {url: 'http://localhost:2', model: b}
""")
    (model,) = ConfigManager.load(path, env={}).get_legacy_models()
    assert (model.section, model.model_name) == ("ollama", "a")


def test_env_flags():
    config = ConfigManager.load(env={"AI_CLI_SKIP_MODEL_MIGRATION": "true",
                                     "AI_CLI_FORCE_CONFIG_YAML": "1"})
    assert config.skip_migration and config.force_config_yaml
    assert not ConfigManager.load(env={}).skip_migration


def test_data_dir_follows_xdg(tmp_path):
    assert ConfigManager.load(env={}).data_dir == tmp_path / "xdg-data" / "ai-cli"


def test_counts_of_later_parts_name_file_and_line(tmp_path):
    path = write(tmp_path / "c.yaml", "code:\n  max_steps: 0\nsessions:\n  max_history: 5\n")
    config = ConfigManager.load(path, env={})
    assert config.get_count("sessions", "max_history", 40, least=0) == 5
    assert config.get_count("sessions", "max_stored", 1000) == 1000
    with pytest.raises(ConfigError, match=r"c.yaml, line 2: code.max_steps must be a whole number"):
        config.get_count("code", "max_steps", 12)

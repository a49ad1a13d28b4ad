"""config.yaml's parse cache: a second command with the same file imports no yaml; any edit of
the text is seen; a cache that is corrupt or cannot hold the data changes nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from registry.config.settings import ConfigManager, user_data_dir
from registry.config.cache import CACHE_FILE

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from registry.config import ConfigManager
config = ConfigManager.load(sys.argv[1])
print(config.get_default_timeout(), "yaml" in sys.modules)
"""


def load_in_child(path: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def write(path: Path, timeout: int) -> None:
    path.write_text(f"defaults:\n  timeout: {timeout}\n", encoding="utf-8")


@pytest.mark.process
def test_the_second_load_of_the_same_text_imports_no_yaml(tmp_path):
    config = tmp_path / "config.yaml"
    write(config, 111)
    assert load_in_child(config) == "111 True"
    assert load_in_child(config) == "111 False"


def test_an_edit_of_the_same_size_and_time_is_seen(tmp_path):
    config = tmp_path / "config.yaml"
    write(config, 111)
    assert ConfigManager.load(config).get_default_timeout() == 111
    before = config.stat()
    write(config, 222)  # same length; then the old timestamps back, as a quick editor might
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert ConfigManager.load(config).get_default_timeout() == 222


@pytest.mark.process
def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path):
    config = tmp_path / "config.yaml"
    write(config, 111)
    ConfigManager.load(config)
    cache = user_data_dir() / CACHE_FILE
    cache.write_text('{"version": 1, "path": "', encoding="utf-8")
    assert ConfigManager.load(config).get_default_timeout() == 111
    assert load_in_child(config) == "111 False"  # written again, whole


def test_data_json_cannot_hold_is_parsed_every_time(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("defaults:\n  timeout: 120\nnotes:\n  1: a number as a key\n",
                      encoding="utf-8")
    assert ConfigManager.load(config).section("notes") == {1: "a number as a key"}
    assert not (user_data_dir() / CACHE_FILE).exists()


def test_the_cache_is_private(tmp_path):
    config = tmp_path / "config.yaml"
    write(config, 111)
    old = os.umask(0)
    try:
        ConfigManager.load(config)
    finally:
        os.umask(old)
    cache = user_data_dir() / CACHE_FILE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700

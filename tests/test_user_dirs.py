"""registry/config/user_dirs.py follows the XDG spec itself on Linux: the same folders platformdirs names,
in every way the environment can be set."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from registry.config.user_dirs import APP_NAME, user_config_dir, user_data_dir

CASES = {
    "absolute": ("/srv/xdg", "/home/ada"),
    "relative (ignored)": ("relative/xdg", "/home/ada"),
    "empty": ("", "/home/ada"),
    "unset": (None, "/home/ada"),
    "no HOME": (None, None),
    "relative HOME": (None, "not/absolute"),
}


@pytest.mark.parametrize("xdg, home", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("ours, variable, theirs", [
    (user_data_dir, "XDG_DATA_HOME", platformdirs.user_data_dir),
    (user_config_dir, "XDG_CONFIG_HOME", platformdirs.user_config_dir),
])
def test_the_same_folder_as_platformdirs(monkeypatch, ours, variable, theirs, xdg, home):
    for name, value in ((variable, xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert ours() == Path(theirs(APP_NAME, appauthor=False))
    assert ours().is_absolute()


def test_the_spec_itself(monkeypatch):
    monkeypatch.setenv("HOME", "/home/ada")
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert user_data_dir() == Path("/srv/data/ai-cli")
    assert user_config_dir() == Path("/home/ada/.config/ai-cli")

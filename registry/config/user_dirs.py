"""Where ai-cli keeps a user's files: the folder of config.yaml, and the data dir.

On Linux that is the XDG Base Directory spec, followed here: importing platformdirs would be
a cost of its own on every start (bench/README.md has the figure). Elsewhere (macOS, Windows),
and when no absolute home directory can be found, platformdirs decides. tests/test_user_dirs.py
holds the two to the same answers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "ai-cli"


def user_config_dir() -> Path:
    return _user_dir("XDG_CONFIG_HOME", "~/.config", "user_config_dir")


def user_data_dir() -> Path:
    return _user_dir("XDG_DATA_HOME", "~/.local/share", "user_data_dir")


def _user_dir(variable: str, default: str, platformdirs_name: str) -> Path:
    if sys.platform.startswith("linux"):
        base = os.environ.get(variable, "")
        if not os.path.isabs(base):  # unset, empty or relative: the spec says to ignore it
            base = os.path.expanduser(default)
        if os.path.isabs(base):  # a relative HOME is no home: platformdirs asks the system
            return Path(base) / APP_NAME
    import platformdirs

    return Path(getattr(platformdirs, platformdirs_name)(APP_NAME, appauthor=False))

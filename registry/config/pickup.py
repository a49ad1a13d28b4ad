"""Which config file ai-cli reads, and why: `--config`, then `AI_CLI_CONFIG`, then `./config.yaml`
only when it says it is ai-cli's (a top-level `ai_cli:` key), then the user config dir. A
config.yaml of another project in the current folder is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from registry.config.user_dirs import user_config_dir
from registry.config.yaml_file import read_yaml
from registry.errors import ConfigError

LEGACY_SECTIONS = {"ollama": "general", "general": "general", "coder": "coder"}
MARKER = "ai_cli"  # the top-level key that makes ./config.yaml ai-cli's (`ai_cli: 1`)
# Where the file in use came from: how `config path` says why it was chosen.
PICKED_BY = {
    "flag": "named by --config",
    "env": "named by AI_CLI_CONFIG",
    "cwd": f"./config.yaml in the current folder, which has the `{MARKER}:` line",
    "user": "your config file (the user config dir)",
}


@dataclass(frozen=True)
class ConfigPickup:
    """Which config file is in use and why (`origin`: a key of PICKED_BY, None: none), and the
    files passed over with the reason for each."""

    path: Path | None
    origin: str | None
    skipped: tuple[tuple[Path, str], ...] = ()
    looks_like_ours: tuple[Path, ...] = ()  # skipped, yet with ai-cli's sections: say so

    @property
    def why(self) -> str:
        return PICKED_BY[self.origin] if self.origin else "no config file: the built-in defaults"

    @property
    def users_own(self) -> bool:
        """Whether the user chose this file (named it, or keeps it in their config dir)."""
        return self.origin != "cwd"


def pick_config(path, env: Mapping[str, str], cwd: Path) -> ConfigPickup:
    """The config file to read, and why; module docstring has the rule."""
    explicit = path or env.get("AI_CLI_CONFIG")
    if explicit:
        chosen = Path(explicit).expanduser()
        if not chosen.is_file():
            source = "--config" if path else "AI_CLI_CONFIG"
            raise ConfigError(f"The config file {str(chosen)!r} ({source}) does not exist.")
        return ConfigPickup(chosen, "flag" if path else "env")
    skipped, ours = [], []
    here = cwd / "config.yaml"
    if here.is_file():
        problem = not_ai_clis(here)
        if problem is None:
            return ConfigPickup(here, "cwd")
        skipped.append((here, problem))
        if problem.startswith(LOOKS_OURS):
            ours.append(here)
    users = user_config_dir() / "config.yaml"
    return ConfigPickup(users if users.is_file() else None, "user" if users.is_file() else None,
                        tuple(skipped), tuple(ours))


LOOKS_OURS = "it has ai-cli's sections"


def not_ai_clis(path: Path) -> str | None:
    """Why the config.yaml in the current folder is not ai-cli's, or None when it is (it has
    a top-level `ai_cli:` key). A file that does not parse is another program's, never an
    error of ai-cli's."""
    fix = f"add a line `{MARKER}: 1` to it, or pass --config {path.name}, to use it"
    try:
        data, _lines = read_yaml(path)
    except ConfigError:
        return f"not ai-cli's (it does not read as a YAML mapping); {fix}"
    if MARKER in data:
        return None
    if any(name in data for name in ("tinyollama", *LEGACY_SECTIONS)):
        return f"{LOOKS_OURS} but no `{MARKER}:` line; {fix}"
    return f"not ai-cli's (no `{MARKER}:` line); {fix}"

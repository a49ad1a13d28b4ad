"""`ai-cli config path` and `config show`: which config file ai-cli reads and why, and every
setting with its source (registry/config/settings.py holds the rule; docs/CONFIG.md says it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import Args


@dataclass(frozen=True)
class ConfigPath:
    path: str | None
    why: str
    skipped: list[tuple[str, str]]

    def to_json(self) -> Any:
        return {"path": self.path, "why": self.why,
                "skipped": [{"path": p, "why": w} for p, w in self.skipped]}


@dataclass(frozen=True)
class ConfigShow:
    path: str | None
    settings: list  # registry.config.settings.Setting

    def to_json(self) -> Any:
        return {"path": self.path, "settings": [s.to_json() for s in self.settings]}


def show_path(app, args: Args) -> ConfigPath:
    from registry.config.pickup import ConfigPickup

    pickup = app.config.pickup or ConfigPickup(app.config.path, None)
    return ConfigPath(str(pickup.path) if pickup.path else None, pickup.why,
                      [(str(p), why) for p, why in pickup.skipped])


def show_settings(app, args: Args) -> ConfigShow:
    from registry.config.settings import merged_settings

    path = app.config.path
    return ConfigShow(str(path) if path else None, merged_settings(app.config))

"""What `/model discover`, `check` and `status` return (each asks the models' servers). The
terminal draws them (cli/views/models.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.model import mask_url


@dataclass(frozen=True)
class Discovered:
    url: str
    names: list[str]

    @property
    def shown_url(self) -> str:
        return mask_url(self.url)

    def to_json(self) -> Any:
        return {"url": self.shown_url, "models": self.names}


@dataclass
class CheckRow:
    label: str  # model id, or "fallback"
    name: str
    url: str  # as shown: password masked
    result: Any = None  # ProbeResult once the probe is back


@dataclass
class CheckResult:
    """The probes of `check`, filled in as each answer comes back (reported as `Progress`)."""

    rows: list[CheckRow] = field(default_factory=list)

    def to_json(self) -> Any:
        return [row.result.to_json() for row in self.rows]


@dataclass(frozen=True)
class Status:
    status: dict  # Router.status()

    def to_json(self) -> Any:
        return self.status

    @property
    def exit_code(self) -> int:
        """1 when any route (general or coder) has no model that can answer: a script's
        `ai-cli model status ||` then knows chat or /code would fail. A coder route that uses
        the general model (none of its own) has one."""
        routes = self.status.get("routes", {})
        return 0 if routes and all(route.get("model") for route in routes.values()) else 1

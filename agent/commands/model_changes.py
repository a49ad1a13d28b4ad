"""What `/model add`, `use` and `remove` (and the wizard) return: the model (JSON: the registry's
shape) and what happened to it. The terminal draws them (cli/views/models.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.model import ModelConfig


@dataclass(frozen=True)
class ModelAdded:
    model: ModelConfig
    probe_reason: str | None = None  # set when it was added despite failing the probe
    already: bool = False  # this URL and model were registered for the type: nothing changed
    hosts: int = 1  # how many hosts serve the model now (registry/replicas.py)

    def to_json(self) -> Any:
        """The model; `"already": true` when nothing was added, `"hosts"` when it now has more
        than one (a single new model keeps the plain model shape)."""
        extra = {"already": True} if self.already else {}
        if self.hosts > 1:
            extra["hosts"] = self.hosts
        return {**self.model.to_json(), **extra}


@dataclass(frozen=True)
class ModelChanged:
    """`use` and `remove`: the model, and what happened to it."""

    model: ModelConfig
    what: str  # "is now active" | "removed"
    note: str | None = None
    warning: str | None = None  # `use` of a model whose server does not answer now

    def to_json(self) -> Any:
        return self.model.to_json()

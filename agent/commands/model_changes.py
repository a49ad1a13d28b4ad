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

    def to_json(self) -> Any:
        return self.model.to_json()


@dataclass(frozen=True)
class ModelChanged:
    """`use` and `remove`: the model, and what happened to it."""

    model: ModelConfig
    what: str  # "is now active" | "removed"
    note: str | None = None
    warning: str | None = None  # `use` of a model whose server does not answer now

    def to_json(self) -> Any:
        return self.model.to_json()

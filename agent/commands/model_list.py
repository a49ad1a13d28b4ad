"""What `/model list` returns: the models (JSON: the registry's shape) and, for people, each
model's recent speed from the answer log. The terminal draws it (cli/views/models.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.model import ModelConfig


@dataclass(frozen=True)
class ModelList:
    models: list[ModelConfig]
    model_type: str | None = None
    speeds: dict[str, float] = field(default_factory=dict)  # model id -> median tokens/s (log)

    def to_json(self) -> Any:
        return [m.to_json() for m in self.models]

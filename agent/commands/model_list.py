"""What `/model list` returns: the models (JSON: the registry's shape, each entry with every host
of its model under `replicas`) and, for people, each model's recent speed from the answer log.
The terminal draws it (cli/views/models.py), one model per type with its hosts beneath."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.model import ModelConfig
from registry.replicas import ReplicaGroup, replica_groups


def replica_json(model: ModelConfig) -> dict:
    """One host of a model. The load figures come with load balancing: null until then."""
    return {
        "model_id": model.model_id,
        "host": model.host,
        "url": model.shown_url,
        "is_active": model.is_active,
        "is_available": model.is_available,
        "last_checked": model.to_json()["last_checked"],
        "in_flight": None,
        "ttft_p50_ms": None,
        "success_rate": None,
    }


@dataclass(frozen=True)
class ModelList:
    models: list[ModelConfig]
    model_type: str | None = None
    speeds: dict[str, float] = field(default_factory=dict)  # model id -> median tokens/s (log)

    @property
    def groups(self) -> list[ReplicaGroup]:
        """The entries as models: one per model and type, its hosts in registry order."""
        return replica_groups(self.models)

    def to_json(self) -> Any:
        """One element per registry entry (its id is what `remove` and the web page act on), each
        with `replicas`: every host of its model, itself included, the same list for each."""
        shown = []
        for group in self.groups:
            replicas = [replica_json(m) for m in group.entries]
            for model in group.entries:
                shown.append({**model.to_json(), "replicas": replicas})
        order = {m.model_id: i for i, m in enumerate(self.models)}
        return sorted(shown, key=lambda entry: order.get(entry["model_id"], 0))

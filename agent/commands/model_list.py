"""What `/model list` returns: the models (JSON: the registry's shape, each entry with every host
of its model under `replicas`) and, for people, each model's recent speed from the answer log.
The terminal draws it (cli/views/models.py), one model per type with its hosts beneath."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.model import ModelConfig
from registry.replicas import ReplicaGroup, replica_groups


def replica_json(model: ModelConfig, load: dict | None = None) -> dict:
    """One host of a model, with its load figures (`HostLoad`; null when not known)."""
    figures = (load or {}).get(model.model_id) or HostLoad()
    return {
        "model_id": model.model_id,
        "host": model.host,
        "url": model.shown_url,
        "is_active": model.is_active,
        "is_available": model.is_available,
        "last_checked": model.to_json()["last_checked"],
        "in_flight": figures.in_flight,
        "ttft_p50_ms": figures.ttft_p50_ms,
        "success_rate": figures.success_rate,
    }


@dataclass(frozen=True)
class HostLoad:
    """One entry's load: requests in flight now (the balancer's leases), and from the answer
    log its p50 time to first token and success rate. None: not known."""

    in_flight: int | None = None
    ttft_p50_ms: int | None = None
    success_rate: float | None = None

    @property
    def known(self) -> bool:
        return any(v is not None for v in (self.in_flight, self.ttft_p50_ms, self.success_rate))


@dataclass(frozen=True)
class ModelList:
    models: list[ModelConfig]
    model_type: str | None = None
    speeds: dict[str, float] = field(default_factory=dict)  # model id -> median tokens/s (log)
    load: dict[str, HostLoad] = field(default_factory=dict)  # model id -> its load figures

    @property
    def groups(self) -> list[ReplicaGroup]:
        """The entries as models: one per model and type, its hosts in registry order."""
        return replica_groups(self.models)

    def to_json(self) -> Any:
        """One element per registry entry (its id is what `remove` and the web page act on), each
        with `replicas`: every host of its model, itself included, the same list for each."""
        shown = []
        for group in self.groups:
            replicas = [replica_json(m, self.load) for m in group.entries]
            for model in group.entries:
                shown.append({**model.to_json(), "replicas": replicas})
        order = {m.model_id: i for i, m in enumerate(self.models)}
        return sorted(shown, key=lambda entry: order.get(entry["model_id"], 0))

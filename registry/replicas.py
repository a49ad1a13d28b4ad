"""Replicas: registry entries that serve one Ollama model from several hosts. Pure: no I/O.

Each registry entry stays one `models:{id}` hash (docs/ARCHITECTURE.md, "Redis keys"); which
entries are one model is derived here whenever it is needed, never stored. Two entries of one
type are replicas when both hosts reported a digest for the model (`/api/tags`) and the digests
are equal, or, when either digest is unknown, when their names are equal (`llama3` and
`llama3:latest` are one name, as Ollama has it). An entry's digest is the one a caller passes,
else the one its host reported when the entry's capabilities were last read (registry/model.py
`capabilities_digest`), so no request asks a host for it. Equal names with two known, different digests
are two models (another quantisation pushed under the same tag). The relation is closed
transitively, so a group never depends on the order of the entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from registry.model import ModelConfig


def tagged_name(name: str) -> str:
    """A model name as Ollama compares them: lower case, `:latest` when it has no tag."""
    name = name.strip().lower()
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def untagged_name(name: str) -> str:
    """The name without its tag: `mistral:7b` -> `mistral`."""
    name = tagged_name(name)
    return name.rsplit(":", 1)[0]


@dataclass(frozen=True)
class ReplicaGroup:
    """One model of one type and the entries (hosts) serving it, in registry order."""

    entries: tuple[ModelConfig, ...]

    @property
    def model_type(self) -> str:
        return self.entries[0].model_type

    @property
    def model_name(self) -> str:
        return self.entries[0].model_name

    @property
    def hosts(self) -> list[str]:
        return [m.host for m in self.entries]

    def preferred(self) -> ModelConfig:
        """The entry a request for "this model, any host" tries first: the active one, else one
        last seen available, else the first."""
        for wanted in (lambda m: m.is_active, lambda m: m.is_available is True):
            found = next((m for m in self.entries if wanted(m)), None)
            if found is not None:
                return found
        return self.entries[0]


def same_model(a: ModelConfig, b: ModelConfig, digests: Mapping[str, str] | None = None) -> bool:
    """Whether two entries are replicas of one model (the rule in the module's docstring)."""
    if a.model_type != b.model_type or a.corrupt or b.corrupt:
        return False
    digests = digests or {}
    digest_a = digests.get(a.model_id) or a.capabilities_digest
    digest_b = digests.get(b.model_id) or b.capabilities_digest
    if digest_a and digest_b:
        return digest_a == digest_b
    return tagged_name(a.model_name) == tagged_name(b.model_name)


def replica_groups(models: Iterable[ModelConfig],
                   digests: Mapping[str, str] | None = None) -> list[ReplicaGroup]:
    """The entries grouped into models, in the order each model's first entry appears.

    `digests`: model id -> the digest its host reported, for the entries whose digest is known.
    A corrupt entry is a group of its own.
    """
    models = list(models)
    parent = list(range(len(models)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(models):
        for j in range(i + 1, len(models)):
            if same_model(a, models[j], digests):
                parent[root(j)] = root(i)
    groups: dict[int, list[ModelConfig]] = {}
    for i, model in enumerate(models):
        groups.setdefault(root(i), []).append(model)
    return [ReplicaGroup(tuple(entries)) for entries in groups.values()]


def group_of(model: ModelConfig, models: Iterable[ModelConfig],
             digests: Mapping[str, str] | None = None) -> ReplicaGroup:
    """The group `model` belongs to (just itself when it is not among `models`)."""
    for group in replica_groups(models, digests):
        if any(m.model_id == model.model_id for m in group.entries):
            return group
    return ReplicaGroup((model,))


def replicas_of(model: ModelConfig, models: Iterable[ModelConfig],
                digests: Mapping[str, str] | None = None) -> list[ModelConfig]:
    """The other entries serving the same model as `model` (not `model` itself)."""
    return [m for m in group_of(model, models, digests).entries if m.model_id != model.model_id]


def duplicate_of(models: Iterable[ModelConfig], model_type: str, url: str,
                 model_name: str) -> ModelConfig | None:
    """The entry of `model_type` already registered for this URL and model name, if any."""
    wanted_url, wanted_name = url.rstrip("/").lower(), tagged_name(model_name)
    for model in models:
        if (model.model_type == model_type and not model.corrupt
                and model.url.rstrip("/").lower() == wanted_url
                and tagged_name(model.model_name) == wanted_name):
            return model
    return None

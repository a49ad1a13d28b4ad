"""`/api/tags`, `/api/ps`, `/v1/models`: the registry's models as one server's list. Pure.

One entry per model name, then one per preset (a name that runs the preset's model with its
system prompt and options): the replicas of a model on several hosts (and one name registered as
both a general and a coder model) are one model to a client, which names it and lets the router
pick the host. Sizes, digests and details come from the first host that reported the model;
a model whose hosts did not answer is still listed, with what the registry knows.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from registry.model import ModelConfig
from registry.replicas import tagged_name

EMPTY_DETAILS = {"parent_model": "", "format": "", "family": "", "families": None,
                 "parameter_size": "", "quantization_level": ""}


def _by_name(models: Iterable[ModelConfig]) -> dict[str, list[ModelConfig]]:
    named: dict[str, list[ModelConfig]] = {}
    for model in models:
        if not model.corrupt:
            named.setdefault(tagged_name(model.model_name), []).append(model)
    return named


def _reported(entries: list[ModelConfig], per_host: Mapping[str, list[dict]]) -> dict | None:
    for entry in entries:
        for item in per_host.get(entry.url, ()):
            if tagged_name(str(item.get("model") or item.get("name") or "")) == \
                    tagged_name(entry.model_name):
                return item
    return None


def tags(models: Iterable[ModelConfig], per_host: Mapping[str, list[dict]]) -> list[dict]:
    """`GET /api/tags`'s `models`."""
    listed = []
    for name, entries in _by_name(models).items():
        item = _reported(entries, per_host) or {}
        listed.append({
            "name": name, "model": name,
            "modified_at": item.get("modified_at") or _time(entries[0].added_at),
            "size": item.get("size") or 0, "digest": item.get("digest") or _name_digest(name),
            "details": item.get("details") if isinstance(item.get("details"), dict)
            else dict(EMPTY_DETAILS),
        })
    return listed


def preset_tags(presets: Iterable) -> list[dict]:
    """Each preset as a model name of `/api/tags` (`fast:latest`: Ollama's names carry a tag),
    so a client's model picker offers it; what it runs is the preset's model."""
    return [{"name": f"{p.name}:latest", "model": f"{p.name}:latest",
             "modified_at": p.updated_at or "", "size": 0,
             "digest": _name_digest("preset " + p.name),
             "details": {**EMPTY_DETAILS, "family": "ai-cli preset"}}
            for p in presets if not p.corrupt]


def preset_models(presets: Iterable) -> list[dict]:
    """Each preset as a model of `/v1/models`."""
    return [{"id": p.name, "object": "model", "created": 0, "owned_by": "ai-cli preset"}
            for p in presets if not p.corrupt]


def loaded(models: Iterable[ModelConfig], per_host: Mapping[str, list[dict]]) -> list[dict]:
    """`GET /api/ps`'s `models`: the registered models some host has loaded now."""
    listed = []
    for name, entries in _by_name(models).items():
        item = _reported(entries, per_host)
        if item is not None:
            listed.append({**item, "name": name, "model": name})
    return listed


def openai_models(models: Iterable[ModelConfig]) -> list[dict]:
    """`GET /v1/models`'s `data`."""
    return [{"id": name, "object": "model", "created": _epoch(entries[0].added_at),
             "owned_by": "ai-cli"} for name, entries in _by_name(models).items()]


def _name_digest(name: str) -> str:
    """A digest for a model no host described: clients tell models apart by digest (llm-ollama
    merges equal ones), so it is never empty or shared by two names."""
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()


def _time(value) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else ""


def _epoch(value) -> int:
    return int(value.timestamp()) if value is not None else 0

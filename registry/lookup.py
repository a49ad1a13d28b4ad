"""Finding a model by what a user typed. Pure: no I/O.

Every command that names a model (`-m`, `use`, `remove`, `/chat -m`, the web API) takes, tried
in this order:

- its exact id (`model_1a2b3c4d`);
- `name@host[:port]`: that model on that one host (the host pinned: no other host answers for it);
- its name (`llama3.1:8b`; `llama3` and `llama3:latest` are one name, as Ollama has it). A name
  several hosts serve (replicas, registry/replicas.py) is not ambiguous: it means that model on
  any of its hosts;
- a unique id prefix, at least 4 hex digits after `model_` (`model_1a2b`);
- a name without its tag, when one tag matches (`mistral` -> `mistral:7b`).

A name is looked for within the model type asked for. One that means two different models is
refused with the candidates and their hosts (exit 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from registry.errors import AmbiguousModel, UnknownModel, WrongModelType
from registry.model import ModelConfig
from registry.replicas import ReplicaGroup, replica_groups, tagged_name, untagged_name

ID_PREFIX = re.compile(r"model_[0-9a-f]{4,}")
DEFAULT_OLLAMA_PORT = "11434"


def same_name(a: str, b: str) -> bool:
    """Ollama's rule: a name without a tag means `:latest`."""
    return tagged_name(a) == tagged_name(b)


@dataclass(frozen=True)
class Named:
    """What a name resolved to: the entry to try first, every host of its model, and whether
    the user pinned that one host (`name@host`)."""

    model: ModelConfig
    group: ReplicaGroup
    pinned: bool = False
    any_host: bool = False  # the name meant the model, not one of its entries

    @property
    def several_hosts(self) -> bool:
        return self.any_host and len(self.group.entries) > 1


def resolve_model(models: Iterable[ModelConfig], text: str, model_type: str | None = None,
                  prefer: str | None = None) -> ModelConfig:
    """The entry `text` names, of `model_type` when given (see `resolve`)."""
    return resolve(models, text, model_type, prefer).model


def resolve(models: Iterable[ModelConfig], text: str, model_type: str | None = None,
            prefer: str | None = None) -> Named:
    """What `text` names, of `model_type` when given.

    `prefer`: with no type required, a type whose models win a name shared across types (chat's
    `-m` prefers general models). Raises UnknownModel, WrongModelType or AmbiguousModel.
    """
    models = list(models)
    wanted = text.strip()
    by_id = next((m for m in models if m.model_id == wanted.lower()), None)
    if by_id is not None:
        _check_type(by_id, model_type)
        return Named(by_id, _group_of(by_id, models))
    if "@" in wanted:
        return _resolve_pinned(models, wanted, model_type, prefer)
    for matches in (lambda m: same_name(m.model_name, wanted),
                    lambda m: ID_PREFIX.fullmatch(wanted.lower()) is not None
                    and m.model_id.startswith(wanted.lower()),
                    lambda m: ":" not in wanted and untagged_name(m.model_name) == wanted.lower()):
        found = _of_type([m for m in models if matches(m)], model_type, prefer)
        if found:
            return _one_model(found, models, wanted)
    raise UnknownModel(wanted)


def _resolve_pinned(models: list[ModelConfig], wanted: str, model_type, prefer) -> Named:
    name, _, host = wanted.rpartition("@")
    if not name or not host:
        raise UnknownModel(wanted)
    try:
        named = resolve(models, name, model_type, prefer)
    except UnknownModel:
        raise UnknownModel(wanted) from None  # the whole text, as typed
    on_host = ([m for m in named.group.entries if _host_matches(m, host, exact=True)]
               or [m for m in named.group.entries if _host_matches(m, host, exact=False)])
    if not on_host:
        hosts = ", ".join(named.group.hosts)
        raise UnknownModel(wanted, f"{named.model.model_name} is served by {hosts} only")
    if len(on_host) > 1:
        raise AmbiguousModel(wanted, [describe_candidate(m) for m in on_host])
    return Named(on_host[0], named.group, pinned=True)


def _host_matches(model: ModelConfig, host: str, exact: bool) -> bool:
    """`host:port` as `model list` shows it, or the host alone for Ollama's default port
    (`exact`); else the host alone for any port (used when it is the only one there)."""
    shown, wanted = bare_host(model).lower(), host.strip().lower().rstrip("/")
    if exact:
        return shown in (wanted, f"{wanted}:{DEFAULT_OLLAMA_PORT}")
    return ":" not in wanted.rsplit("]", 1)[-1] and shown.rsplit(":", 1)[0] == wanted


def bare_host(model: ModelConfig) -> str:
    """`host:port` without any user and password: how `name@host` names a host."""
    return model.host.rsplit("@", 1)[-1]


def _of_type(named: list[ModelConfig], model_type, prefer) -> list[ModelConfig]:
    if model_type is not None:
        of_type = [m for m in named if m.model_type == model_type]
        if not of_type and named:
            _check_type(named[0], model_type)
        return of_type
    if prefer is not None and any(m.model_type == prefer for m in named):
        return [m for m in named if m.model_type == prefer]
    return named


def _one_model(found: list[ModelConfig], models: list[ModelConfig], wanted: str) -> Named:
    """The one model (on any of its hosts) `found` is, or AmbiguousModel listing them."""
    groups = [g for g in replica_groups(models)
              if any(m.model_id in {f.model_id for f in found} for m in g.entries)]
    if len(groups) > 1:
        raise AmbiguousModel(wanted, [describe_candidate(m) for m in found])
    group = groups[0]
    entries = [m for m in group.entries if m.model_id in {f.model_id for f in found}]
    if len(entries) == 1 and len(group.entries) > 1:  # an id prefix: that entry
        return Named(entries[0], group)
    return Named(group.preferred(), group, any_host=True)


def _group_of(model: ModelConfig, models: list[ModelConfig]) -> ReplicaGroup:
    for group in replica_groups(models):
        if any(m.model_id == model.model_id for m in group.entries):
            return group
    return ReplicaGroup((model,))


def describe_candidate(model: ModelConfig) -> str:
    return f"{model.model_id} ({model.model_type}, {model.model_name} @ {model.host})"


def _check_type(model: ModelConfig, wanted: str | None) -> None:
    # A corrupt entry's type may be anything ("weird"): it is found by id under either type, so
    # it can be removed, and no advice ever names "/model weird ...".
    if wanted is not None and model.model_type != wanted and not model.corrupt:
        raise WrongModelType(model.model_id, model.model_type, wanted)


def name_choices(models: Iterable[ModelConfig]) -> dict[str, str]:
    """Every way to name the models (the forms above) -> the hosts behind it, for completion:
    each model's name (any of its hosts), `name@host` (that host), and each id."""
    choices: dict[str, str] = {}
    for group in replica_groups(models):
        first = group.entries[0]
        if not first.corrupt:
            several = f"{len(group.entries)} hosts: " if len(group.entries) > 1 else ""
            choices.setdefault(first.model_name, f"{first.model_type} · {several}"
                                                 f"{', '.join(group.hosts)}")
            for m in group.entries:
                choices.setdefault(f"{m.model_name}@{bare_host(m)}",
                                   f"{m.model_type} · {m.model_id}")
        for m in group.entries:
            choices.setdefault(m.model_id, f"{m.model_name} @ {m.host}")
    return {text: meta for text, meta in choices.items() if text and " " not in text}

"""The fallback chain as pure decisions: which model serves a request type, and what to tell the user.

    general: active general -> its other hosts -> another available general -> tinyllama fallback
             -> none
    coder:   active coder   -> its other hosts -> another available coder   -> the general route
             -> tinyllama unless `code` is in its disabled_features -> none

"Its other hosts": the replicas of the model tried first (registry/replicas.py), the same model
served by another host; only when none of them answers does the chain move on to other models.
A model asked for with `name@host` is pinned to that host: it is the whole chain. With balancing
(router/fleet.py) the snapshot carries the balancer's `order` of the first model's hosts, and the
first of them that is available answers (the same model: no notice); `avoid` leaves out the
entries a request already tried (a host that answered 503 "server busy" is not unavailable).

No I/O here: availability arrives as a function (model -> ProbeResult), the models as a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from registry.config import FallbackModel
from registry.model import ModelConfig
from registry.replicas import replicas_of
from router.errors import NO_MODEL_WARNINGS

PINNED = "@"  # after a requested model's id: the user pinned its host (`name@host`)
ANY_HOST = "*"  # after a requested model's id: the user named the model, any of its hosts


def request_key(model_id: str, pinned: bool = False, any_host: bool = False) -> str:
    """How a face hands the router the model `-m` named (`Snapshot.requested`): an id alone
    names that entry (tried first, then its other hosts), `*` the model on any of its hosts
    (balanced), `@` that one host only."""
    return model_id + (PINNED if pinned else ANY_HOST if any_host else "")

REQUEST_TYPES = ("general", "coder")
# The feature tinyllama's `disabled_features` names to keep it off a request type's chain.
FEATURE_OF = {"general": "chat", "coder": "code"}


@dataclass(frozen=True)
class Route:
    request_type: str  # "general" | "coder"
    model: ModelConfig | FallbackModel | None
    via: str  # "active" | "requested" (`-m`) | "other" | "general" | "fallback" | "none"
    notice: str | None  # one line when not the active model; the warning when none

    @property
    def available(self) -> bool:
        return self.model is not None

    def to_json(self) -> dict:
        return {
            "model": None if self.model is None else self.model.to_json(),
            "via": self.via,
            "notice": self.notice,
        }


@dataclass(frozen=True)
class Snapshot:
    """The registry's models at one moment, and why it could not be read (if it could not)."""

    models: tuple[ModelConfig, ...] = ()
    fallback: FallbackModel | None = None
    registry_problem: str | None = None
    pinned: dict = field(default_factory=dict)  # request_type -> model_id chosen for a session
    # a model asked for one request (`-m`), of any type: `request_key`'s id, `@` when pinned
    requested: str | None = None
    # the balancer's order of the first model's hosts (router/fleet.py); () = active host first
    order: tuple[str, ...] = ()
    avoid: frozenset = frozenset()  # entry ids this request already tried (busy, failed)

    @property
    def requested_id(self) -> str | None:
        return (None if self.requested is None
                else self.requested.removesuffix(PINNED).removesuffix(ANY_HOST))

    @property
    def entry_named(self) -> bool:
        """`-m` named one entry (its id): it is tried first, not balanced among its hosts."""
        return self.requested is not None and self.requested[-1:] not in (PINNED, ANY_HOST)

    @property
    def host_pinned(self) -> bool:
        """`-m name@host`: that host answers or nothing does."""
        return self.requested is not None and self.requested.endswith(PINNED)

    def active(self, model_type: str) -> ModelConfig | None:
        """The model a request of this type tries first: the one asked for with `-m`, else the
        session's pinned one, else the active one."""
        if self.requested is not None:
            for model in self.models:
                if model.model_id == self.requested_id:
                    return model
        pinned = self.pinned.get(model_type)
        if pinned is not None:
            for model in self.models:
                if model.model_id == pinned and model.model_type == model_type:
                    return model
        return next((m for m in self.models if m.model_type == model_type and m.is_active), None)

    def first_hosts(self, chosen: ModelConfig) -> list[ModelConfig]:
        """The first model's entry and its other hosts (its replicas), in registry order."""
        return [chosen, *replicas_of(chosen, self.models)]

    def first_tries(self, chosen: ModelConfig) -> list[ModelConfig]:
        """The hosts of the first model, tried before anything else: in the balancer's order
        when it gave one (the model served by several hosts), else the model's own entry."""
        by_id = {m.model_id: m for m in self.first_hosts(chosen)}
        ids = self.order if any(i in by_id for i in self.order) else (chosen.model_id,)
        return [by_id[i] for i in ids if i in by_id and i not in self.avoid]

    def others(self, model_type: str) -> list[ModelConfig]:
        """What is tried after the first model: its other hosts, then every other model of the
        type; within each, ones last seen available first, then oldest first."""
        chosen = self.active(model_type)
        hosts = [] if chosen is None else replicas_of(chosen, self.models)
        taken = {m.model_id for m in hosts} | {None if chosen is None else chosen.model_id}
        rest = [m for m in self.models if m.model_type == model_type and m.model_id not in taken]
        seen_first = lambda m: m.is_available is not True  # noqa: E731
        return [m for m in sorted(hosts, key=seen_first) + sorted(rest, key=seen_first)
                if m.model_id not in self.avoid]


Availability = Callable[[object], "ProbeResult"]  # noqa: F821 - registry.availability.ProbeResult


def choose(request_type: str, snapshot: Snapshot, availability: Availability) -> Route:
    """The route for one request type. Probes lazily: a later step is checked only if needed."""
    if snapshot.host_pinned and snapshot.active(request_type) is not None:
        return _choose_pinned(request_type, snapshot, availability)
    own, why = _choose_own_type(request_type, snapshot, availability)
    if own is not None:
        return own
    if request_type == "coder":
        general, _ = _choose_own_type("general", snapshot, availability)
        if general is not None:
            return Route(
                "coder", general.model, "general",
                f"ℹ Using general model {describe(general.model)} for code: {why}.",
            )
    return _choose_fallback(request_type, snapshot, availability, why)


def _choose_pinned(request_type: str, snapshot: Snapshot, availability: Availability) -> Route:
    """`-m name@host`: that entry, or no route saying the pinned host is down (never another
    host: the user chose this one)."""
    model = snapshot.active(request_type)
    result = availability(model)
    if result.is_available:
        return Route(request_type, _seen_available(model), "requested", None)
    others = replicas_of(model, snapshot.models)
    hint = (f" Ask with -m {model.model_name} to let any of its {len(others) + 1} hosts answer."
            if others else "")
    return Route(request_type, None, "none",
                 f"⚠ {describe(model)} is unavailable ({result.reason or 'no answer'}), and its "
                 f"host was pinned with {model.model_name}@{model.host}, so nothing else "
                 f"answers.{hint}")


def _choose_own_type(model_type: str, snapshot: Snapshot, availability: Availability):
    """(route, None) for the active (or pinned) model or the first other available one;
    (None, why) when there is none, `why` saying in a few words what is wrong."""
    if snapshot.registry_problem:
        return None, f"the model registry is unavailable ({snapshot.registry_problem})"
    active = snapshot.active(model_type)
    if active is None:
        configured = any(m.model_type == model_type for m in snapshot.models)
        why = f"no {model_type} model is {'active' if configured else 'configured'}"
    else:
        via = "requested" if active.model_id == snapshot.requested_id else "active"  # `-m`
        results = {}
        for first in snapshot.first_tries(active):  # one model: another host is no notice
            results[first.model_id] = availability(first)
            if results[first.model_id].is_available:
                return Route(model_type, _seen_available(first), via, None), None
        result = results.get(active.model_id) or availability(active)
        reason = result.reason if not result.is_available else "busy, or already tried"
        why = f"{model_type} model {describe(active)} is unavailable ({reason})"
    for other in snapshot.others(model_type):
        if availability(other).is_available:
            notice = f"ℹ Using {describe(other)}: {why}."
            return Route(model_type, _seen_available(other), "other", notice), None
    return None, why


def _choose_fallback(request_type: str, snapshot: Snapshot, availability: Availability, why: str):
    fallback = snapshot.fallback
    feature = FEATURE_OF[request_type]
    if fallback is not None and feature not in fallback.disabled_features:
        if availability(fallback).is_available:
            return Route(
                request_type, fallback, "fallback",
                f"ℹ Using the fallback {describe(fallback)}: {why}.",
            )
    return Route(request_type, None, "none", _none_warning(request_type, snapshot, availability,
                                                           why))


MOST_NAMED = 3  # models a warning names before "and N more"


def _none_warning(request_type: str, snapshot: Snapshot, availability: Availability,
                  why: str) -> str:
    """Why nothing can serve, told apart: nothing configured (the seed's warning), configured but
    unreachable (which models, why, what to do), the fallback turned off for it in config.yaml,
    or the registry itself unreachable."""
    warning = NO_MODEL_WARNINGS[request_type]
    if snapshot.registry_problem:
        return f"{warning} ({why})"
    configured = [m for m in snapshot.models if m.model_type == request_type]
    requested = snapshot.active(request_type)
    if requested is not None and requested not in configured:
        configured.insert(0, requested)  # `-m` named a model of the other type
    if not configured:
        fallback, feature = snapshot.fallback, FEATURE_OF[request_type]
        if (fallback is not None and feature in fallback.disabled_features
                and availability(fallback).is_available):
            return (f"{warning} The fallback {describe(fallback)} is up, but {feature} is turned "
                    f"off for it in config.yaml (tinyollama.disabled_features).")
        return warning
    by_reason: dict[str, list[str]] = {}  # one server down: its reason said once
    for model in configured[:MOST_NAMED]:
        reason = availability(model).reason or "unavailable"  # cached: the chain probed each
        by_reason.setdefault(reason, []).append(describe(model))
    more = len(configured) - MOST_NAMED
    listed = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
    listed += f"; and {more} more" if more > 0 else ""
    some = "it" if len(configured) == 1 else "them"
    return (f"⚠ No {request_type} model is reachable. {listed}. Start the Ollama server for "
            f"{some}, then run '/model check' (or add another with '/model {request_type} add').")


def _seen_available(model: ModelConfig) -> ModelConfig:
    """The chosen model as just probed (the snapshot may predate the probe)."""
    return model if model.is_available else model.with_changes(is_available=True)


def describe(model) -> str:
    """`name @ host`, plus the id for registered models, as notices name a model."""
    label = f"{model.model_name} @ {model.host}"
    model_id = model.model_id
    return f"{label} ({model_id})" if model_id else label

"""Routing a request that needs a capability (images: `vision`; `--think`: `thinking`; tool mode:
`tools`; `embed`: `embedding`), as pure decisions over the chain of router/chain.py.

- A model the user named for the request (`-m`) that lacks it is refused, naming the models
  that have it: a model the user chose is never switched silently.
- Otherwise the chain of the request's type, kept to the capable models: the active model if it
  is capable, else the best capable model of the type, else a capable model of another type,
  with one notice naming the model, its host, and why ("… for the image: llama3.1:8b cannot see
  images").
- No capable model answers: refused, naming the capability and an `ollama pull` hint. The
  tinyllama fallback never serves such a request (nothing says it has the capability).

No I/O: `has(model, capability)` arrives as a function (the router asks the checker, which reads
`/api/show` at most once per model digest).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from router.chain import REQUEST_TYPES, Availability, Route, Snapshot, choose, describe

# capability -> (what a model without it cannot do, what the request carries, a model to pull)
WORDS = {
    "vision": ("see images", "for the image", "llava"),
    "thinking": ("think", "to think", "qwen3"),
    "tools": ("call tools", "for tool mode", "llama3.1"),
    "embedding": ("make embeddings", "for the embedding", "nomic-embed-text"),
}
MOST_NAMED = 3

Has = Callable[[object, str], bool]


def lacking(model, needs, has: Has) -> list[str]:
    """The needed capabilities `model` does not have (the fallback has none that count)."""
    return [need for need in needs if not has(model, need)]


def choose_capable(request_type: str, snapshot: Snapshot, availability: Availability, has: Has,
                   needs: tuple[str, ...] = ()) -> Route:
    """The route for a request that needs every capability in `needs` (none: `choose`)."""
    if not needs:
        return choose(request_type, snapshot, availability)
    first = snapshot.active(request_type)
    if snapshot.requested is not None and first is not None and lacking(first, needs, has):
        return Route(request_type, None, "none", refuse_requested(first, snapshot, has, needs))
    capable = tuple(m for m in snapshot.models if not lacking(m, needs, has))
    narrowed = replace(snapshot, models=capable, fallback=None)
    route = choose(request_type, narrowed, availability)
    if not route.available:
        for other in (t for t in REQUEST_TYPES if t != request_type):
            route = choose(other, replace(narrowed, requested=None, pinned={}), availability)
            if route.available:
                route = replace(route, request_type=request_type, via="other")
                break
    if not route.available:
        return Route(request_type, None, "none",
                     refuse_none(request_type, snapshot, availability, has, needs))
    if first is not None and route.model.model_id != first.model_id and lacking(first, needs, has):
        return replace(route, notice=switched(route.model, first, needs, has))
    return route


def switched(used, first, needs, has: Has) -> str:
    """The one line when the model of the request's type cannot do what the request needs."""
    need = lacking(first, needs, has)[0]
    cannot, purpose, _ = _words(need)
    return f"ℹ Using {describe(used)} {purpose}: {first.model_name} cannot {cannot}."


def refuse_requested(model, snapshot: Snapshot, has: Has, needs) -> str:
    need = lacking(model, needs, has)[0]
    cannot, _, pull = _words(need)
    able = [m for m in snapshot.models if not lacking(m, needs, has)]
    if able:
        named = "; ".join(describe(m) for m in able[:MOST_NAMED])
        more = f"; and {len(able) - MOST_NAMED} more" if len(able) > MOST_NAMED else ""
        return (f"⚠ {describe(model)} cannot {cannot} (no {need} capability), and it was asked "
                f"for by name, so no other model is used. Models with {need}: {named}{more}. "
                f"Ask one of them with -m {able[0].model_name}.")
    return (f"⚠ {describe(model)} cannot {cannot} (no {need} capability), and no registered "
            f"model has {need}. Pull one ('ollama pull {pull}') and add it with '/model general "
            f"add URL {pull}', or mark a model with 'ai-cli model caps NAME +{need}'.")


def refuse_none(request_type: str, snapshot: Snapshot, availability: Availability, has: Has,
                needs) -> str:
    """No model with the capability answers: which have it but are down, or that none has it."""
    needed = [n for n in needs if not any(has(m, n) for m in snapshot.models)] or list(needs)
    need = needed[0]
    cannot, purpose, pull = _words(need)
    able = [m for m in snapshot.models if not lacking(m, needs, has)]
    if able:
        down = "; ".join(f"{describe(m)}: {availability(m).reason or 'unavailable'}"
                         for m in able[:MOST_NAMED])
        return (f"⚠ No model with {need} is reachable {purpose} ({down}). Start its server, "
                f"then run '/model check'.")
    return (f"⚠ No registered model can {cannot} (none has the {need} capability). Pull one "
            f"('ollama pull {pull}') and add it with '/model general add URL {pull}', or mark a "
            f"model that can with 'ai-cli model caps NAME +{need}'.")


def _words(need: str) -> tuple[str, str, str]:
    return WORDS.get(need, (f"do {need}", f"for {need}", need))

"""Embeddings: texts to vectors through the `embedding` chain (`ai-cli embed`, `POST /embed`).

The route is the `embedding` request type's, kept to models with the `embedding` capability
(router/requirements.py): the active embedding model, another of the type, else any model with
the capability, never the tinyllama fallback. The request is Ollama's `POST /api/embed`
(`{"model", "input": [...]}` -> `{"embeddings": [[...], ...]}`), sent with httpx under the
model's timeout. A model that cannot be reached or is not pulled is marked unavailable and the
next capable model is asked, once, as a chat request fails over (router/stream.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.availability import model_key
from router.chain import Route, describe
from router.errors import NoModelAvailable
from router.failures import classify, to_error

NEEDS = ("embedding",)
MAX_FAILOVERS = 1


@dataclass(frozen=True)
class Embedded:
    vectors: list[list[float]]
    route: Route  # the route that answered
    notices: tuple[str, ...] = ()  # a failover's lines

    def to_json(self) -> dict:
        model = self.route.model
        return {"model_id": model.model_id, "model_name": model.model_name,
                "embeddings": self.vectors}


def embed(router, texts: list[str], model_id: str | None = None, on_notice=None) -> Embedded:
    """The vector of each text, in order, from the embedding route."""
    route = router.route("embedding", None, model_id, NEEDS)
    tried: set = set()
    notices: list[str] = []
    while True:
        if not route.available:
            raise NoModelAvailable("embedding", route.notice)
        model = route.model
        try:
            return Embedded(_ask(model, texts), route, tuple(notices))
        except Exception as exc:  # noqa: BLE001 - classified below; unknown ones re-raised
            kind = classify(exc)
            if kind is None:
                raise
            error = to_error(kind, model, describe(model), exc, False)
            if not kind.fail_over or len(tried) > MAX_FAILOVERS:
                raise error from exc
            reason = kind.explain(model.model_name, exc)
            router.checker.mark_unavailable(model, reason)
            tried.add(model_key(model))
            route = router.route("embedding", None, model_id, NEEDS)
            if not route.available or model_key(route.model) in tried:
                raise error from exc
            notice = f"ℹ {describe(model)} failed ({reason}); retrying with {describe(route.model)}."
            notices.append(notice)
            if on_notice is not None:
                on_notice(notice)


def _ask(model, texts: list[str]) -> list[list[float]]:
    import httpx
    import ollama

    with httpx.Client(timeout=model.timeout, trust_env=False) as client:
        response = client.post(model.url.rstrip("/") + "/api/embed",
                               json={"model": model.model_name, "input": texts})
    if response.status_code != 200:
        try:
            message = response.json().get("error") or response.text
        except ValueError:
            message = response.text
        raise ollama.ResponseError(str(message)[:300], response.status_code)
    vectors = _vectors(response, len(texts))
    if vectors is None:
        raise ValueError("not an embedding answer")
    return vectors


def _vectors(response, count: int) -> list[list[float]] | None:
    """The answer's vectors when it is one (a list of `count` lists of numbers), else None."""
    try:
        vectors = response.json()["embeddings"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(vectors, list) or len(vectors) != count:
        return None
    for vector in vectors:
        if not isinstance(vector, list) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector):
            return None
    return vectors



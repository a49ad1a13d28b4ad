"""`ModelRegistry`: the models every ai-cli process and the web UI share, kept in Redis.

Keys and encoding are a contract (DESIGN.md, "Redis keys"). Each change that touches more than one
key runs as an optimistic transaction (WATCH, check, MULTI/EXEC, retry when another process got
there first), so at every moment: each indexed id has a hash, each hash is indexed, and each active
pointer names an existing model of its type whose `is_active` is 1, the only one of its type.
The change event is published inside the same transaction, so no listener sees a change without
its event or an event without its change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, TypeVar

import redis

from registry import redis_failures
from registry.errors import UnknownModel, WrongModelType
from registry.model import (
    MODEL_TYPES,
    ModelConfig,
    new_model_id,
    now_utc,
    validate_model_name,
    validate_model_type,
    validate_timeout,
    validate_url,
)

DEFAULT_TIMEOUT = 120
SCHEMA_VERSION = "1"
T = TypeVar("T")


@dataclass(frozen=True)
class RegistryKeys:
    """Every key name in one place; `prefix` is `redis.key_prefix` from config.yaml."""

    prefix: str = ""

    def model(self, model_id: str) -> str:
        return f"{self.prefix}models:{model_id}"

    def active(self, model_type: str) -> str:
        return f"{self.prefix}models:{model_type}:active"

    def index(self, model_type: str) -> str:
        return f"{self.prefix}models:index:{model_type}"

    @property
    def schema(self) -> str:
        return f"{self.prefix}models:schema"

    @property
    def migrated(self) -> str:
        return f"{self.prefix}models:migrated"

    @property
    def events(self) -> str:
        return f"{self.prefix}models:events"


def require_model(registry, model_id: str, model_type: str | None = None) -> ModelConfig:
    """The model, or `UnknownModel` / `WrongModelType` when it is not what was asked for.

    Shared by every registry kind (Redis, config.yaml): it needs only their `get_model`.
    """
    if model_type is not None:
        validate_model_type(model_type)
    model = registry.get_model(model_id)
    if model is None:
        raise UnknownModel(model_id)
    _check_type(model, model_type)
    return model


class ModelRegistry:
    """Manages dynamic model registration with Redis persistence."""

    def __init__(
        self,
        redis_client: redis.Redis,
        key_prefix: str = "",
        default_timeout: int = DEFAULT_TIMEOUT,
        url: str = "",
    ):
        self.redis = redis_client
        self.keys = RegistryKeys(key_prefix)
        self.default_timeout = validate_timeout(default_timeout)
        self.url = url  # only for messages: which server is unreachable

    # --- reads -------------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelConfig | None:
        fields = self._call(lambda: self.redis.hgetall(self.keys.model(model_id)))
        return ModelConfig.from_hash(fields) if fields else None

    require_model = require_model
    def get_active_model(self, model_type: str) -> ModelConfig | None:
        validate_model_type(model_type)
        model_id = self._call(lambda: self.redis.get(self.keys.active(model_type)))
        if not model_id:
            return None
        model = self.get_model(_text(model_id))
        # The pointer and the hash change together; a model removed between the two reads is
        # simply no longer active.
        return model if model is not None and model.is_active else None

    def list_models(self, model_type: str | None = None) -> list[ModelConfig]:
        """Every model (of one type), oldest first, in two round trips whatever the count."""
        types = MODEL_TYPES if model_type is None else (validate_model_type(model_type),)

        def fetch() -> list[dict]:
            pipe = self.redis.pipeline(transaction=False)
            for t in types:
                pipe.smembers(self.keys.index(t))
            ids = sorted({_text(i) for members in pipe.execute() for i in members})
            pipe = self.redis.pipeline(transaction=False)
            for model_id in ids:
                pipe.hgetall(self.keys.model(model_id))
            return pipe.execute() if ids else []

        models = [ModelConfig.from_hash(f) for f in self._call(fetch) if f]
        return sorted(models, key=lambda m: (m.added_at, m.model_id))

    # --- changes -----------------------------------------------------------------------------

    def add_model(
        self,
        model_type: str,
        url: str,
        model_name: str,
        timeout: int | None = None,
        set_active: bool = True,
    ) -> ModelConfig:
        model = ModelConfig(
            model_id="",
            model_type=validate_model_type(model_type),
            url=validate_url(url),
            model_name=validate_model_name(model_name),
            timeout=validate_timeout(self.default_timeout if timeout is None else timeout),
            is_active=bool(set_active),
            added_at=now_utc(),
        )
        active_key = self.keys.active(model_type)

        def attempt(pipe) -> ModelConfig:
            added = model.with_changes(model_id=new_model_id())
            key = self.keys.model(added.model_id)
            pipe.watch(key, active_key)
            if pipe.exists(key):  # an id collision: draw again
                raise redis.WatchError
            previous = _text(pipe.get(active_key) or "")
            pipe.multi()
            pipe.hset(key, mapping=added.to_hash())
            pipe.sadd(self.keys.index(model_type), added.model_id)
            pipe.set(self.keys.schema, SCHEMA_VERSION, nx=True)
            if set_active:
                if previous:
                    pipe.hset(self.keys.model(previous), "is_active", "0")
                pipe.set(active_key, added.model_id)
            self.publish_change(pipe, "add", added)
            return added

        return self.transaction(attempt)

    def remove_model(self, model_id: str, model_type: str | None = None) -> bool:
        """Remove a model; removing the active one leaves its type with no active model."""

        def attempt(pipe) -> bool:
            key = self.keys.model(model_id)
            pipe.watch(key)
            model = self._read_watched(pipe, model_id, model_type)
            active_key = self.keys.active(model.model_type)
            pipe.watch(active_key)
            was_active = _text(pipe.get(active_key) or "") == model_id
            pipe.multi()
            pipe.delete(key)
            pipe.srem(self.keys.index(model.model_type), model_id)
            if was_active:
                pipe.delete(active_key)
            self.publish_change(pipe, "remove", model)
            return True

        return self.transaction(attempt)

    def set_active_model(self, model_id: str, model_type: str | None = None) -> bool:
        def attempt(pipe) -> bool:
            key = self.keys.model(model_id)
            pipe.watch(key)
            model = self._read_watched(pipe, model_id, model_type)
            active_key = self.keys.active(model.model_type)
            pipe.watch(active_key)
            previous = _text(pipe.get(active_key) or "")
            pipe.multi()
            if previous and previous != model_id:
                pipe.hset(self.keys.model(previous), "is_active", "0")
            pipe.hset(key, "is_active", "1")
            pipe.set(active_key, model_id)
            self.publish_change(pipe, "activate", model)
            return True

        return self.transaction(attempt)

    def update_availability(self, model_id: str, is_available: bool) -> bool:
        """Record a probe result; False when the model is gone (a probe may outlive a remove)."""

        def attempt(pipe) -> bool:
            key = self.keys.model(model_id)
            pipe.watch(key)
            model_type = pipe.hget(key, "model_type")
            if model_type is None:
                return False
            pipe.multi()
            pipe.hset(
                key,
                mapping={
                    "is_available": "1" if is_available else "0",
                    "last_checked": now_utc().isoformat(),
                },
            )
            self._queue_event(pipe, _event("availability", model_id, _text(model_type)))
            return True

        return self.transaction(attempt)

    # --- plumbing ----------------------------------------------------------------------------

    def _read_watched(self, pipe, model_id: str, model_type: str | None) -> ModelConfig:
        if model_type is not None:
            validate_model_type(model_type)
        # Raising here is safe: leaving the pipeline's `with` block unwatches.
        fields = pipe.hgetall(self.keys.model(model_id))
        if not fields:
            raise UnknownModel(model_id)
        model = ModelConfig.from_hash(fields)
        _check_type(model, model_type)
        return model

    def publish_change(self, pipe, op: str, model: ModelConfig) -> None:
        """Queue the `models:events` message of a change inside its MULTI."""
        self._queue_event(pipe, _event(op, model.model_id, model.model_type))

    def _queue_event(self, pipe, message: str) -> None:
        # Not `pipe.publish`: a cluster pipeline refuses it. As a raw command the channel counts
        # as a key, so in cluster mode it joins the transaction's slot (same hash tag).
        pipe.execute_command("PUBLISH", self.keys.events, message)

    def transaction(self, attempt: Callable[[redis.client.Pipeline], T]) -> T:
        """Run `attempt(pipe)` until its EXEC goes through unchallenged.

        `attempt` WATCHes and reads, then `pipe.multi()` and queues the writes; it may call
        `pipe.execute()` itself, else that happens here. A WatchError (another process changed a
        watched key) runs it again; an unreachable Redis is `RegistryUnavailable`.
        """

        def run() -> T:
            while True:
                with self.redis.pipeline(transaction=True) as pipe:
                    try:
                        result = attempt(pipe)
                        if len(pipe):  # writes queued after MULTI and not yet executed
                            pipe.execute()
                        return result
                    except redis.WatchError:
                        continue

        return self._call(run)

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except redis_failures.FAILURES as exc:
            where = self.url or "the configured URL"
            raise redis_failures.translate(
                exc,
                f"The model registry's Redis at {where} is unreachable ({{detail}}). "
                "Start it, or point AI_CLI_REDIS_URL at a running server.",
                clustered=redis_failures.is_cluster_client(self.redis),
                prefix=self.keys.prefix,
                url=where,
            ) from exc


def _check_type(model: ModelConfig, wanted: str | None) -> None:
    if wanted is not None and model.model_type != wanted:
        raise WrongModelType(model.model_id, model.model_type, wanted)


def _event(op: str, model_id: str, model_type: str) -> str:
    return json.dumps({"op": op, "model_id": model_id, "model_type": model_type})


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

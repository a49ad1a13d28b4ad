"""`ModelRegistry`: the models every ai-cli process and the web UI share, kept in Redis.

Keys and encoding are a contract (docs/ARCHITECTURE.md, "Redis keys"). Each change that touches more than one
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

from registry.connection import failures as redis_failures
from registry.errors import AiCliError, CorruptModel, CorruptRegistryKey, UnknownModel, WrongModelType
from registry.model import (
    CAPABILITY_FIELDS,
    MODEL_ID_RE,
    MODEL_TYPES,
    ModelConfig,
    new_model_id,
    now_utc,
    validate_model_id,
    validate_model_name,
    validate_model_type,
    validate_num_ctx,
    validate_parallel,
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

    def preset(self, name: str) -> str:
        return f"{self.prefix}presets:{name}"

    @property
    def preset_index(self) -> str:
        return f"{self.prefix}presets:index"

    @property
    def presets_shipped(self) -> str:  # set once the shipped presets were created
        return f"{self.prefix}presets:shipped"

    @property
    def presets_migrated(self) -> str:  # set once config.yaml's presets were copied
        return f"{self.prefix}presets:migrated"

    def kept(self) -> dict[str, str]:
        """Each registry key of a fixed name -> the Redis type ai-cli keeps there (the model
        hashes are decoded one by one instead: a damaged one is a corrupt model)."""
        return {**{self.active(t): "string" for t in MODEL_TYPES},
                **{self.index(t): "set" for t in MODEL_TYPES},
                self.schema: "string", self.migrated: "string"}


def damaged(kept: dict[str, str], found: dict[str, str]) -> list[CorruptRegistryKey]:
    """The keys of `kept` (key -> type ai-cli keeps there) whose `found` Redis type (TYPE's
    answer; "none" when absent) is another: each an error naming the key and the fix."""
    return [CorruptRegistryKey(key, found[key], expected) for key, expected in kept.items()
            if found.get(key, "none") not in ("none", expected)]


def require_model(registry, model_id: str, model_type: str | None = None) -> ModelConfig:
    """The model, or `UnknownModel` / `WrongModelType` when it is not what was asked for.

    Shared by every registry kind (Redis, config.yaml): it needs only their `get_model`.
    A corrupt model is returned (it can be shown and removed); `use` refuses it.
    """
    validate_model_id(model_id)
    if model_type is not None:
        validate_model_type(model_type)
    model = registry.get_model(model_id)
    if model is None:
        raise UnknownModel(model_id)
    _check_type(model, model_type)
    return model


class ModelRegistry:
    """Manages dynamic model registration with Redis persistence.

    On its own it is always online: a Redis that does not answer raises `RegistryUnavailable`
    from each call (the resilient registry, resilient.py, turns that into read-only service).
    """

    online = True
    notice = None

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
        # Lines for the faces to show once: a damaged key a read stepped over (`_noticed`).
        self.messages: list[str] = []
        self._told: set[str] = set()
        self.on_reconnect = None  # never called: reconnecting is the resilient registry's job
        # the ids the last `list_models` found, per set of types: read with the indexes in the
        # next one's single round trip (still read fresh; a second trip only if they changed)
        self._last_ids: dict[tuple, list[str]] = {}

    def live(self) -> "ModelRegistry":
        return self

    # --- reads -------------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelConfig | None:
        """The model (perhaps corrupt: see `ModelConfig.problem`), or None. An index member
        without a hash comes back as a corrupt model, so it can be shown and removed."""
        if not isinstance(model_id, str) or not MODEL_ID_RE.match(model_id):
            return None  # never a key of another kind (`index:general`)

        def read():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(self.keys.model(model_id))
            for t in MODEL_TYPES:
                pipe.sismember(self.keys.index(t), model_id)
            return _wrong_types_as_values(pipe.execute(raise_on_error=False))

        fields, *indexed = self._call(read)
        if not fields and not any(indexed):
            return None
        return ModelConfig.from_hash(fields, model_id)

    require_model = require_model
    def get_active_model(self, model_type: str) -> ModelConfig | None:
        validate_model_type(model_type)

        def read():
            try:
                return self.redis.get(self.keys.active(model_type))
            except redis.ResponseError as exc:
                if not redis_failures.is_wrong_type(exc):
                    raise
                self._noticed(self.keys.active(model_type), "string")
                return None  # a pointer of another type names no model: `use` and repair say so

        model_id = self._call(read)
        if not model_id:
            return None
        model = self.get_model(_text(model_id))
        # The pointer and the hash change together; a model removed between the two reads is
        # simply no longer active.
        return model if model is not None and model.is_active and not model.corrupt else None

    def list_models(self, model_type: str | None = None) -> list[ModelConfig]:
        """Every model (of one type), oldest first, in one round trip when the ids are those the
        last call found (the indexes and those hashes are read together), else two."""
        types = MODEL_TYPES if model_type is None else (validate_model_type(model_type),)

        def fetch() -> list[dict]:
            guess = self._last_ids.get(types, [])
            pipe = self.redis.pipeline(transaction=False)
            for t in types:
                pipe.smembers(self.keys.index(t))
            for model_id in guess:
                pipe.hgetall(self.keys.model(model_id))
            replies = _wrong_types_as_values(pipe.execute(raise_on_error=False))
            indexes, hashes = replies[:len(types)], replies[len(types):]
            for t, members in zip(types, indexes):
                if isinstance(members, Exception):
                    self._noticed(self.keys.index(t), "set")
            ids = sorted({_text(i) for members in indexes if isinstance(members, set)
                          for i in members})  # an index key of another type lists nothing
            self._last_ids[types] = ids
            if ids != guess:  # the index changed since: read the hashes it lists now
                pipe = self.redis.pipeline(transaction=False)
                for model_id in ids:
                    pipe.hgetall(self.keys.model(model_id))
                hashes = _wrong_types_as_values(pipe.execute(raise_on_error=False)) if ids else []
            return list(zip(ids, hashes))

        # Corrupt entries (and index members without a hash) are listed, marked by `problem`.
        models = [ModelConfig.from_hash(f, model_id) for model_id, f in self._call(fetch)]
        return sorted(models, key=lambda m: (m.added_at, m.model_id))

    def damaged_keys(self) -> list[CorruptRegistryKey]:
        """Every registry key of a fixed name holding another Redis type, in one round trip."""
        kept = self.keys.kept()

        def read() -> dict[str, str]:
            pipe = self.redis.pipeline(transaction=False)
            for key in kept:
                pipe.type(key)
            return {key: _text(found) for key, found in zip(kept, pipe.execute())}

        return damaged(kept, self._call(read))

    def _noticed(self, key: str, expected: str) -> None:
        """A read stepped over `key` (another Redis type): say so once, by name, with the fix."""
        if key in self._told:
            return
        self._told.add(key)
        try:
            found = _text(self.redis.type(key))
        except redis.RedisError:
            found = "value of another type"
        self.messages.append(str(CorruptRegistryKey(key, found, expected)))

    # --- changes -----------------------------------------------------------------------------

    def add_model(
        self,
        model_type: str,
        url: str,
        model_name: str,
        timeout: int | None = None,
        set_active: bool = True,
        *,
        num_ctx: int | None = None,
        parallel: int | None = None,
    ) -> ModelConfig:
        """Register a model; `num_ctx` (None: the model's window capped by max_context, decided
        per request) and `parallel` (None: 1) are stored with it."""
        model = ModelConfig(
            model_id="",
            model_type=validate_model_type(model_type),
            url=validate_url(url),
            model_name=validate_model_name(model_name),
            timeout=validate_timeout(self.default_timeout if timeout is None else timeout),
            is_active=bool(set_active),
            added_at=now_utc(),
            num_ctx=validate_num_ctx(num_ctx),
            parallel=validate_parallel(parallel),
        )
        active_key = self.keys.active(model_type)

        def attempt(pipe) -> ModelConfig:
            added = model.with_changes(model_id=new_model_id())
            key = self.keys.model(added.model_id)
            pipe.watch(key, active_key, self.keys.index(model_type))
            if pipe.exists(key):  # an id collision: draw again
                raise redis.WatchError
            self._require_kept_types(pipe, model_type)
            flagged = self._flagged(pipe, model_type) if set_active else []
            pipe.multi()
            pipe.hset(key, mapping=added.to_hash())
            pipe.sadd(self.keys.index(model_type), added.model_id)
            pipe.set(self.keys.schema, SCHEMA_VERSION, nx=True)
            if set_active:
                for other in flagged:
                    pipe.hset(self.keys.model(other), "is_active", "0")
                pipe.set(active_key, added.model_id)
            self.publish_change(pipe, "add", added)
            return added

        return self.transaction(attempt)

    def remove_model(self, model_id: str, model_type: str | None = None) -> ModelConfig:
        """Remove a model and return it; removing the active one leaves its type with none.

        Works on a corrupt entry of any type, and on an id that is only an index member or an
        active pointer (no hash): every trace of the id goes, in one transaction.
        """
        validate_model_id(model_id)
        if model_type is not None:
            validate_model_type(model_type)
        key = self.keys.model(model_id)
        active_keys = [self.keys.active(t) for t in MODEL_TYPES]

        def attempt(pipe) -> ModelConfig:
            pipe.watch(key, *active_keys, *(self.keys.index(t) for t in MODEL_TYPES))
            for t in MODEL_TYPES:
                self._require_kept_types(pipe, t)
            fields = hash_or_wrong_type(pipe, key)
            indexed = [t for t in MODEL_TYPES if pipe.sismember(self.keys.index(t), model_id)]
            pointing = [k for k in active_keys if _text(pipe.get(k) or "") == model_id]
            if not fields and not indexed and not pointing:
                raise UnknownModel(model_id)
            model = ModelConfig.from_hash(fields, model_id)
            if not model.corrupt:
                _check_type(model, model_type)
            pipe.multi()
            pipe.delete(key)
            for t in MODEL_TYPES:
                pipe.srem(self.keys.index(t), model_id)
            for k in pointing:
                pipe.delete(k)
            event_type = model.model_type if model.model_type in MODEL_TYPES else model_type
            self._queue_event(pipe, _event("remove", model_id, event_type or ""))
            return model

        return self.transaction(attempt)

    def set_active_model(self, model_id: str, model_type: str | None = None) -> bool:
        validate_model_id(model_id)

        def attempt(pipe) -> bool:
            key = self.keys.model(model_id)
            pipe.watch(key)
            model = self._read_watched(pipe, model_id, model_type)
            if model.corrupt:
                raise CorruptModel(model_id, model.problem, model.model_type)
            active_key = self.keys.active(model.model_type)
            pipe.watch(active_key, self.keys.index(model.model_type))
            self._require_kept_types(pipe, model.model_type)
            flagged = self._flagged(pipe, model.model_type)
            pipe.multi()
            for other in flagged:
                if other != model_id:
                    pipe.hset(self.keys.model(other), "is_active", "0")
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
            if _text(pipe.type(key)) != "hash":
                return False  # gone, or another Redis type: nothing sound to record it on
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

    def update_capabilities(self, model_id: str, fields: dict[str, str]) -> bool:
        """Write capability fields of an entry (`ModelConfig.capability_fields`: what its server
        reported, or the user's override); False when the model is gone."""
        fields = {k: v for k, v in fields.items() if k in CAPABILITY_FIELDS}

        def attempt(pipe) -> bool:
            key = self.keys.model(model_id)
            pipe.watch(key)
            if _text(pipe.type(key)) != "hash":
                return False
            model_type = pipe.hget(key, "model_type")
            if model_type is None:
                return False
            pipe.multi()
            pipe.hset(key, mapping=fields)
            self._queue_event(pipe, _event("capabilities", model_id, _text(model_type)))
            return True

        return self.transaction(attempt) if fields else False

    # --- plumbing ----------------------------------------------------------------------------

    def _flagged(self, pipe, model_type: str) -> list[str]:
        """Ids whose hash exists with is_active=1 for this type: the one the (watched) active
        pointer names, plus any other the index holds. Only existing hashes are returned, so
        clearing their flag never writes a stub hash for a missing model.

        The pointer is watched by the caller; every writer that sets is_active=1 also moves the
        pointer, so these unwatched flag reads cannot go stale before EXEC succeeds. They go in
        one pipelined round trip (on another connection: the watching one runs each command at
        once), whatever the number of models.
        """
        previous = _text(pipe.get(self.keys.active(model_type)) or "")
        ids = sorted({_text(i) for i in pipe.smembers(self.keys.index(model_type))} | (
            {previous} if previous else set()))
        if not ids:
            return []
        reads = self.redis.pipeline(transaction=False)
        for model_id in ids:
            reads.hget(self.keys.model(model_id), "is_active")
        flags = _wrong_types_as_values(reads.execute(raise_on_error=False))
        return [i for i, flag in zip(ids, flags) if isinstance(flag, (str, bytes))
                and _text(flag) == "1"]

    def _require_kept_types(self, pipe, model_type: str) -> None:
        """Refuse a change (before MULTI: nothing is written) while the active pointer or the
        index of `model_type` holds another Redis type; the caller WATCHes both."""
        kept = {self.keys.active(model_type): "string", self.keys.index(model_type): "set"}
        found = {key: _text(pipe.type(key)) for key in kept}
        problems = damaged(kept, found)
        if problems:
            raise problems[0]

    def _read_watched(self, pipe, model_id: str, model_type: str | None) -> ModelConfig:
        if model_type is not None:
            validate_model_type(model_type)
        # Raising here is safe: leaving the pipeline's `with` block unwatches.
        fields = hash_or_wrong_type(pipe, self.keys.model(model_id))
        if not fields:
            raise UnknownModel(model_id)
        model = ModelConfig.from_hash(fields, model_id)
        if not model.corrupt:
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
        where = self.url or "the configured URL"
        try:
            return operation()
        except redis_failures.FAILURES as exc:  # before ResponseError: MOVED/ASK are ones too
            raise redis_failures.translate(
                exc,
                f"The model registry's Redis at {where} is unreachable ({{detail}}). "
                "Start it, or point AI_CLI_REDIS_URL at a running server.",
                clustered=redis_failures.is_cluster_client(self.redis),
                prefix=self.keys.prefix,
                url=where,
            ) from exc
        except redis.ResponseError as exc:
            refused = redis_failures.refuses_writes(exc, where)
            if refused is not None:
                raise refused from exc
            if redis_failures.is_wrong_type(exc):
                raise self._wrong_type_error() from exc
            raise

    def _wrong_type_error(self) -> CorruptRegistryKey:
        """The damaged key a WRONGTYPE reply came from (Redis does not say which)."""
        try:
            found = self.damaged_keys()
        except AiCliError:
            found = []
        return found[0] if found else CorruptRegistryKey(f"{self.keys.prefix}models:*")


is_wrong_type = redis_failures.is_wrong_type


def _wrong_types_as_values(replies: list) -> list:
    """Pipeline replies with a WRONGTYPE error (a key of ours holding another Redis type, written
    by hand or by another program) kept as a value for the decoder to call corrupt; any other
    error is raised as usual."""
    for reply in replies:
        if isinstance(reply, Exception) and not is_wrong_type(reply):
            raise reply
    return replies


def hash_or_wrong_type(pipe, key: str):
    """HGETALL of a watched key (the registry's and the migration's reads); its WRONGTYPE error as a value (`ModelConfig.from_hash` decodes
    that as corrupt), so a key of another type can be shown and removed."""
    try:
        return pipe.hgetall(key)
    except redis.ResponseError as exc:
        if not is_wrong_type(exc):
            raise
        return exc


def _check_type(model: ModelConfig, wanted: str | None) -> None:
    # A corrupt model's type may be anything ("weird"): never advise "/model weird ...".
    if wanted is not None and model.model_type != wanted and model.model_type in MODEL_TYPES:
        raise WrongModelType(model.model_id, model.model_type, wanted)


def _event(op: str, model_id: str, model_type: str) -> str:
    return json.dumps({"op": op, "model_id": model_id, "model_type": model_type})


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

"""`model repair`: check the registry's invariants (docs/ARCHITECTURE.md, "Redis keys") and fix what can be fixed safely.

The invariants: each index id has a hash; each hash is indexed under its type; each active
pointer names an existing, sound model of its type whose `is_active` is 1; no other model of
that type has `is_active` 1; every hash decodes (`ModelConfig.problem` is None).

`plan` is pure: it reads a `RegistryState` and returns the fixes (each a sentence and the Redis
writes it needs). `repair` reads the state inside one WATCHed transaction and, unless it is a dry
run, applies every fix in one MULTI/EXEC: all or nothing, retried if another process got there
first. A corrupt hash is never deleted by repair (it may hold something the user wants back); it
is reported with the command that removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.model import MODEL_ID_RE, MODEL_TYPES, ModelConfig


@dataclass(frozen=True)
class RegistryState:
    """What the registry's keys hold at one moment (ids only for the index and pointers)."""

    models: dict[str, ModelConfig]  # every models:{id} hash, decoded (maybe corrupt)
    raw_active: dict[str, str]  # id -> is_active field exactly as stored
    indexes: dict[str, set[str]]  # model type -> ids in models:index:{type}
    pointers: dict[str, str | None]  # model type -> models:{type}:active
    # key suffix -> (the Redis type found, the type ai-cli keeps there) for a key of a fixed
    # name holding another type (read as absent above), or a models:model_* key that is not a
    # hash or whose id is not an id -> (its type, "hash")
    damaged: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Fix:
    """One repair: what it does, as a sentence, and its writes as (command, key suffix, args)."""

    text: str
    writes: tuple[tuple, ...]


@dataclass(frozen=True)
class RepairPlan:
    fixes: list[Fix] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # problems repair leaves to the user


def plan(state: RegistryState) -> RepairPlan:
    # Deleting a damaged key comes first: the fixes after it write what belongs there (a model
    # found in no index is indexed again, a flagged model pointed at) in the same transaction.
    fixes: list[Fix] = [_damage_fix(suffix, *found_expected)
                         for suffix, found_expected in sorted(state.damaged.items())]
    remaining: list[str] = []
    for model_type in MODEL_TYPES:
        for model_id in sorted(state.indexes.get(model_type, ())):
            if model_id not in state.models:
                fixes.append(Fix(
                    f"Removed {model_id} from the {model_type} index: it has no stored model.",
                    (("srem", f"models:index:{model_type}", model_id),)))
    for model_id, model in sorted(state.models.items()):
        if model.corrupt:
            kind = model.model_type if model.model_type in MODEL_TYPES else "{general|coder}"
            remaining.append(f"{model_id} is corrupt ({model.problem}); remove it with "
                             f"'ai-cli model {kind} remove {model_id}'.")
            continue
        fixes += _index_fixes(model, state)
    for model_type in MODEL_TYPES:
        fixes += _active_fixes(model_type, state)
    return RepairPlan(fixes, remaining)


def _damage_fix(suffix: str, found: str, expected: str) -> Fix:
    if found == "hash":  # a models:model_* hash under a key that is no model id
        why = "its name is not a model id (model_ + 8 hex digits), so no command can reach it"
    else:
        why = f"it held a Redis {found}, where ai-cli keeps a {expected}"
    return Fix(f"Deleted {suffix}: {why}.", (("delete", suffix),))


def _index_fixes(model: ModelConfig, state: RegistryState) -> list[Fix]:
    fixes = []
    for other in MODEL_TYPES:
        if other != model.model_type and model.model_id in state.indexes.get(other, ()):
            fixes.append(Fix(f"Removed {model.model_id} from the {other} index: it is a "
                             f"{model.model_type} model.",
                             (("srem", f"models:index:{other}", model.model_id),)))
    if model.model_id not in state.indexes.get(model.model_type, ()):
        fixes.append(Fix(f"Indexed {model.model_id} under {model.model_type}: it was in no index.",
                         (("sadd", f"models:index:{model.model_type}", model.model_id),)))
    return fixes


def _active_fixes(model_type: str, state: RegistryState) -> list[Fix]:
    """Make the pointer and the is_active flags of one type agree."""
    fixes = []
    pointer = state.pointers.get(model_type)
    target = state.models.get(pointer) if pointer else None
    sound = target is not None and not target.corrupt and target.model_type == model_type
    flagged = sorted(i for i, m in state.models.items()
                     if _typed(m, model_type) and state.raw_active.get(i) == "1")
    if pointer and not sound:
        why = ("names no stored model" if target is None else
               "names a corrupt model" if target.corrupt else f"names a {target.model_type} model")
        healthy = [i for i in flagged if not state.models[i].corrupt]
        writes: tuple = (("delete", f"models:{model_type}:active"),)
        text = f"Cleared the active {model_type} pointer: it {why} ({pointer})."
        if len(healthy) == 1:
            writes = (("set", f"models:{model_type}:active", healthy[0]),)
            text = (f"Pointed the active {model_type} model at {healthy[0]} (flagged active): "
                    f"the pointer {why} ({pointer}).")
            pointer, sound = healthy[0], True
        else:
            pointer = None
        fixes.append(Fix(text, writes))
    elif not pointer:
        healthy = [i for i in flagged if not state.models[i].corrupt]
        if len(healthy) == 1:
            fixes.append(Fix(f"Pointed the active {model_type} model at {healthy[0]}: it was "
                             "flagged active but no pointer named it.",
                             (("set", f"models:{model_type}:active", healthy[0]),)))
            pointer, sound = healthy[0], True
    if sound and state.raw_active.get(pointer) != "1":
        fixes.append(Fix(f"Flagged {pointer} active: the active {model_type} pointer names it.",
                         (("hset", f"models:{pointer}", "is_active", "1"),)))
    for model_id in flagged:
        if model_id != pointer:
            fixes.append(Fix(f"Cleared is_active on {model_id}: {pointer or 'no model'} is the "
                             f"active {model_type} model.",
                             (("hset", f"models:{model_id}", "is_active", "0"),)))
    return fixes


def _typed(model: ModelConfig, model_type: str) -> bool:
    return model.model_type == model_type


# --- I/O: read the state, apply the plan, in one transaction ----------------------------------


def read_state(pipe, keys, client) -> RegistryState:
    """Read (and WATCH) every registry key through a pipeline in immediate mode; `client`
    SCANs for the model hashes (on a Redis Cluster it scans every node). A key holding another
    Redis type than ai-cli keeps there is read as absent and listed in `damaged`."""
    prefix = keys.prefix
    # WATCH the indexes and pointers first: a model added or removed while we SCAN changes an
    # index, so the EXEC below fails and the whole repair runs again.
    pipe.watch(*(keys.index(t) for t in MODEL_TYPES), *(keys.active(t) for t in MODEL_TYPES))
    damaged: dict[str, tuple[str, str]] = {}
    sound: dict[str, bool] = {}
    for key, expected in keys.kept().items():
        found = _text(pipe.type(key))
        sound[key] = found == expected
        if found not in ("none", expected):
            damaged[key[len(prefix):]] = (found, expected)
    model_keys = sorted(_text(k) for k in client.scan_iter(f"{_glob_escape(prefix)}models:model_*"))
    if model_keys:
        pipe.watch(*model_keys)
    models, raw_active = {}, {}
    for key in model_keys:
        model_id = key[len(prefix) + len("models:"):]
        found = _text(pipe.type(key))
        if found != "hash" or not MODEL_ID_RE.match(model_id):
            damaged[key[len(prefix):]] = (found, "hash")  # no command can use or remove it
            continue
        fields = pipe.hgetall(key)
        models[model_id] = ModelConfig.from_hash(fields, model_id)
        raw_active[model_id] = _text(fields.get("is_active", fields.get(b"is_active", "")))
    indexes = {t: ({_text(i) for i in pipe.smembers(keys.index(t))} if sound[keys.index(t)]
                   else set()) for t in MODEL_TYPES}
    pointers = {t: ((_text(pipe.get(keys.active(t)) or "") or None) if sound[keys.active(t)]
                    else None) for t in MODEL_TYPES}
    return RegistryState(models, raw_active, indexes, pointers, damaged)


def repair(registry, dry_run: bool = False) -> RepairPlan:
    """Check the registry; unless `dry_run`, apply every fix in one transaction."""
    keys = registry.keys

    def attempt(pipe) -> RepairPlan:
        found = plan(read_state(pipe, keys, registry.redis))
        if dry_run or not found.fixes:
            return found
        pipe.multi()
        for fix in found.fixes:
            for command, suffix, *args in fix.writes:
                getattr(pipe, command)(keys.prefix + suffix, *args)
        return found

    return registry.transaction(attempt)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

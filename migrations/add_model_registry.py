"""The one-time move of config.yaml's models into the Redis registry.

    python -m migrations.add_model_registry [--dry-run] [--config PATH]     (or: ai-cli migrate)

The migration is an ordered list of small steps (`STEPS`). Each knows from Redis whether it has
been applied — `schema` by `models:schema`, `config_yaml_models` by `models:migrated` — so a rerun
is a no-op by construction. One run reads the registry under WATCH, plans every pending step
(pure functions over a snapshot), and writes the whole plan in ONE MULTI/EXEC: a run killed at any
point leaves all of it or none of it, and a concurrent change to the registry makes it plan again.

The legacy models become the active models of their types. One already registered with the same
URL and name is made active instead of being copied again. config.yaml is only ever read.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import redis

from registry.config import ConfigManager, LegacyModel
from registry.errors import AiCliError, CorruptRegistryKey, RegistryReadOnly, RegistryUnavailable
from registry.manager import (
    SCHEMA_VERSION,
    ModelRegistry,
    RegistryKeys,
    hash_or_wrong_type,
    is_wrong_type,
)
from registry.model import MODEL_TYPES, ModelConfig, encode_time, new_model_id, now_utc
from registry.config_yaml import legacy_model_id

SKIP_ENV = "AI_CLI_SKIP_MODEL_MIGRATION"


# --- what a run sees and what it does (pure) -----------------------------------------------------


@dataclass(frozen=True)
class RegistryState:
    """The registry as read under WATCH at the start of a run."""

    schema: str | None
    migrated: str | None
    active: dict[str, str | None] = field(default_factory=dict)  # model_type -> id
    models: tuple[ModelConfig, ...] = ()

    @property
    def ids(self) -> set[str]:
        return {m.model_id for m in self.models}


@dataclass(frozen=True)
class Change:
    """One planned write. `kind`: schema | add | activate | keep | migrated."""

    kind: str
    model: ModelConfig | None = None
    previous: str | None = None  # the id that was active before (add/activate)
    value: str = ""  # schema version / migration time

    def describe(self) -> str:
        m = self.model
        if self.kind == "schema":
            return f"set up the registry keys (models:schema = {self.value})"
        if self.kind == "migrated":
            return f"record the migration (models:migrated = {self.value})"
        what = f"{m.model_type} model {m.model_name} at {m.shown_url}, timeout {m.timeout}s"
        was = f", replacing {self.previous} as active" if self.previous else ""
        if self.kind == "add":
            return f"add {m.model_id} ({what}), active{was}"
        if self.kind == "activate":
            return f"make {m.model_id} active ({what}, already registered){was}"
        return f"keep {m.model_id} ({what}): already registered and active"

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "model": self.model.to_json() if self.model else None,
            "previous_active": self.previous,
            "value": self.value or None,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class Step:
    """One migration step: whether Redis says it ran, and the changes it would make now."""

    name: str
    is_applied: Callable[[RegistryState], bool]
    plan: Callable[[RegistryState, list[LegacyModel], datetime], list[Change]]
    needs_legacy: bool = False  # reads config.yaml's legacy sections


def plan_schema(state: RegistryState, legacy: list[LegacyModel], now: datetime) -> list[Change]:
    return [Change("schema", value=SCHEMA_VERSION)]


def plan_legacy_models(
    state: RegistryState, legacy: list[LegacyModel], now: datetime
) -> list[Change]:
    """Each legacy model becomes the active one of its type; nothing at all when there are none
    (then the migration stays pending, for a config.yaml that gains them later)."""
    if not legacy:
        return []
    changes, taken = [], set(state.ids)
    for entry in legacy:
        previous = state.active.get(entry.model_type)
        same = next((m for m in state.models if m.model_type == entry.model_type
                     and m.url == entry.url and m.model_name == entry.model_name), None)
        if same is not None:
            kind = "keep" if previous == same.model_id else "activate"
            changes.append(Change(kind, same.with_changes(is_active=True),
                                  previous if kind == "activate" else None))
            continue
        model_id = legacy_model_id(entry.model_type, entry.url, entry.model_name)
        while model_id in taken:  # the same entry was registered, then edited: draw a fresh id
            model_id = new_model_id()
        taken.add(model_id)
        model = ModelConfig(model_id, entry.model_type, entry.url, entry.model_name,
                            entry.timeout, is_active=True, added_at=now)
        changes.append(Change("add", model, previous))
    changes.append(Change("migrated", value=encode_time(now)))
    return changes


STEPS: tuple[Step, ...] = (
    Step("schema", lambda s: s.schema is not None, plan_schema),
    Step("config_yaml_models", lambda s: s.migrated is not None, plan_legacy_models,
         needs_legacy=True),
)


@dataclass(frozen=True)
class MigrationReport:
    """What a run did (or, with dry_run, would do)."""

    changes: tuple[Change, ...]
    dry_run: bool
    registry_url: str
    config_path: str | None
    migrated_at: str | None  # when the models were migrated (this run or an earlier one)
    steps: tuple[str, ...] = ()  # the steps that ran (or would run)

    @property
    def changed(self) -> bool:
        """Whether the run wrote (would write) anything to Redis."""
        return any(c.kind != "keep" for c in self.changes)

    @property
    def models(self) -> list[Change]:
        return [c for c in self.changes if c.model is not None]

    def summary(self) -> str:
        """One line for the terminal."""
        source = self.config_path or "config.yaml"
        if not self.changed:
            if self.migrated_at:
                return (f"Nothing to do: the config.yaml models were migrated at "
                        f"{self.migrated_at}; the registry at {self.registry_url} is unchanged.")
            return (f"Nothing to migrate: {source} has no ollama:, general: or coder: models; "
                    f"the registry at {self.registry_url} is unchanged.")
        if not self.models:
            verb = "Would set up" if self.dry_run else "Set up"
            return (f"{verb} the model registry at {self.registry_url} "
                    f"(schema {SCHEMA_VERSION}); {source} has no models to migrate.")
        moved = [c for c in self.models if c.kind != "keep"]
        kept = [c for c in self.models if c.kind == "keep"]
        tail = "" if self.dry_run else f" {source} is unchanged; it stays for rollback."
        if not moved:
            verb = "Would record" if self.dry_run else "Recorded"
            return (f"{verb} the migration in the registry at {self.registry_url}: the models of "
                    f"{source} are already registered and active: {_names(kept)}.{tail}")
        verb = "Would migrate" if self.dry_run else "Migrated"
        count = f"{len(moved)} model" + ("s" if len(moved) > 1 else "")
        also = f"; already active: {_names(kept)}" if kept else ""
        return (f"{verb} {count} from {source} into the registry at {self.registry_url}, "
                f"now active: {_names(moved)}{also}.{tail}")

    def lines(self) -> list[str]:
        """The summary, then one line per change."""
        prefix = "would " if self.dry_run else ""
        return [self.summary()] + [f"  - {prefix}{c.describe()}" for c in self.changes]

    def to_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "changed": self.changed,
            "registry": self.registry_url,
            "config": self.config_path,
            "migrated_at": self.migrated_at,
            "steps": list(self.steps),
            "changes": [c.to_json() for c in self.changes],
            "summary": self.summary(),
        }


def _names(changes: list[Change]) -> str:
    return ", ".join(f"{c.model.model_type} {c.model.model_name} ({c.model.model_id})"
                     for c in changes)


# --- the run (I/O) ----------------------------------------------------------------------------


def migrate(registry, config: ConfigManager, dry_run: bool = False) -> MigrationReport:
    """Apply every pending step in one transaction (or, with dry_run, only plan them).

    Raises ConfigError for an invalid legacy section (nothing written), RegistryReadOnly when the
    registry is config.yaml itself or Redis is down, RegistryUnavailable when Redis goes away.
    """
    live = _live_registry(registry)
    path = str(config.path) if config.path else None

    def attempt(pipe) -> MigrationReport:
        state = _read_state(pipe, live.keys, full=False)
        _check_schema(state, live.url)
        pending = [s for s in STEPS if not s.is_applied(state)]
        if not pending:
            return MigrationReport((), dry_run, live.url, path, state.migrated)
        legacy = config.get_legacy_models() if any(s.needs_legacy for s in pending) else []
        state = _read_state(pipe, live.keys, full=True)
        now = now_utc()
        changes = [c for s in pending for c in s.plan(state, legacy, now)]
        migrated = next((c.value for c in changes if c.kind == "migrated"), state.migrated)
        report = MigrationReport(tuple(changes), dry_run, live.url, path, migrated,
                                 tuple(s.name for s in pending))
        if dry_run or not report.changed:
            return report
        new_keys = [live.keys.model(c.model.model_id) for c in changes if c.kind == "add"]
        if new_keys:
            pipe.watch(*new_keys)
        pipe.multi()
        for change in changes:
            _queue(pipe, live, change)
        pipe.execute()
        return report

    return _transaction(live, attempt)


def migrate_on_start(registry, config: ConfigManager) -> str | None:
    """At ai-cli's start: migrate if never done, and return the one line to show (or None).

    Off with AI_CLI_SKIP_MODEL_MIGRATION=true, and under AI_CLI_FORCE_CONFIG_YAML (no Redis). While
    Redis is down the migration waits for it: it runs when the registry reconnects.
    """
    if config.skip_migration or config.force_config_yaml:
        return None
    if not registry.online:  # it runs once Redis answers again
        registry.on_reconnect = lambda: migrate_on_start(registry, config)
        return None
    try:
        report = migrate(registry, config)
    except (RegistryUnavailable, RegistryReadOnly):
        return None  # the registry's own notice says Redis is away
    except AiCliError as exc:
        return (f"The config.yaml models were not migrated: {exc.message.rstrip('.')}. "
                f"Or set {SKIP_ENV}=true to stop trying.")
    return report.summary() if report.models and report.changed else None


def _live_registry(registry) -> ModelRegistry:
    return registry.live()  # RegistryReadOnly while Redis is down or ignored


def _read_state(pipe, keys: RegistryKeys, full: bool) -> RegistryState:
    """The markers (WATCHed); with `full`, the active pointers and every model too."""
    pipe.watch(keys.schema, keys.migrated)
    schema, migrated = _read(pipe.get, keys.schema), _read(pipe.get, keys.migrated)
    if not full:
        return RegistryState(schema, migrated)
    pipe.watch(*(keys.active(t) for t in MODEL_TYPES), *(keys.index(t) for t in MODEL_TYPES))
    active = {t: _read(pipe.get, keys.active(t)) for t in MODEL_TYPES}
    ids = sorted({i for t in MODEL_TYPES for i in _read(pipe.smembers, keys.index(t))})
    if ids:
        pipe.watch(*(keys.model(i) for i in ids))
    hashes = [hash_or_wrong_type(pipe, keys.model(i)) for i in ids]
    models = tuple(ModelConfig.from_hash(h, i) for i, h in zip(ids, hashes) if h)
    return RegistryState(schema, migrated, active, models)


def _read(command, key: str):
    """`command(key)`; `CorruptRegistryKey` (one line, with the fix) for a key of another Redis
    type, which would otherwise end every start while the migration is pending. (A model hash of
    another type is read as corrupt instead: `hash_or_wrong_type`.)"""
    try:
        return command(key)
    except redis.ResponseError as exc:
        if not is_wrong_type(exc):
            raise
        raise CorruptRegistryKey(key) from None


def _check_schema(state: RegistryState, url: str) -> None:
    if state.schema is not None and state.schema != SCHEMA_VERSION:
        raise AiCliError(
            f"The registry at {url} has schema {state.schema}, which this ai-cli does not know "
            f"(it writes schema {SCHEMA_VERSION}); upgrade ai-cli before migrating."
        )


def _queue(pipe, live: ModelRegistry, change: Change) -> None:
    keys = live.keys
    if change.kind == "schema":
        pipe.set(keys.schema, change.value)
    elif change.kind == "migrated":
        pipe.set(keys.migrated, change.value)
    elif change.kind in ("add", "activate"):
        model = change.model
        if change.kind == "add":
            pipe.hset(keys.model(model.model_id), mapping=model.to_hash())
            pipe.sadd(keys.index(model.model_type), model.model_id)
        else:
            pipe.hset(keys.model(model.model_id), "is_active", "1")
        if change.previous and change.previous != model.model_id:
            pipe.hset(keys.model(change.previous), "is_active", "0")
        pipe.set(keys.active(model.model_type), model.model_id)
        live.publish_change(pipe, change.kind, model)


def _transaction(live: ModelRegistry, attempt: Callable) -> MigrationReport:
    try:
        return live.transaction(attempt)
    except RegistryUnavailable as exc:
        raise RegistryUnavailable(
            f"The model registry's Redis at {live.url or 'the configured URL'} went away during the "
            f"migration; nothing was written. Start it and run 'ai-cli migrate' again."
        ) from exc


# --- python -m migrations.add_model_registry ------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    import argparse

    from registry.errors import debugging

    parser = argparse.ArgumentParser(
        prog="python -m migrations.add_model_registry",
        description="Copy the models of config.yaml (ollama:/general:, coder:) into the Redis "
                    "model registry, once. config.yaml is not changed.",
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    parser.add_argument("--config", metavar="PATH", help="the config.yaml to read")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        from registry import open_registry

        config = ConfigManager.load(args.config)
        report = migrate(open_registry(config), config, dry_run=args.dry_run)
    except AiCliError as exc:
        if debugging():
            raise
        if args.json:
            print(json.dumps({"error": exc.message}, indent=2))
        else:
            print(exc.message, file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The presets' two one-time steps: the shipped presets, and config.yaml's `presets:` mapping.

- `shipped`: `fast`, `accurate` and `coding` are created once, each only when no preset of its
  name exists; `presets:shipped` records that it ran, so a shipped preset the user removed is
  never created again.
- `config_yaml_presets`: the `presets:` mapping of config.yaml (name -> description, model,
  system, options, requires) is copied into Redis once, replacing presets of the same names;
  `presets:migrated` records it. As with the legacy models, a config.yaml without the mapping
  leaves the step pending, and one invalid preset stops the step with nothing written. After it
  ran, Redis is the source of truth: later edits of the mapping are not read.

Both run in ONE MULTI/EXEC, watched on their markers and the keys they write (all or nothing,
planned again when another process got there first), at the first start, like the model
migration, and are skipped with it (`AI_CLI_SKIP_MODEL_MIGRATION=true`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from registry.errors import (AiCliError, InvalidInput, RegistryReadOnly, RegistryRefusesWrites,
                             RegistryUnavailable)
from registry.model import encode_time, now_utc
from registry.presets import OptionsCheck, Preset, clashing_model, presets_from_mapping

CODING_SYSTEM = ("You are a careful senior programmer. Answer with working code first, then a "
                 "short explanation; keep the existing style; say when something is unclear.")
SHIPPED = (
    Preset("fast", "quick answers: the general model with the best recent time to first token",
           "fastest:general", "", {"temperature": 0.2, "num_predict": 512}),
    Preset("accurate", "careful answers from the general route", "general", "",
           {"temperature": 0.1}),
    Preset("coding", "programming help from the coder route", "coder", CODING_SYSTEM,
           {"temperature": 0.1}),
)


@dataclass(frozen=True)
class PresetPlan:
    shipped: tuple[Preset, ...] = ()  # shipped presets to create now
    from_config: tuple[Preset, ...] = ()  # config.yaml presets to copy now
    mark_shipped: bool = False
    mark_migrated: bool = False

    @property
    def changed(self) -> bool:
        return self.mark_shipped or self.mark_migrated

    def summary(self) -> str | None:
        """One line for the start, when presets were copied from config.yaml (the shipped ones
        arrive quietly: `preset list` shows them)."""
        if not self.from_config:
            return None
        names = ", ".join(p.name for p in self.from_config)
        return f"Migrated {len(self.from_config)} preset(s) from config.yaml into Redis: {names}."

    def to_json(self) -> dict:
        return {"shipped": [p.name for p in self.shipped],
                "from_config": [p.name for p in self.from_config],
                "changed": self.changed, "summary": self.summary()}


def plan_presets(shipped_done: bool, migrated_done: bool, existing: set[str],
                 config_presets: list[Preset] | None, models) -> PresetPlan:
    """What the two steps write now. Pure. `config_presets` None: config.yaml has no
    `presets:` mapping (the step stays pending). A config preset named like a registered model
    stops the step (InvalidInput); a shipped one so named is left out."""
    from_config: tuple[Preset, ...] = ()
    if not migrated_done and config_presets is not None:
        for preset in config_presets:
            if clashing_model(preset.name, models) is not None:
                raise InvalidInput(f"config.yaml preset {preset.name!r} has the name of a "
                                   "registered model; rename it in config.yaml.")
        from_config = tuple(config_presets)
    shipped: tuple[Preset, ...] = ()
    if not shipped_done:
        taken = existing | {p.name for p in from_config}
        shipped = tuple(p for p in SHIPPED if p.name not in taken
                        and clashing_model(p.name, models) is None)
    return PresetPlan(shipped, from_config, mark_shipped=not shipped_done,
                      mark_migrated=not migrated_done and config_presets is not None)


def config_presets(config, check_options: OptionsCheck) -> list[Preset] | None:
    """config.yaml's `presets:` mapping, every preset checked (InvalidInput naming the bad
    one); None without the mapping."""
    raw = config.presets_section
    if raw is None:
        return None
    try:
        return presets_from_mapping(raw or {}, check_options)
    except InvalidInput as exc:
        raise InvalidInput(f"config.yaml presets: {exc.message}") from None


def migrate_presets(registry, config, check_options: OptionsCheck,
                    dry_run: bool = False) -> PresetPlan:
    """Run the pending steps in one transaction (or only plan them). `check_options`: the `-o`
    rules (router/options.py `options_from_mapping`), passed in by the layer above."""
    live = registry.live()  # RegistryReadOnly while Redis is down or ignored
    keys = live.keys
    wanted = config_presets(config, check_options)

    def attempt(pipe) -> PresetPlan:
        pipe.watch(keys.presets_shipped, keys.presets_migrated, keys.preset_index)
        shipped_done = pipe.get(keys.presets_shipped) is not None
        migrated_done = pipe.get(keys.presets_migrated) is not None
        if shipped_done and (migrated_done or wanted is None):
            return PresetPlan()
        existing = {str(n) for n in pipe.smembers(keys.preset_index)}
        plan = plan_presets(shipped_done, migrated_done, existing, wanted,
                            live.list_models())
        if dry_run or not plan.changed:
            return plan
        written = [*plan.from_config, *plan.shipped]
        if written:
            pipe.watch(*(keys.preset(p.name) for p in written))
        now = encode_time(now_utc())
        pipe.multi()
        for preset in written:
            key = keys.preset(preset.name)
            pipe.delete(key)
            pipe.hset(key, mapping=replace(preset, updated_at=now).to_hash())
            pipe.sadd(keys.preset_index, preset.name)
            pipe.execute_command("PUBLISH", keys.events,
                                 json.dumps({"event": "preset_added", "name": preset.name}))
        if plan.mark_shipped:
            pipe.set(keys.presets_shipped, now)
        if plan.mark_migrated:
            pipe.set(keys.presets_migrated, now)
        return plan

    return live.transaction(attempt)


def presets_on_start(registry, config, check_options: OptionsCheck) -> str | None:
    """At ai-cli's start: the pending steps, and the one line to show (or None). Off with
    AI_CLI_SKIP_MODEL_MIGRATION=true and under AI_CLI_FORCE_CONFIG_YAML; waits while Redis is
    down (the next start runs it)."""
    if config.skip_migration or config.force_config_yaml or not registry.online:
        return None
    try:
        if registry.live().damaged_keys():
            return None  # a damaged registry writes nothing; the model migration says why
        return migrate_presets(registry, config, check_options).summary()
    except (RegistryUnavailable, RegistryReadOnly, RegistryRefusesWrites):
        return None  # Redis away or refusing writes: the next start tries again, unsaid (the
        # command's own line says what is wrong with that Redis when it matters)
    except AiCliError as exc:
        return (f"The config.yaml presets were not migrated: {exc.message.rstrip('.')}. "
                "Fix config.yaml, or set AI_CLI_SKIP_MODEL_MIGRATION=true to stop trying.")

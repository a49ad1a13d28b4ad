"""Presets: one name for a model, a system prompt and Ollama options, shared through Redis.

Keys (docs/ARCHITECTURE.md; `redis.key_prefix` prepends to each, so on a Cluster they share the
registry's hash tag and slot):

    presets:{name}     hash   name description model system options requires updated_at
    presets:index      set    every preset name
    models:events      every change publishes {"event": "preset_added"|"preset_removed", "name"}

`options` is one field holding the JSON of the options; `requires` the capabilities, comma
separated. The encoding (`Preset.to_hash` / `Preset.from_hash`) is pure and the decoding never
raises: a hash that does not decode is a preset with a `problem`, listed with `!` and removable,
like a corrupt model entry. Every change is one MULTI/EXEC (the registry's `transaction`), its
event published inside it.

Options are checked by the `-o` rules, which live above the registry (router/options.py,
`options_from_mapping`): the layer that builds a store or checks a preset passes that check in
(`check_options`), as the registry imports nothing of the router.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import redis

from registry.errors import AiCliError, CorruptRegistryKey, InvalidInput, UnknownModel
from registry.manager import hash_or_wrong_type, is_wrong_type
from registry.model import encode_time, now_utc

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Key names beside the presets' own (`presets:index`...), the REPL's `/preset use none`, and
# the words a preset's model field or a gateway's `model` field read as request types.
RESERVED = ("index", "shipped", "migrated", "none", "general", "coder", "embedding")
REQUEST_TYPES = ("general", "coder")
FASTEST = "fastest:"
# What Ollama reports as a model's capabilities (/api/show).
CAPABILITIES = ("completion", "tools", "insert", "vision", "embedding", "thinking")
FIELDS = ("name", "description", "model", "system", "options", "requires", "updated_at")
MAX_TEXT = 100_000
OptionsCheck = Callable[[Any], dict]  # options as stored or typed -> checked (InvalidInput)


class UnknownPreset(AiCliError):
    """No preset of that name."""

    http_status = 404

    def __init__(self, name: str):
        super().__init__(f"No preset named {name!r}. See the presets with: ai-cli preset list")
        self.name = name


@dataclass(frozen=True)
class Preset:
    name: str
    description: str = ""
    model: str = ""  # "" the command's own route; "general"/"coder"; "fastest:TYPE"; a model
    system: str = ""
    options: dict = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    updated_at: str = ""
    problem: str | None = None  # why the stored hash does not decode (a corrupt preset)

    @property
    def corrupt(self) -> bool:
        return self.problem is not None

    def to_hash(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description, "model": self.model,
                "system": self.system, "options": json.dumps(self.options, sort_keys=True),
                "requires": ",".join(self.requires), "updated_at": self.updated_at}

    @classmethod
    def from_hash(cls, fields: Any, name: str, check_options: OptionsCheck) -> "Preset":
        """The preset a stored hash holds; never raises (a bad hash is a corrupt preset)."""
        if isinstance(fields, Exception):
            return cls(name, problem="its key holds another Redis type, not a hash")
        if not fields:
            return cls(name, problem="it is in presets:index but has no stored hash")
        try:
            data = {_text(k): _text(v) for k, v in fields.items()}
            missing = [f for f in FIELDS if f not in data]
            if missing:
                raise ValueError(f"field {missing[0]!r} is missing")
            options = json.loads(data["options"])
            requires = tuple(r for r in data["requires"].split(",") if r)
            return checked_preset(name, description=data["description"], model=data["model"],
                                  system=data["system"], options=options, requires=requires,
                                  updated_at=data["updated_at"], check_options=check_options)
        except (ValueError, TypeError, AttributeError, InvalidInput) as exc:
            return cls(name, problem=_one_line(str(exc)))

    def to_json(self) -> dict:
        data = {"name": self.name, "description": self.description, "model": self.model,
                "system": self.system, "options": dict(self.options),
                "requires": list(self.requires), "updated_at": self.updated_at or None}
        if self.corrupt:
            data["problem"] = self.problem
        return data

    def to_export(self) -> dict:
        """The preset as `preset export` writes it (import reads the same mapping)."""
        data: dict = {}
        for key in ("description", "model", "system"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.options:
            data["options"] = dict(self.options)
        if self.requires:
            data["requires"] = list(self.requires)
        return data


# --- checking (pure) ------------------------------------------------------------------------


def validate_preset_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInput(f"{_show(name)} is not a preset name: use letters, digits, '-' and "
                           "'_' (up to 64, starting with a letter or digit), e.g. coding-short.")
    if name.lower() in RESERVED or name.lower().startswith("model_"):
        raise InvalidInput(f"{name!r} cannot be a preset name (it means something else to "
                           "ai-cli); choose another, e.g. my-" + name.lower() + ".")
    return name


def validate_model_field(text: Any) -> str:
    """A preset's model: "", a request type, `fastest:TYPE`, or a model name in any form."""
    if text is None or text == "":
        return ""
    if not isinstance(text, str) or not text.strip() or re.search(r"[\s\x00-\x1f\x7f]", text):
        raise InvalidInput(f"The preset's model {_show(text)} is not a model name, 'general', "
                           "'coder' or 'fastest:general'.")
    if text.startswith(FASTEST) and text[len(FASTEST):] not in REQUEST_TYPES:
        raise InvalidInput(f"{text!r}: fastest: takes a request type: fastest:general or "
                           "fastest:coder.")
    return text


def validate_requires(values: Iterable[Any]) -> tuple[str, ...]:
    found = []
    for value in values:
        word = str(value).strip().lower() if isinstance(value, str) else None
        if word not in CAPABILITIES:
            raise InvalidInput(f"Unknown capability {_show(value)}; known: "
                               f"{', '.join(CAPABILITIES)}.")
        if word not in found:
            found.append(word)
    return tuple(found)


def checked_preset(name: Any, *, check_options: OptionsCheck, description: Any = "",
                   model: Any = "", system: Any = "", options: Any = None, requires: Any = (),
                   updated_at: Any = "") -> Preset:
    """A preset from untrusted values; InvalidInput naming the first bad one."""
    for label, value in (("description", description), ("system", system),
                         ("updated_at", updated_at)):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidInput(f"The preset's {label} must be text (up to {MAX_TEXT:,} "
                               "characters).")
    if isinstance(requires, str):
        requires = [r for r in requires.split(",") if r.strip()]
    if not isinstance(requires, (list, tuple)):
        raise InvalidInput("requires must be a list of capabilities, e.g. [tools].")
    return Preset(validate_preset_name(name), description, validate_model_field(model), system,
                  check_options(options), validate_requires(requires), updated_at)


def presets_from_mapping(data: Any, check_options: OptionsCheck) -> list[Preset]:
    """Every preset of an export file or config.yaml `presets:` mapping (name -> fields), all
    checked before any is returned. InvalidInput names the preset and what is wrong."""
    if not isinstance(data, dict):
        raise InvalidInput("A presets file is a mapping of preset names to their settings "
                           "(description, model, system, options, requires).")
    presets = []
    for name, fields in data.items():
        fields = {} if fields is None else fields
        if not isinstance(fields, dict):
            raise InvalidInput(f"Preset {name!r}: its settings must be a mapping.")
        unknown = sorted(set(fields) - {"description", "model", "system", "options", "requires"})
        if unknown:
            raise InvalidInput(f"Preset {name!r}: unknown setting {unknown[0]!r} (known: "
                               "description, model, system, options, requires).")
        try:
            presets.append(checked_preset(
                name, check_options=check_options, description=fields.get("description") or "",
                model=fields.get("model") or "", system=fields.get("system") or "",
                options=fields.get("options"), requires=fields.get("requires") or ()))
        except InvalidInput as exc:
            raise InvalidInput(f"Preset {name!r}: {exc.message}") from None
    return presets


def clashing_model(name: str, models: Iterable) -> str | None:
    """The registered model a preset name would shadow (`-m NAME` means it), or None."""
    from registry.lookup import resolve

    try:
        named = resolve([m for m in models if not m.corrupt], name)
    except UnknownModel:
        return None
    except AiCliError:  # ambiguous: it names models all the same
        return name
    return named.model.model_name


# --- the store (I/O) ------------------------------------------------------------------------


class PresetStore:
    """The presets in Redis, beside the registry; `registry` is a `registry.protocol.Registry`.

    Changes go through the live registry's `transaction` (WATCH, MULTI/EXEC, retry, and its
    translation of Redis failures into one-line errors); while Redis is down they are refused.
    """

    def __init__(self, registry, check_options: OptionsCheck):
        self.registry = registry
        self.check_options = check_options
        # One line when `list` stepped over a `presets:index` of another Redis type (it then
        # lists nothing): what is wrong and the fix, for the face to say.
        self.index_problem: str | None = None

    @property
    def keys(self):
        return self.registry.keys

    def list(self) -> list[Preset]:
        """Every preset (corrupt ones included, marked by `problem`), by name."""
        def attempt(pipe) -> list[Preset]:
            pipe.watch(self.keys.preset_index)  # reads run at once only while watching
            members = _members(pipe, self.keys.preset_index)
            if isinstance(members, CorruptRegistryKey):
                self.index_problem = str(members)
                return []
            names = sorted(_text(n) for n in members)
            reads = self.registry.live().redis.pipeline(transaction=False)
            for name in names:
                reads.hgetall(self.keys.preset(name))
            replies = reads.execute(raise_on_error=False) if names else []
            return [Preset.from_hash(r, n, self.check_options) for n, r in zip(names, replies)]

        return self._run(attempt)

    def get(self, name: str) -> Preset:
        """The preset (perhaps corrupt); UnknownPreset when there is none."""
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise UnknownPreset(str(name))

        def attempt(pipe) -> Preset:
            pipe.watch(self.keys.preset(name))
            fields = hash_or_wrong_type(pipe, self.keys.preset(name))
            if not fields and not _is_member(pipe, self.keys.preset_index, name):
                raise UnknownPreset(name)
            return Preset.from_hash(fields, name, self.check_options)

        return self._run(attempt)

    def save(self, preset: Preset) -> tuple[Preset, bool]:
        """Store (add or replace) a checked preset; returns it and whether it replaced one."""
        return self.save_all([preset])[0]

    def save_all(self, presets: list[Preset], only_new: bool = False,
                 marker: tuple[str, str] | None = None) -> list[tuple[Preset, bool]]:
        """Store every preset in one transaction (all or none). `only_new`: leave a name that
        exists as it is. `marker`: (key, value) set in the same transaction."""
        now = encode_time(now_utc())
        stamped = [replace(p, updated_at=now) for p in presets]

        def attempt(pipe) -> list[tuple[Preset, bool]]:
            keys = [self.keys.preset(p.name) for p in stamped]
            pipe.watch(self.keys.preset_index, *keys, *([marker[0]] if marker else []))
            if marker and pipe.get(marker[0]) is not None:
                return []  # another process did it first
            _require_set(pipe, self.keys.preset_index)
            existing = [pipe.exists(k) or _is_member(pipe, self.keys.preset_index, p.name)
                        for k, p in zip(keys, stamped)]
            done = [(p, bool(e)) for p, e in zip(stamped, existing) if not (only_new and e)]
            pipe.multi()
            for preset, _ in done:
                key = self.keys.preset(preset.name)
                pipe.delete(key)  # a corrupt one of another Redis type is replaced whole
                pipe.hset(key, mapping=preset.to_hash())
                pipe.sadd(self.keys.preset_index, preset.name)
                self._publish(pipe, "preset_added", preset.name)
            if marker:
                pipe.set(marker[0], marker[1])
            return done

        return self._run(attempt)

    def remove(self, name: str) -> Preset:
        """Remove a preset (corrupt ones too) and return it."""
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise UnknownPreset(str(name))
        key = self.keys.preset(name)

        def attempt(pipe) -> Preset:
            pipe.watch(key, self.keys.preset_index)
            fields = hash_or_wrong_type(pipe, key)
            indexed = _is_member(pipe, self.keys.preset_index, name)
            if not fields and not indexed:
                raise UnknownPreset(name)
            preset = Preset.from_hash(fields, name, self.check_options)
            pipe.multi()
            pipe.delete(key)
            pipe.srem(self.keys.preset_index, name)
            self._publish(pipe, "preset_removed", name)
            return preset

        return self._run(attempt)

    def _publish(self, pipe, event: str, name: str) -> None:
        # A raw PUBLISH, as the registry does: on a Cluster the channel joins the slot.
        pipe.execute_command("PUBLISH", self.keys.events,
                             json.dumps({"event": event, "name": name}))

    def _run(self, attempt):
        return self.registry.live().transaction(attempt)


def _members(pipe, key: str) -> "set | CorruptRegistryKey":
    """The index's members; for an index of another Redis type, the error naming it (as a
    value: the list is then empty, and says why)."""
    try:
        return pipe.smembers(key)
    except redis.ResponseError as exc:
        if not is_wrong_type(exc):
            raise
        return CorruptRegistryKey(key, _text(pipe.type(key)), "set", fix=_INDEX_FIX.format(key=key))


def _is_member(pipe, key: str, name: str) -> bool:
    try:
        return bool(pipe.sismember(key, name))
    except redis.ResponseError as exc:
        if not is_wrong_type(exc):
            raise
        return False


def _require_set(pipe, key: str) -> None:
    """Refuse a change (nothing written) while `presets:index` holds another Redis type."""
    found = _text(pipe.type(key))
    if found not in ("none", "set"):
        raise CorruptRegistryKey(key, found, "set", fix=_INDEX_FIX.format(key=key))


_INDEX_FIX = "Delete it (redis-cli DEL '{key}'); every preset then needs adding again."


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

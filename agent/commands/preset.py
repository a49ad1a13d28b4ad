"""`preset add|list|show|remove|export|import|use`: named presets (registry/presets.py). What a
request takes from one (`chat -p`, `code -p`, `/preset use`) is agent/preset_request.py.

A preset is one name for a model, a system prompt and options; the request it makes follows
agent/precedence.py (model entry < preset < session < command line). Reading presets needs
Redis; the registry's own reads (for name clashes, the model a preset names) go through the
same registry every command uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.commands.base import Args
from agent.errors import UsageError
from registry.errors import AiCliError, InvalidInput

if TYPE_CHECKING:
    from registry.presets import Preset, PresetStore

MAX_IMPORT_BYTES = 1_000_000


def preset_store(app) -> PresetStore:
    from registry.presets import PresetStore
    from router.options import options_from_mapping

    return PresetStore(app.registry, options_from_mapping)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetSaved:
    preset: Preset
    replaced: bool
    verb: str = "saved"

    def to_json(self) -> dict:
        return {**self.preset.to_json(), "replaced": self.replaced}


@dataclass(frozen=True)
class PresetRemoved:
    preset: Preset

    def to_json(self) -> dict:
        return self.preset.to_json()


@dataclass(frozen=True)
class PresetList:
    presets: list  # Preset
    problems: dict  # name -> one line (corrupt, or its model is gone)

    def to_json(self) -> list:
        return [{**p.to_json(), "problem": self.problems.get(p.name)} for p in self.presets]


@dataclass(frozen=True)
class PresetShow:
    preset: Preset
    problem: str | None = None
    resolved: Any = None  # agent.precedence.Resolved, with --resolved
    route: dict | None = None  # which model it would use now: {"model", "url", "via", "notice"}

    def to_json(self) -> dict:
        data = {**self.preset.to_json(), "problem": self.problem}
        if self.resolved is not None:
            data["resolved"] = {**self.resolved.to_json(), "route": self.route}
        return data


@dataclass(frozen=True)
class PresetExport:
    presets: list  # Preset
    skipped: list = field(default_factory=list)  # corrupt ones, by name

    def to_json(self) -> dict:
        return {p.name: p.to_export() for p in self.presets}

    @property
    def text(self) -> str:
        import yaml

        if not self.presets:
            return "{}\n"
        return yaml.safe_dump(self.to_json(), sort_keys=True, allow_unicode=True,
                              default_flow_style=False)


@dataclass(frozen=True)
class PresetsImported:
    saved: list  # (Preset, replaced)
    source: str

    def to_json(self) -> dict:
        return {"source": self.source,
                "presets": [{**p.to_json(), "replaced": r} for p, r in self.saved]}


@dataclass(frozen=True)
class PresetInUse:
    name: str | None
    session_id: str | None

    def to_json(self) -> dict:
        return {"preset": self.name, "session_id": self.session_id}


# --- handlers --------------------------------------------------------------------------------


def add(app, args: Args) -> PresetSaved:
    from registry.presets import checked_preset, validate_preset_name
    from router.options import options_from_mapping, parse_options

    name = validate_preset_name(args.name)
    requires = [r for r in (args.requires or "").split(",") if r.strip()]
    preset = checked_preset(name, check_options=options_from_mapping, description=args.description or "", model=args.model or "",
                            system=args.system or "", options=parse_options(args.option),
                            requires=requires)
    return save_checked(app, preset)


def save_checked(app, preset: Preset) -> PresetSaved:
    """Store a checked preset after the checks that need the registry: its name is no model's,
    and a model it names is registered (a name that means two models is refused too)."""
    models = app.read_registry(lambda r: r.list_models())
    refuse_clash(preset.name, models)
    _require_model(app, preset)
    saved, replaced = preset_store(app).save(preset)
    return PresetSaved(saved, replaced)


def list_presets(app, args: Args) -> PresetList:
    store = preset_store(app)
    presets = store.list()
    if store.index_problem is not None:
        from agent.events import Notice

        app.face.report(Notice(store.index_problem, "warn"))
    models = _models_or_none(app)
    return PresetList(presets, {p.name: problem for p in presets
                                if (problem := preset_problem(p, models)) is not None})


def show(app, args: Args) -> PresetShow:
    preset = preset_store(app).get(args.name)
    problem = preset_problem(preset, _models_or_none(app))
    if not args.resolved or preset.corrupt:
        return PresetShow(preset, problem)
    from agent.precedence import resolve_layers
    from agent.preset_request import plan_request, route_json, with_session

    request = with_session(app, plan_request(app, preset, "general", notices=[]))
    route = request.route_now(app)
    layers = [request.entry_layer(route), *request.layers()]
    return PresetShow(preset, problem, resolve_layers(layers), route_json(app, route, request))


def remove(app, args: Args) -> PresetRemoved:
    return PresetRemoved(preset_store(app).remove(args.name))


def export(app, args: Args) -> PresetExport:
    store = preset_store(app)
    names = (args.names or "").split()
    chosen = [store.get(n) for n in names] if names else store.list()
    broken = [p for p in chosen if p.corrupt]
    if names and broken:
        p = broken[0]
        raise InvalidInput(f"Preset {p.name!r} is damaged ({p.problem}); it cannot be exported. "
                           f"Remove it with: ai-cli preset remove {p.name}")
    return PresetExport([p for p in chosen if not p.corrupt], [p.name for p in broken])


def import_file(app, args: Args) -> PresetsImported:
    """Every preset of the file is checked (names, options, clashes, the YAML itself) before
    any is written; then all are written in one transaction."""
    from registry.presets import presets_from_mapping
    from router.options import options_from_mapping

    presets = presets_from_mapping(_read_yaml(args.file), options_from_mapping)
    if not presets:
        raise InvalidInput(f"{args.file} holds no presets; nothing was imported.")
    models = app.read_registry(lambda r: r.list_models())
    for preset in presets:
        refuse_clash(preset.name, models)
    return PresetsImported(preset_store(app).save_all(presets), args.file)


def use(app, args: Args) -> PresetInUse:
    """`/preset use NAME|none`: the session's preset (stored on it, like its system prompt)."""
    name = None if args.name.lower() == "none" else args.name
    if name is not None:
        preset = preset_store(app).get(name)
        if preset.corrupt:
            raise InvalidInput(f"Preset {name!r} is damaged ({preset.problem}); remove it with "
                               f"/preset remove {name}, or use another.")
    from agent.commands.session import session_in_use, session_store

    store = session_store(app)
    session = session_in_use(app, store, create=app.in_repl)
    if session is None:
        raise UsageError("No session is in use, so there is nothing to keep the preset on. "
                         "Start one with 'ai-cli session new', or pass -p NAME to chat.")
    store.set_defaults(session.session_id, preset=name or "")
    return PresetInUse(name, session.session_id)


# --- checks ----------------------------------------------------------------------------------


def refuse_clash(name: str, models) -> None:
    from registry.presets import clashing_model

    model = clashing_model(name, models)
    if model is not None:
        raise InvalidInput(f"{name!r} is the name of a registered model ({model}), so -m "
                           f"{name} means that model; choose another name for the preset.")


def _require_model(app, preset: Preset) -> None:
    from registry.presets import FASTEST, REQUEST_TYPES

    if preset.model and preset.model not in REQUEST_TYPES \
            and not preset.model.startswith(FASTEST):
        from agent.commands.model import find_named

        find_named(app, preset.model, prefer="general", registry=app.online_registry(True))


def preset_problem(preset: Preset, models) -> str | None:
    """One line when a preset cannot be used as it is: damaged, or its model is gone."""
    if preset.corrupt:
        return f"damaged: {preset.problem}; remove it with 'ai-cli preset remove {preset.name}'"
    from registry.presets import FASTEST, REQUEST_TYPES

    if models is None or not preset.model or preset.model in REQUEST_TYPES \
            or preset.model.startswith(FASTEST):
        return None
    from registry.lookup import resolve

    try:
        resolve([m for m in models if not m.corrupt], preset.model, prefer="general")
    except AiCliError as exc:
        return f"its model {preset.model!r} cannot be used ({exc.message.rstrip('.')}); " \
               "requests through it fall back to the general route"
    return None


def _models_or_none(app):
    try:
        return app.read_registry(lambda r: r.list_models())
    except AiCliError:
        return None  # the list still shows the presets; no model check


def _read_yaml(path: str) -> Any:
    from pathlib import Path

    import yaml

    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"{path} is over {MAX_IMPORT_BYTES:,} bytes; a presets file is "
                           "much smaller. Nothing was imported.")
    try:
        return yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text; nothing was imported.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidInput(f"{path} is not valid YAML{where}; nothing was imported.") from None

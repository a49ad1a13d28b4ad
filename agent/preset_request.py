"""A request through a preset: which route and model it takes (`-m` first, else the preset's
model: a request type, `fastest:TYPE`, or a model; a model that is gone degrades to the route
with a notice), and its layers of settings for agent/precedence.py. Used by `chat -p`, `code -p`,
the REPL's `/preset use`, `preset show --resolved` and the web's `"preset"`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from registry.errors import AiCliError, InvalidInput

if TYPE_CHECKING:
    from registry.presets import Preset


@dataclass
class PlannedRequest:
    """What a preset (with the session and the command line) makes of one request: the route
    asked, the model key for the router (`-m`'s form), and the layers of settings."""

    request_type: str
    model_id: str | None
    preset: Preset | None = None
    session_system: str = ""
    session_options: dict = field(default_factory=dict)
    pinned: str | None = None
    command: Any = None  # agent.precedence.Layer of the command line, when there is one
    model_source: str | None = None

    def layers(self) -> list:
        from agent.precedence import Layer, preset_source, session_layer

        layers = []
        if self.preset is not None:
            layers.append(Layer(preset_source(self.preset.name), model=self.preset.model or None,
                                system=self.preset.system or None,
                                options=dict(self.preset.options)))
        layers.append(session_layer(self.session_system, self.session_options))
        if self.command is not None:
            layers.append(self.command)
        return layers

    def route_now(self, app):
        return app.router.route(self.request_type, self.pinned, model_id=self.model_id)

    def entry_layer(self, route):
        """The settings the model that would answer carries itself (its fixed num_ctx)."""
        from agent.precedence import MODEL_ENTRY, Layer
        from router.fitter import entry_num_ctx

        model = route.model
        num_ctx = entry_num_ctx(model) if model is not None else None
        return Layer(MODEL_ENTRY, options={"num_ctx": num_ctx} if num_ctx else {})


def route_json(app, route, request: PlannedRequest) -> dict:
    model = route.model
    return {"request_type": request.request_type,
            "model": None if model is None else model.model_name,
            "model_id": None if model is None else model.model_id,
            "url": None if model is None else model.shown_url,
            "via": route.via, "notice": route.notice,
            "unmet_requires": unmet_requirements(app, request.preset, model)}


def unmet_requirements(app, preset: Preset | None, model) -> list[str]:
    """The capabilities the preset requires that the model is known to lack (its server's, or
    the user's override: `model caps`); one whose capabilities are unknown is not listed."""
    if preset is None or not preset.requires or model is None:
        return []
    known = app.checker.capabilities(model)
    if known is None:
        return []
    return [c for c in preset.requires if c not in known]


def plan_request(app, preset: Preset | None, request_type: str, notices: list,
                 model_text: str | None = None) -> PlannedRequest:
    """The route and model a request takes: `-m` (model_text) first, else the preset's model
    (a request type, `fastest:TYPE`, or a model), else `request_type`'s route. A preset's
    model that is gone or unknown degrades to the route, with a line in `notices`."""
    from agent.commands.model import requested_model

    planned = PlannedRequest(request_type, None, preset)
    if model_text is not None:
        planned.model_id = requested_model(app, model_text, request_type)
        return planned
    if preset is None or not preset.model:
        return planned
    from registry.presets import FASTEST, REQUEST_TYPES

    wanted = preset.model
    if wanted in REQUEST_TYPES:
        planned.request_type = wanted
    elif wanted.startswith(FASTEST):
        planned.request_type = wanted[len(FASTEST):]
        planned.model_id = _fastest(app, planned.request_type)
    else:
        try:
            planned.model_id = requested_model(app, wanted, request_type)
        except AiCliError as exc:  # unknown, ambiguous, or of no type a request takes
            notices.append(f"Preset {preset.name}: its model {wanted!r} cannot be used "
                           f"({exc.message.rstrip('.')}); the {request_type} route answers "
                           "instead.")
    return planned


def model_for_code(app, planned: PlannedRequest) -> str | None:
    """The model `/code` asks first: /code always takes the coder route, so a preset naming
    another route (`general`) means that route's model now."""
    if planned.model_id is not None or planned.request_type == "coder":
        return planned.model_id
    model = app.router.route(planned.request_type).model
    return model.model_id if model is not None else None


def _fastest(app, model_type: str) -> str | None:
    from registry.answer_log import SPEED_WINDOW, AnswerLog
    from registry.fastest import fastest_model

    try:
        records = AnswerLog(app.registry).recent(SPEED_WINDOW)
        models = app.registry.list_models(model_type)
    except AiCliError:
        return None  # no log to rank by: the type's route answers
    model = fastest_model(records, models, model_type)
    return None if model is None else model.model_id


def with_session(app, planned: PlannedRequest) -> PlannedRequest:
    """`planned` with the session's settings and pinned model (what the exchange reads itself
    when it runs), for showing the request beforehand."""
    if app.session_id is None:
        return planned
    from agent.commands.session import session_store

    try:
        session = session_store(app).get(app.session_id)
    except AiCliError:
        return planned
    planned.pinned = session.pinned.get(planned.request_type)
    planned.session_system, planned.session_options = session.system, dict(session.options)
    return planned


def preset_for_request(app, name: str | None) -> Preset | None:
    """The preset a request goes through: `-p NAME`, else the session's (`/preset use`).
    An explicit name that is unknown or damaged is an error; the session's is said once and
    passed over (the session still answers)."""
    from agent.events import Notice

    if name is not None:
        preset = _store(app).get(name)
        if preset.corrupt:
            raise InvalidInput(f"Preset {name!r} is damaged ({preset.problem}); remove it with "
                               f"'ai-cli preset remove {name}'.")
        return preset
    kept = _session_preset(app)
    if not kept:
        return None
    try:
        preset = _store(app).get(kept)
    except AiCliError as exc:
        app.face.report(Notice(f"This session's preset {kept!r} is not used: {exc.message}",
                               "warn"))
        return None
    if preset.corrupt:
        app.face.report(Notice(f"This session's preset {kept!r} is damaged ({preset.problem}) "
                               "and is not used.", "warn"))
        return None
    return preset


def _session_preset(app) -> str:
    if app.session_id is None:
        return ""
    from agent.commands.session import session_store

    try:
        return session_store(app).get(app.session_id).preset
    except AiCliError:
        return ""


def _store(app):
    from agent.commands.preset import preset_store

    return preset_store(app)

"""The guided setup (`/model wizard`, `ai-cli setup`): add, switch or remove a model, or create a
preset, with questionary.

Nothing is written until the last step: Ctrl-C at any question raises `Cancelled` and leaves the
registry as it was. The decisions are the same calls the subcommands make.
"""

from __future__ import annotations

from agent.commands.model_changes import ModelAdded, ModelChanged
from agent.errors import Cancelled, NeedsTerminal
from agent.events import Notice
from registry.errors import AiCliError, InvalidInput
from registry.model import (
    ModelConfig,
    mask_url,
    now_utc,
    validate_model_name,
    validate_timeout,
    validate_url,
)

ADD, SWITCH, REMOVE = "Add a model", "Switch the active model", "Remove a model"
PRESET = "Create a preset"
TEMPERATURES = (("the model's own", None), ("0.1 — precise", "0.1"), ("0.3", "0.3"),
                ("0.7 — balanced", "0.7"), ("1.0 — creative", "1.0"))
TYPE_A_NAME = "Type a model name…"
NO_TERMINAL = (
    "The wizard needs a terminal. Without one, use the commands: "
    "'ai-cli model general add <url> <model_name>', 'ai-cli model general use <model_id>', "
    "'ai-cli model general remove <model_id>' (and the same with 'coder')."
)
CANCELLED = "Wizard cancelled; the registry is unchanged."


def run_wizard(app, args=None):
    if not app.face.interactive:
        raise NeedsTerminal(NO_TERMINAL)
    registry = app.online_registry()
    has_models = bool(registry.list_models())
    actions = [ADD, SWITCH, REMOVE, PRESET] if has_models else [ADD]
    action = _ask(_select("What do you want to do?", actions))
    if action == ADD:
        return _add(app, registry)
    if action == PRESET:
        return _preset(app, registry)
    model = _pick_model(registry, "Which model?" if action == SWITCH else "Remove which model?")
    if action == SWITCH:
        registry.set_active_model(model.model_id)  # a corrupt pick: CorruptModel, one line
        return ModelChanged(registry.require_model(model.model_id), "is now active")
    if not _ask(_confirm(f"Remove {model.model_name} @ {model.host} ({model.model_id})?",
                         default=False)):  # removing is the one step Enter must not do
        raise Cancelled(CANCELLED)
    registry.remove_model(model.model_id)  # any type: a corrupt entry's may be anything
    return ModelChanged(model, "removed")


def _add(app, registry) -> ModelAdded:
    model_type = _ask(_select("Which kind of model?", [
        _choice("general — chat", "general"), _choice("coder — /code and edits", "coder"),
    ]))
    url = _ask_url(app, registry)
    model_name = _ask_model_name(app, url)
    timeout = validate_timeout(_ask(_text(
        "Request timeout (seconds):", str(app.config.get_default_timeout()), validate_timeout
    )))
    candidate = ModelConfig("", model_type, url, model_name, timeout, True, now_utc())
    with app.face.waiting("Checking availability..."):
        probe = app.checker.check(candidate, force=True)
    if not probe.is_available:
        app.face.report(Notice(probe.reason or "The server did not answer.", "warn"))
        question = "Add it anyway (it will not answer until that is fixed)?"
    else:
        question = f"Add {model_name} @ {candidate.host} as the active {model_type} model?"
    if not _ask(_confirm(question, default=probe.is_available)):
        raise Cancelled(CANCELLED)
    model = registry.add_model(model_type, url, model_name, timeout=timeout, set_active=True)
    registry.update_availability(model.model_id, probe.is_available)
    reason = None if probe.is_available else probe.reason
    return ModelAdded(registry.get_model(model.model_id) or model, reason)


def _preset(app, registry):
    """A preset from three answers: its model (from the list), a system prompt, a temperature;
    saved as `preset add` saves one (name clashes and the -o rules checked)."""
    from agent.commands.preset import refuse_clash, save_checked
    from registry.presets import checked_preset, validate_preset_name
    from router.options import options_from_mapping

    models = [m for m in registry.list_models() if not m.corrupt]

    def free_name(value: str) -> str:  # checked in place: a bad name never moves on
        refuse_clash(validate_preset_name(value), models)
        return value

    name = free_name(_ask(_text("Preset name:", "", free_name)))
    model = _ask(_select("Which model?", [
        _choice("the general route (whatever answers general requests)", "general"),
        _choice("the coder route", "coder"),
        _choice("the fastest general model (best recent time to first token)",
                "fastest:general"),
        *[_choice(f"{m.model_name} @ {m.host}  ({m.model_type})", m.model_name) for m in models],
    ]))
    system = _ask(_text("System prompt (empty: none):", "", lambda value: value))
    temperature = _ask(_select("Temperature?", [_choice(t, v or "") for t, v in TEMPERATURES]))
    options = {"temperature": temperature} if temperature else {}
    preset = checked_preset(name, check_options=options_from_mapping, model=model,
                            system=system.strip(), options=options)
    return save_checked(app, preset)


ANOTHER_URL = "Another server (type its URL)…"


def host_offers(default_url: str, models) -> list[str]:
    """The servers the wizard offers: OLLAMA_HOST's (or Ollama's default), then each one a
    registered model already uses, once each, in the order they were added. Pure."""
    offers = [default_url]
    for model in sorted(models, key=lambda m: str(m.added_at)):
        if not model.corrupt and model.url not in offers:
            offers.append(model.url)
    return offers


def _ask_url(app, registry) -> str:
    from registry.ollama_host import default_ollama_url

    default_url = default_ollama_url(app.config.env)
    try:
        models = registry.list_models()
    except AiCliError:
        models = []
    offers = host_offers(default_url, models)
    picked = _ask(_select("Which Ollama server?", [
        *(_choice(mask_url(url), url) for url in offers), _choice(ANOTHER_URL, ANOTHER_URL)]))
    if picked != ANOTHER_URL:
        return picked
    return validate_url(_ask(_text("Ollama server URL:", default_url, validate_url)))


def _ask_model_name(app, url: str) -> str:
    try:
        with app.face.waiting(f"Asking {mask_url(url)} for its models..."):
            names = app.checker.discover(url)
    except AiCliError as exc:
        app.face.report(Notice(f"{exc.message} You can still type a model name.", "warn"))
        names = []
    if names:
        picked = _ask(_select("Which model?", [*names, TYPE_A_NAME]))
        if picked != TYPE_A_NAME:
            return picked
    return validate_model_name(_ask(_text("Model name (as Ollama knows it):", "",
                                          validate_model_name)))


def _pick_model(registry, question: str) -> ModelConfig:
    models = registry.list_models()
    choices = [
        _choice(("● " if m.is_active else "  ")
                + f"{m.model_type:<8} {m.model_name} @ {m.host}  ({m.model_id})"
                + ("  [active]" if m.is_active else ""), m.model_id)
        for m in models
    ]
    model_id = _ask(_select(question, choices))
    return next(m for m in models if m.model_id == model_id)


# --- questionary, with Ctrl-C turned into Cancelled ----------------------------------------------


def _ask(question):
    try:
        answer = question.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise Cancelled(CANCELLED) from None
    if answer is None:
        raise Cancelled(CANCELLED)
    return answer


def _select(message: str, choices: list):
    import questionary

    return questionary.select(message, choices=choices)


def _choice(title: str, value: str):
    import questionary

    return questionary.Choice(title=title, value=value)


def _confirm(message: str, default: bool = True):
    import questionary

    return questionary.confirm(message, default=default)


def _text(message: str, default: str, check):
    import questionary

    def validate(value: str):
        try:
            check(value)
        except InvalidInput as exc:
            return exc.message
        return True

    return questionary.text(message, default=default, validate=validate)

"""The start-up banner (the seed's "Startup Behavior"): one line per model type and the fallback.

`banner_lines` is pure: it turns what was found into lines. `gather` does the I/O: one concurrent
probe round, so the banner waits at most about one probe timeout on unreachable hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

from cli.output import INFO, OK, WARN, Output

LABELS = {"general": "General Model", "coder": "Coder Model"}


@dataclass(frozen=True)
class Found:
    """What start-up learned: active models, probe results by model (None = not probed)."""

    version: str
    active: dict  # model_type -> ModelConfig | None
    fallback: object  # FallbackModel
    probes: dict  # id(model) -> ProbeResult
    chat: bool
    code: bool
    notices: dict  # model_type -> route notice (the model actually used), or None
    registry_error: str | None = None


@dataclass(frozen=True)
class Line:
    icon: str
    style: str
    text: str


def banner_lines(found: Found) -> list[Line | None]:
    """None is a blank line."""
    lines: list[Line | None] = [Line("", "bold", f"AI CLI v{found.version}"), None]
    if found.registry_error:
        lines.append(Line(WARN, "yellow", f"Model registry: {found.registry_error}"))
    for model_type, label in LABELS.items():
        model = found.active.get(model_type)
        if model is None:
            lines.append(Line(WARN, "yellow", f"{label}: Not configured"))
        else:
            lines.append(_model_line(label, model, found.probes.get(id(model))))
        if found.notices.get(model_type):
            lines.append(Line(" ", "dim", f"  {found.notices[model_type]}"))
    fallback = found.fallback
    probe = found.probes.get(id(fallback))
    lines.append(Line(INFO, "cyan", f"Fallback: {fallback.model_name} @ {fallback.host}"
                                    f"{_reachability(probe)}"))
    lines.append(None)
    limited = _limited_lines(found)
    if limited:
        lines.extend(limited + [None])
    lines.append(Line("", "", "Type /help for available commands or start chatting!"
                      if found.chat else "Type /help for available commands."))
    return lines


def _model_line(label: str, model, probe) -> Line:
    ok = probe is not None and probe.is_available
    icon, style = (OK, "green") if ok else (WARN, "yellow")
    return Line(icon, style, f"{label}: {model.model_name} @ {model.host}{_reachability(probe)}")


def _reachability(probe) -> str:
    if probe is None:
        return ""
    if probe.is_available:
        return " (reachable)"
    return f" (unreachable: {probe.reason})" if probe.reason else " (unreachable)"


def _limited_lines(found: Found) -> list[Line]:
    lines = []
    for feature, model_type, on in (("chat", "general", found.chat), ("code", "coder", found.code)):
        if on:
            continue
        if found.registry_error:  # the registry is away: whether a model is set is unknown
            lines.append(Line("", "yellow", f"Limited mode: {feature} is off until the model "
                                            "registry answers again (see above) or the fallback "
                                            "is reachable."))
        elif found.active.get(model_type) is not None:  # configured, but not reachable
            lines.append(Line("", "yellow", f"Limited mode: {feature} is off until the {model_type} "
                                            "model is reachable: start its Ollama server, then "
                                            "run '/model check'."))
        else:
            lines.append(Line("", "yellow", f"Limited mode: Use '/model {model_type} add' to "
                                            f"enable {feature} features."))
    if found.code and not found.chat:
        lines.append(Line("", "", "Code features available via '/code' command."))
    return lines


def gather(app, version: str) -> Found:
    """Probe the active models and the fallback at once, then ask the router what is on."""
    fallback = app.config.get_fallback_model()
    registry = app.registry
    offline = None if registry.online else registry.notice
    active = {t: registry.get_active_model(t) for t in LABELS}
    # One concurrent round for every model (one request per server), so the router's fallback
    # chain below finds every answer cached instead of probing model after model.
    everyone = [*(m for m in registry.list_models() if not m.corrupt), fallback]
    answers = {_key(m): r for m, r in zip(everyone, app.checker.check_many(everyone))}
    probes = {id(m): answers.get(_key(m)) for m in [*active.values(), fallback] if m is not None}
    features = app.router.features()
    notices = {}
    for model_type in LABELS:
        route = app.router.route(model_type)
        # A route that is not the active model says which one it uses; "none" is covered by the
        # Limited mode lines.
        notices[model_type] = route.notice if route.available and route.via != "active" else None
    return Found(version, active, fallback, probes, bool(features.chat), bool(features.code),
                 notices, registry_error=offline)


def _key(model) -> tuple:
    return (model.model_id, model.url, model.model_name)


def render(out: Output, lines: list[Line | None]) -> None:
    from rich.text import Text

    for line in lines:
        if line is None:
            out.line()
            continue
        text = Text(f"{line.icon} " if line.icon.strip() else "", style=line.style)
        text.append(line.text, style=line.style)
        out.print(text, soft_wrap=not out.out.is_terminal)

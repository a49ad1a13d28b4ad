"""The start-up banner (the seed's "Startup Behavior"): one line per model type and the fallback.

`banner_lines` is pure: it turns what was found into lines. `gather` does the I/O: one concurrent
probe round, so the banner waits at most about one probe timeout on unreachable hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

from cli.output import INFO, OK, WARN, Output
from registry.errors import AiCliError

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
    offer: tuple[str, list] | None = None  # no model yet: (server URL, the models it has)
    fallback_told_today: bool = False  # its "unreachable" line was shown today already
    session: object | None = None  # agent.sessions.Session: the one `--session ID` continues


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
    if found.session is not None:
        lines.extend(session_lines(found.session))
    fallback = found.fallback
    probe = found.probes.get(id(fallback))
    unreachable = probe is not None and not probe.is_available
    if not (unreachable and found.fallback_told_today):  # a fallback that is down: once a day
        lines.append(Line(INFO, "cyan", f"Fallback: {fallback.model_name} @ {fallback.host}"
                                        f"{_reachability(probe)}"))
    lines.append(None)
    limited = _limited_lines(found)
    if limited:
        lines.extend(limited + [None])
    if found.offer is not None:
        lines.extend(offer_lines(*found.offer) + [None])
    lines.append(Line("", "", "Type /help for available commands or start chatting!"
                      if found.chat else "Type /help for available commands."))
    return lines


def session_lines(session) -> list[Line]:
    """`--session ID`: the session continued, with what shapes its answers (system prompt,
    pinned models), so nobody is surprised by them."""
    title = f" — {session.title}" if session.title else ""
    lines = [Line(INFO, "cyan", f"Session: {session.session_id}{title} "
                                f"({session.message_count} messages)")]
    if session.system:
        system = " ".join(session.system.split())
        lines.append(Line(" ", "", f"  system prompt: {system[:100]}"
                                   + ("…" if len(system) > 100 else "")))
    pins = ", ".join(f"{t}={m}" for t, m in session.pinned.items() if m)
    if pins:
        lines.append(Line(" ", "", f"  pinned: {pins}"))
    return lines


def offer_lines(url: str, names: list) -> list[Line]:
    """No model is registered yet, and the Ollama server OLLAMA_HOST names (or Ollama's
    default) has some: name them, and the command that adds the first, as `ollama` users
    would type it."""
    from registry.model import mask_url

    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [Line(INFO, "cyan", f"Ollama at {mask_url(url)} has {shown}."),
            Line(" ", "", f"  Add one: ai-cli model general add {mask_url(url)} {names[0]}"
                          "   (or /model wizard)")]


def first_offer(app, fallback, probes: dict, registry) -> tuple[str, list] | None:
    """With no model registered, the models of the server OLLAMA_HOST names (else Ollama's
    default): one request of at most a second, skipped when the fallback's probe of that same
    server just got no answer at all (no latency: refused or silent). None when there is
    nothing to offer."""
    from registry.availability import AvailabilityChecker
    from registry.ollama_host import default_ollama_url

    url = default_ollama_url(app.config.env)
    probe = probes.get(id(fallback))
    if fallback.url.rstrip("/") == url and probe is not None and probe.latency_ms is None:
        return None
    try:
        names = AvailabilityChecker(registry, probe_timeout=1.0).discover(url)
    except AiCliError:
        return None
    return (url, names) if names else None


def _session_of(app):
    """The session `--session ID` names, read once for the banner; None without one (or when
    it cannot be read: the first message says so)."""
    if app.session_id is None:
        return None
    try:
        from agent.commands.session import session_store

        return session_store(app).get(app.session_id)
    except AiCliError:
        return None


FALLBACK_TOLD = "fallback-unreachable-told"  # in the data dir: "<UTC date> <url>"


def told_today(data_dir, fallback) -> bool:
    """Whether the fallback's "unreachable" line was shown today (UTC) for this server; when
    not, note that it is being shown now. Best effort: a data dir that cannot be written
    only means the line shows again."""
    import os
    from datetime import datetime, timezone

    mark = f"{datetime.now(timezone.utc).date().isoformat()} {fallback.shown_url}"
    path = data_dir / FALLBACK_TOLD
    try:
        if path.read_text(encoding="utf-8").strip() == mark:
            return True
    except (OSError, UnicodeDecodeError):
        pass
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(mark + "\n")
    except OSError:
        pass
    return False


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
    registered = registry.list_models()
    everyone = [*(m for m in registered if not m.corrupt), fallback]
    answers = {_key(m): r for m, r in zip(everyone, app.checker.check_many(everyone))}
    probes = {id(m): answers.get(_key(m)) for m in [*active.values(), fallback] if m is not None}
    features = app.router.features()
    notices = {}
    for model_type in LABELS:
        route = app.router.route(model_type)
        # A route that is not the active model says which one it uses; "none" is covered by the
        # Limited mode lines.
        notices[model_type] = route.notice if route.available and route.via != "active" else None
    offer = (first_offer(app, fallback, probes, registry)
             if not registered and offline is None else None)
    fallback_probe = probes.get(id(fallback))
    told = (fallback_probe is not None and not fallback_probe.is_available
            and told_today(app.config.data_dir, fallback))
    return Found(version, active, fallback, probes, bool(features.chat), bool(features.code),
                 notices, registry_error=offline, offer=offer, fallback_told_today=told,
                 session=_session_of(app))


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

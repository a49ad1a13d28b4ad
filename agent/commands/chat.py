"""`ai-cli chat "message"` (or on stdin), `/chat [flags] message`, and every REPL line that is
not a slash command. Per-request flags follow simonw's `llm`: -m, -s, -o, -c, -f; piped stdin
plus a message sends the piped text, then the message."""

from __future__ import annotations

from dataclasses import dataclass

from agent.commands.base import Args
from agent.errors import SessionNotFound, UsageError
from agent.events import Notice, SessionStarted
from registry.errors import AiCliError, InvalidInput


def chat(app, args: Args):
    from agent.chat import ChatRequest, exchange
    from agent.preset_request import plan_request, preset_for_request
    from router.options import parse_options

    options = parse_options(args.option)  # checked before anything is read, sent or stored
    if args.think:  # `--think` (True) or `--think high`
        options["think"] = args.think
    if args.save is not None:
        return _save_preset(app, args, options)  # as `llm --save`: stored, nothing sent
    attachments = _attachments(app, args.attach or ())
    stdin_attached = "-" in (args.attach or ())
    question = None if args.explain and not args.message else compose_prompt(
        args.message, None if stdin_attached else _piped(app, args.message),
        [_read_file(path) for path in args.file or ()])
    continuing = bool(args.get("continue"))
    store = _sessions(app, continuing)
    preset = preset_for_request(app, args.preset)  # -p, else the session's (/preset use)
    notices: list[str] = []
    planned = plan_request(app, preset, "general", notices, args.model)
    if args.explain:
        return _explain(app, planned, args, options, notices)
    for line in notices:
        app.face.report(Notice(line, "warn"))
    # every exchange is kept: with no session in use (or with Redis gone) it opens its own
    request = ChatRequest(question, session_id=app.session_id, open_session=True,
                          options=options or None, model_id=planned.model_id, system=args.system,
                          say_unsaved=app.in_repl or continuing,
                          preset=preset.name if preset else None,
                          preset_system=(preset.system or None) if preset else None,
                          preset_options=dict(preset.options) if preset else None,
                          preset_requires=tuple(preset.requires) if preset else (),
                          request_type=planned.request_type, attachments=attachments)

    def report(event) -> None:
        if isinstance(event, SessionStarted):  # the REPL's next message continues it
            app.session_id = event.session_id
        app.face.report(event)

    try:
        return exchange(app.router, store, request, report)
    finally:
        _say_registry_lines(app)


def _say_registry_lines(app) -> None:
    """Lines the registry noted while routing (a key of another Redis type it stepped over),
    said once with this answer: in the shell nothing else would show them."""
    registry = app.registry
    while registry.messages:
        app.face.report(Notice(registry.messages.pop(0), "warn"))


def _sessions(app, continuing: bool):
    """The session store, with `app.session_id` checked (or, for -c, set to the session of the
    most recent exchange, whichever face it came from: `llm -c`; none yet starts a new one).

    In the REPL a session that is gone is said once and replaced with the next answer, and a
    Redis that is down only means this chat is not saved. In the shell both are errors when a
    session was asked for: answering without its history would mislead."""
    from agent.commands.session import session_store

    try:
        store = session_store(app)
        if continuing:
            latest = store.latest()
            if latest is not None:
                app.session_id = latest.session_id
        if app.session_id is not None:
            store.get(app.session_id)
        return store
    except SessionNotFound:
        if not app.in_repl:
            raise
        app.face.report(Notice(f"Session {app.session_id} no longer exists (deleted elsewhere, or "
                               "lost when Redis stopped); this chat continues in a new session.",
                               "warn"))
        app.session_id = None
        return store
    except AiCliError as exc:
        if (app.session_id is not None or continuing) and not app.in_repl:
            raise  # a session was asked for: do not answer without its history
        if app.in_repl:
            app.face.report(Notice(f"This chat is not saved: {exc.message}", "warn"))
        return None


def compose_prompt(message: str | None, piped: str | None, files: list[tuple[str, str]]) -> str:
    """Files (each under its name), then piped text, then the message. Pure."""
    parts = [f"{name}\n```\n{text.rstrip()}\n```" for name, text in files]
    if piped:
        parts.append(piped)
    if message:
        parts.append(message)
    if not parts:
        if message is not None:  # typed, but blank
            raise UsageError('The message is empty. Usage: ai-cli chat "message" (or pipe the '
                             'message in).')
        raise UsageError('Nothing to send. Usage: ai-cli chat "message" (or pipe the message in).')
    return "\n\n".join(parts)


def _piped(app, message: str | None) -> str | None:
    """Text piped to `ai-cli chat` (the face has it: never in the REPL or on the web)."""
    text = app.face.piped_text()
    if text is not None and not text and not message:
        if message is not None:  # `ai-cli chat ""`: the typed message is the empty one
            raise UsageError('The message is empty. Usage: ai-cli chat "message" (or pipe the '
                             'message in).')
        raise UsageError("The message on stdin is empty.")
    return text or None


def _attachments(app, specs) -> tuple:
    """Every `-a` image, read (and each URL fetched) before anything is sent; the first that
    cannot be is refused in one line and nothing is sent."""
    if not specs:
        return ()
    from agent.attachments import STDIN, load

    if list(specs).count(STDIN) > 1:
        raise InvalidInput("-a - (stdin) can be given once.")
    piped = app.face.piped_bytes() if STDIN in specs else None
    return tuple(load(spec, piped) for spec in specs)


def _read_file(path: str) -> tuple[str, str]:
    from pathlib import Path

    try:
        return path, Path(path).expanduser().read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a text file (UTF-8); -f takes text files.") from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _save_preset(app, args: Args, options: dict):
    """`chat --save NAME`: this command line's -m, -s and -o (over -p's preset, when given) as
    a preset. Nothing is read from stdin or sent."""
    from agent.commands.preset import preset_store, save_checked
    from registry.presets import checked_preset
    from router.options import options_from_mapping

    base = preset_store(app).get(args.preset) if args.preset is not None else None
    if base is not None and base.corrupt:
        raise InvalidInput(f"Preset {base.name!r} is damaged ({base.problem}); it cannot be the "
                           "base of another.")
    preset = checked_preset(
        args.save, check_options=options_from_mapping, description=base.description if base else "",
        model=args.model if args.model is not None else (base.model if base else ""),
        system=args.system if args.system is not None else (base.system if base else ""),
        options={**(base.options if base else {}), **options},
        requires=base.requires if base else ())
    return save_checked(app, preset)


def _explain(app, planned, args: Args, options: dict, notices: list[str]):
    """`chat --explain`: the request as it would go (model and host, system prompt, options,
    each with where it came from); nothing is sent."""
    from agent.preset_request import route_json, with_session
    from agent.precedence import COMMAND_LINE, Layer, resolve_layers

    planned = with_session(app, planned)
    planned.command = Layer(COMMAND_LINE, model=args.model, system=args.system, options=options)
    route = planned.route_now(app)
    resolved = resolve_layers([planned.entry_layer(route), *planned.layers()])
    return ChatExplained(resolved, route_json(app, route, planned), list(notices),
                         planned.preset.name if planned.preset else None, app.session_id)


@dataclass(frozen=True)
class ChatExplained:
    resolved: object  # agent.precedence.Resolved
    route: dict
    notices: list
    preset: str | None
    session_id: str | None

    def to_json(self) -> dict:
        return {"sent": False, "preset": self.preset, "session_id": self.session_id,
                "route": self.route, **self.resolved.to_json(), "notices": self.notices}

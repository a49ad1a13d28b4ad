"""/session commands: chat sessions kept in Redis (agent/sessions.py, docs/SESSIONS.md).

The session in use is `app.session_id` (`--session ID`, `/session use ID`, and in the shell the
one `ai-cli session use ID` stored for later commands). In the REPL the first chat message opens
a new session when none is in use (`/session new` just starts that over, so no empty session is
left behind); `ai-cli chat` with no session in use is a one-off exchange saved as a session of
its own, which `-c` continues.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.commands.base import Args, Message
from agent.errors import SessionNotFound
from agent.session_file import read_in_use, write_in_use
from agent.sessions import Session, SessionSettings, SessionStore, StoredMessage
from registry.errors import InvalidInput

UNPIN = "none"


# --- shared with chat and code ---------------------------------------------------------------


def session_store(app) -> SessionStore:
    """The store on the registry's Redis (RegistryUnavailable while Redis is down)."""
    settings = SessionSettings.from_config(app.config)
    registry = app.registry
    return SessionStore(registry.redis, registry.keys.prefix, settings.max_history,
                        settings.max_stored)


def session_in_use(app, store: SessionStore, create: bool = False) -> Session | None:
    """The session `app` is in (checked to exist), a new one when `create`, else None.

    With `create` (the REPL), a session that no longer exists (deleted by another process, or
    lost with a Redis that crashed before it saved) is replaced by a new one, said once.
    """
    if app.session_id is not None:
        try:
            return store.get(app.session_id)
        except SessionNotFound:
            if not create:
                raise
            lost, app.session_id = app.session_id, None
            session = session_in_use(app, store, create=True)
            from agent.events import Notice

            app.face.report(Notice(
                f"Session {lost} no longer exists (deleted elsewhere, or lost when Redis "
                f"stopped); continuing in a new session, {session.session_id}.", "warn"))
            return session
    if not create:
        return None
    session = store.new()
    app.session_id = session.session_id
    return session


def _require_session(app, store: SessionStore) -> Session:
    session = session_in_use(app, store, create=app.in_repl)
    if session is None:
        raise InvalidInput(
            "No session is in use. Pass --session ID (see 'ai-cli session list'), "
            "or run 'ai-cli session new' first."
        )
    return session


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionResult:
    session: Session
    verb: str  # "created", "in use", "deleted", "pinned"
    hint: str | None = None

    def to_json(self) -> dict:
        return self.session.to_json()


@dataclass(frozen=True)
class SessionList:
    sessions: list[Session]
    current: str | None
    query: str | None = None  # `-q TEXT`: the sessions shown are the ones that hold it

    def to_json(self) -> list:
        return [s.to_json() for s in self.sessions]


@dataclass(frozen=True)
class SessionShow:
    session: Session
    messages: list[StoredMessage]

    def to_json(self) -> dict:
        return {**self.session.to_json(), "messages": [m.to_json() for m in self.messages]}


# --- handlers --------------------------------------------------------------------------------


def new(app, args: Args):
    if app.in_repl:  # created with the first message: an unused "new" leaves nothing behind
        app.session_id = None
        return Message("A new session starts with your next message.")
    session = session_store(app).new()
    app.session_id = session.session_id
    write_in_use(app.config.data_dir, session.session_id)
    return SessionResult(session, "created and in use", _continue_hint(app, session))


def list_sessions(app, args: Args) -> SessionList:
    store = session_store(app)
    query = args.get("query")
    if query is None:
        return SessionList(store.list(), app.session_id)
    if not query.strip():
        raise InvalidInput("-q/--query needs some text to look for. Example: "
                           "ai-cli session list -q redis")
    return SessionList(store.search(query), app.session_id, query)


def use(app, args: Args):
    if args.session_id.lower() == UNPIN:
        app.session_id = None
        if not app.in_repl:
            write_in_use(app.config.data_dir, None)
            return Message("No session in use: 'ai-cli chat' answers one-off again.")
        return Message("No session in use: your next message starts a new one.")
    store = session_store(app)
    session = store.require_sound(store.get(args.session_id))
    app.session_id = session.session_id
    if not app.in_repl:
        write_in_use(app.config.data_dir, session.session_id)
    return SessionResult(session, "in use", _continue_hint(app, session))


def set_system(app, args: Args):
    store = session_store(app)
    session = _require_session(app, store)
    if args.text is None or not args.text.strip():  # nothing (or a blank "") shows it
        return Message(f"System prompt: {session.system}" if session.system
                       else "This session has no system prompt.")
    text = "" if args.text.strip().lower() == UNPIN else args.text
    session = store.set_defaults(session.session_id, system=text)
    return SessionResult(session, "has a new system prompt" if text else "has no system prompt")


def set_option(app, args: Args):
    from router.options import format_options, parse_options

    store = session_store(app)
    session = _require_session(app, store)
    options = dict(session.options)
    key = args.key.strip().lower().replace("-", "_")
    if key == UNPIN:
        options = {}
    elif args.value is None or args.value.strip().lower() == UNPIN:
        parse_options([(key, "1")])  # an unknown name is refused here too
        options.pop(key, None)
    else:
        options = parse_options([(key, args.value)], options)
    session = store.set_defaults(session.session_id, options=options)
    return SessionResult(session, f"options: {format_options(session.options) or 'none'}")


def show(app, args: Args) -> SessionShow:
    store = session_store(app)
    session = store.get(args.session_id) if args.session_id else _require_session(app, store)
    return SessionShow(session, store.history(session.session_id, limit=store.max_stored))


EXPORT_FORMATS = ("markdown", "json")


@dataclass(frozen=True)
class SessionExport:
    """A whole conversation: Markdown a person reads, or JSON a script loads (`session show
    --json`'s shape). The text is printed exactly: it is the user's and the models' own."""

    show: SessionShow
    format: str

    def to_json(self) -> dict:
        return self.show.to_json()

    @property
    def text(self) -> str:
        if self.format == "json":
            import json

            return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        return session_markdown(self.show.session, self.show.messages)


def session_markdown(session: Session, messages: list[StoredMessage]) -> str:
    """The conversation as Markdown: a heading, its details, then each turn under its speaker.
    Pure."""
    lines = [f"# {session.title or session.session_id}", "",
             f"- session: `{session.session_id}`",
             f"- created: {session.created_at}", f"- last used: {session.updated_at}"]
    if session.system:
        lines.append(f"- system prompt: {session.system}")
    for message in messages:
        if message.role == "user":
            head = "## You"
        else:
            end = " (stopped)" if message.interrupted else " (broke off)" if message.broken else ""
            head = f"## {message.model_name or 'model'}{end}"
        lines += ["", f"{head} · {message.at}" if message.at else head, "", message.content]
    return "\n".join(lines).rstrip("\n") + "\n"


def export(app, args: Args) -> SessionExport:
    chosen = (args.get("format") or "markdown").strip().lower()
    if chosen in ("md",):
        chosen = "markdown"
    if chosen not in EXPORT_FORMATS:
        raise InvalidInput(f"--format takes markdown or json, not {args.get('format')!r}. "
                           "Example: ai-cli session export ID --format json")
    store = session_store(app)
    session = store.require_sound(store.get(args.session_id))
    return SessionExport(SessionShow(session, store.history(session.session_id,
                                                            limit=store.max_stored)), chosen)


def delete(app, args: Args) -> SessionResult:
    session = session_store(app).delete(args.session_id)
    if app.session_id == session.session_id:
        app.session_id = None
    if read_in_use(app.config.data_dir) == session.session_id:
        write_in_use(app.config.data_dir, None)
    return SessionResult(session, "deleted")


def pin_model(app, args: Args) -> SessionResult:
    store = session_store(app)
    model_id = None
    if args.model_id.lower() != UNPIN:
        from agent.commands.model import find_model

        model_id = find_model(app, args.model_id, args.model_type).model_id
    session = _require_session(app, store)
    session = store.pin(session.session_id, args.model_type, model_id)
    if model_id is None:
        return SessionResult(session, f"uses the active {args.model_type} model again")
    return SessionResult(
        session, "pinned",
        f"This session uses {model_id} for {args.model_type} requests while it is available; "
        f"'/session model {args.model_type} none' undoes the pin.",
    )


def _continue_hint(app, session: Session) -> str | None:
    if app.in_repl:
        return None
    return ("Later 'ai-cli chat' commands continue it; 'ai-cli session use none' stops that.")

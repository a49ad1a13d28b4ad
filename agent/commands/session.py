"""/session commands: chat sessions kept in Redis (agent/sessions.py, docs/SESSIONS.md).

The session in use is `app.session_id` (`--session ID`, `/session new`, `/session use ID`). In the
REPL the first chat message opens a new session when none is in use; `ai-cli chat` without
`--session` is a one-off exchange that is not saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from agent.commands.base import Arg, Args, Command, model_type_slot
from agent.output import Output
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
    """The session `app` is in (checked to exist), a new one when `create`, else None."""
    if app.session_id is not None:
        return store.get(app.session_id)
    if not create:
        return None
    session = store.new()
    app.session_id = session.session_id
    return session


def _require_session(app, store: SessionStore) -> Session:
    session = session_in_use(app, store, create=getattr(app, "in_repl", False))
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

    def render(self, out: Output) -> None:
        out.line(f"Session {self.session.session_id} {self.verb}.", style="green")
        pins = _pins_text(self.session)
        if pins:
            out.line(f"  pinned: {pins}")
        if self.hint:
            out.notice(self.hint)


@dataclass(frozen=True)
class SessionList:
    sessions: list[Session]
    current: str | None

    def to_json(self) -> list:
        return [s.to_json() for s in self.sessions]

    def render(self, out: Output) -> None:
        if not self.sessions:
            out.line("No saved sessions. Start one by chatting, or with /session new.")
            return
        table = Table(show_edge=False, pad_edge=False)
        for column in ("", "id", "title", "messages", "last used", "pinned"):
            table.add_column(column)
        for s in self.sessions:
            mark = "*" if s.session_id == self.current else ""
            table.add_row(mark, s.session_id, Text(s.title or "(empty)"), str(s.message_count),
                          s.updated_at, Text(_pins_text(s) or "-"))
        out.print(table)


@dataclass(frozen=True)
class SessionShow:
    session: Session
    messages: list[StoredMessage]

    def to_json(self) -> dict:
        return {**self.session.to_json(), "messages": [m.to_json() for m in self.messages]}

    def render(self, out: Output) -> None:
        s = self.session
        out.line(f"Session {s.session_id}: {s.title or '(empty)'}", style="bold")
        out.line(f"  created {s.created_at}, last used {s.updated_at}, {s.message_count} messages")
        if _pins_text(s):
            out.line(f"  pinned: {_pins_text(s)}")
        for m in self.messages:
            if m.role == "user":
                out.line(f"you: {m.content}", style="cyan")
            else:
                who = m.model_name or "model"
                stopped = " (stopped)" if m.interrupted else ""
                out.line(f"{who}{stopped}: {m.content}")


def _pins_text(session: Session) -> str:
    return ", ".join(f"{t}={m}" for t, m in session.pinned.items() if m)


# --- handlers --------------------------------------------------------------------------------


def new(app, args: Args) -> SessionResult:
    session = session_store(app).new()
    app.session_id = session.session_id
    return SessionResult(session, "created", _continue_hint(app, session))


def list_sessions(app, args: Args) -> SessionList:
    return SessionList(session_store(app).list(), app.session_id)


def use(app, args: Args) -> SessionResult:
    session = session_store(app).get(args.session_id)
    app.session_id = session.session_id
    return SessionResult(session, "in use", _continue_hint(app, session))


def show(app, args: Args) -> SessionShow:
    store = session_store(app)
    session = store.get(args.session_id) if args.session_id else _require_session(app, store)
    return SessionShow(session, store.history(session.session_id, limit=store.max_stored))


def delete(app, args: Args) -> SessionResult:
    session = session_store(app).delete(args.session_id)
    if app.session_id == session.session_id:
        app.session_id = None
    return SessionResult(session, "deleted")


def pin_model(app, args: Args) -> SessionResult:
    store = session_store(app)
    model_id = None if args.model_id.lower() == UNPIN else args.model_id
    if model_id is not None:
        app.registry.require_model(model_id, args.model_type)  # UnknownModel / WrongModelType
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
    if getattr(app, "in_repl", False):
        return None
    return f"Continue it with: ai-cli --session {session.session_id} chat \"...\""


SESSION_ID = Arg("session_id", help="a session id from /session list")

COMMANDS = [
    Command(("session", "new"), "Start a new chat session and use it", new),
    Command(("session", "list"), "List saved chat sessions, most recent first", list_sessions),
    Command(("session", "use"), "Continue a saved session", use, args=(SESSION_ID,)),
    Command(("session", "show"), "Show a session and its messages (default: the one in use)",
            show, args=(Arg("session_id", optional=True),)),
    Command(("session", "delete"), "Delete a session and its messages", delete,
            args=(SESSION_ID,)),
    Command(("session", "model", model_type_slot()),
            "Pin a model for this session ('none' unpins)", pin_model,
            args=(Arg("model_id", help="a model id, or 'none'", complete="model_id"),)),
]

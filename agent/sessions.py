"""Chat sessions kept in Redis, so a conversation survives restarts and is shared by processes.

Keys (documented in docs/SESSIONS.md; `redis.key_prefix` prepends to each):

    sessions:index              sorted set   session ids, scored by last use (unix seconds)
    sessions:{session_id}       hash         session_id title created_at updated_at
                                             pinned_general pinned_coder system options preset
    sessions:{session_id}:messages  list     JSON messages, oldest first, at most `max_stored`

Every change that touches more than one key is one MULTI/EXEC, watched on the session's hash, so
a session deleted by another process is never half-written back.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, TypeVar

import redis

from agent.session_file import SESSION_ID_RE
from registry.connection import failures as redis_failures
from agent.errors import SessionDamaged, SessionNotFound
from registry.errors import CorruptRegistryKey
from registry.answer_log import attachment_records
from registry.model import encode_time, now_utc, validate_model_type

PINNED_TYPES = ("general", "coder")  # the request types a session pins a model for

DEFAULT_MAX_HISTORY = 40  # messages sent with each request
DEFAULT_MAX_STORED = 1000  # messages kept per session
TITLE_LENGTH = 60
ROLES = ("user", "assistant")
T = TypeVar("T")


@dataclass(frozen=True)
class SessionSettings:
    """config.yaml `sessions:` — max_history (messages sent per request), max_stored (kept)."""

    max_history: int = DEFAULT_MAX_HISTORY
    max_stored: int = DEFAULT_MAX_STORED

    @classmethod
    def from_config(cls, config) -> "SessionSettings":
        return cls(
            max_history=config.get_count("sessions", "max_history", DEFAULT_MAX_HISTORY, least=0),
            max_stored=config.get_count("sessions", "max_stored", DEFAULT_MAX_STORED),
        )


@dataclass(frozen=True)
class StoredMessage:
    """One turn; an answer records which model gave it (`model_id` None: the tinyllama fallback)."""

    role: str
    content: str
    model_id: str | None = None
    model_name: str | None = None
    at: str = field(default_factory=lambda: encode_time(now_utc()))
    interrupted: bool = False  # stopped with Ctrl-C: what arrived is the content
    broken: bool = False  # the stream broke off (server died, timed out): what arrived
    usage: dict | None = None  # an answer's log record (tokens, timing, status; docs/CONTEXT.md)
    message_id: str = field(default_factory=lambda: new_message_id())  # the answer log's pointer
    # A question's attachments (name, size, type; never the bytes: agent/attachments.py), and
    # an answer's thinking, kept apart from its content (never sent back to the model).
    attachments: list | None = None
    thinking: str | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        for later in ("attachments", "thinking"):  # only where there is one
            if data[later] is None:
                del data[later]
        return data

    @classmethod
    def from_raw(cls, raw) -> "StoredMessage | None":
        """The message one stored list item holds; None for an item that is not a JSON object
        (written by hand or by another program): it is left out, never raised."""
        try:
            data = json.loads(_text(raw))
        except (ValueError, TypeError):
            return None
        return cls.from_json(data) if isinstance(data, dict) else None

    @classmethod
    def from_json(cls, data: dict) -> "StoredMessage":
        return cls(
            role=str(data.get("role", "user")),
            content=str(data.get("content", "")),
            model_id=data.get("model_id"),
            model_name=data.get("model_name"),
            at=str(data.get("at", "")),
            interrupted=bool(data.get("interrupted", False)),
            broken=bool(data.get("broken", False)),
            usage=data.get("usage") if isinstance(data.get("usage"), dict) else None,
            message_id=str(data.get("message_id") or ""),  # "" for one stored before ids
            attachments=attachment_records(data.get("attachments")),
            thinking=data.get("thinking") if isinstance(data.get("thinking"), str) else None,
        )


@dataclass(frozen=True)
class Session:
    session_id: str
    title: str
    created_at: str
    updated_at: str
    pinned: dict[str, str | None]  # model type -> pinned model id
    message_count: int = 0
    system: str = ""  # the system prompt sent ahead of every request ("" none)
    options: dict = field(default_factory=dict)  # default Ollama options (router/options.py)
    preset: str = ""  # the preset its requests start from (`/preset use`; "" none)
    problem: str | None = None  # what is damaged in its keys (listed, deletable, never used)

    def to_json(self) -> dict:
        return {
            "session_id": self.session_id,
            "title": self.title,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "pinned": dict(self.pinned),
            "message_count": self.message_count,
            "system": self.system or None,
            "options": dict(self.options),
            "preset": self.preset or None,
            **({"problem": self.problem} if self.problem is not None else {}),
        }

    @classmethod
    def damaged(cls, session_id: str, problem: str) -> "Session":
        """A session whose hash cannot be read: shown with its problem, and deletable."""
        return cls(session_id, "", "", "", {t: None for t in PINNED_TYPES}, problem=problem)

    @classmethod
    def from_hash(cls, fields: dict, message_count: int = 0,
                  session_id: str | None = None) -> "Session":
        from router.options import checked_options

        try:
            options = checked_options(json.loads(fields.get("options") or "{}"))
        except ValueError:
            options = {}  # a damaged field never breaks a command
        problem = None
        if fields.get("session_id", session_id) != (session_id or fields.get("session_id")):
            problem = "its session_id field differs from its key"
        elif "session_id" not in fields:
            problem = "its hash has no session_id field"
        return cls(
            session_id=session_id or fields.get("session_id", ""),
            title=fields.get("title", ""),
            created_at=fields.get("created_at", ""),
            updated_at=fields.get("updated_at", ""),
            pinned={t: fields.get(f"pinned_{t}") or None for t in PINNED_TYPES},
            message_count=message_count,
            system=fields.get("system", ""),
            options=options,
            preset=fields.get("preset", ""),
            problem=problem,
        )


@dataclass(frozen=True)
class SessionKeys:
    prefix: str = ""

    @property
    def index(self) -> str:
        return f"{self.prefix}sessions:index"

    def session(self, session_id: str) -> str:
        return f"{self.prefix}sessions:{session_id}"

    def messages(self, session_id: str) -> str:
        return f"{self.prefix}sessions:{session_id}:messages"


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(4)


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


class SessionStore:
    def __init__(
        self,
        redis_client: redis.Redis,
        key_prefix: str = "",
        max_history: int = DEFAULT_MAX_HISTORY,
        max_stored: int = DEFAULT_MAX_STORED,
    ):
        self.redis = redis_client
        self.keys = SessionKeys(key_prefix)
        self.max_history = max_history
        self.max_stored = max(max_stored, max_history)

    # --- reads -----------------------------------------------------------------------------

    def get(self, session_id: str) -> Session:
        """The session; a damaged one (a key of another Redis type, a hash without its id)
        comes back with its `problem` set instead of raising, so it can be listed and deleted."""
        self._check_id(session_id)
        key, messages_key = self.keys.session(session_id), self.keys.messages(session_id)

        def read():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(key)
            pipe.llen(messages_key)
            return pipe.execute(raise_on_error=False)

        fields, count = self._call(read)
        if isinstance(fields, Exception):
            _raise_unless_wrong_type(fields)
            return Session.damaged(session_id, self._damage(key, "hash"))
        if not fields:
            raise SessionNotFound(session_id)
        problem = None
        if isinstance(count, Exception):
            _raise_unless_wrong_type(count)
            problem, count = self._damage(messages_key, "list"), 0
        session = Session.from_hash(_decoded(fields), int(count), session_id)
        return replace(session, problem=problem) if problem else session

    def _damage(self, key: str, expected: str) -> str:
        found = _text(self._call(lambda: self.redis.type(key)))
        return f"the key {key} holds a Redis {found}, where ai-cli keeps a {expected}"

    def require_sound(self, session: Session) -> Session:
        """The session, or `SessionDamaged` (what is damaged, and that deleting it is the fix)."""
        if session.problem is not None:
            raise SessionDamaged(session.session_id, session.problem)
        return session

    def list(self) -> list[Session]:
        """Every session, most recently used first."""
        ids = [_text(i) for i in self._call(lambda: self._index_range(-1))]
        sessions = []
        for session_id in ids:
            try:
                sessions.append(self.get(session_id))
            except SessionNotFound:
                continue  # deleted by another process between the two reads
        return sessions

    def search(self, query: str) -> list[Session]:
        """Sessions whose title or stored messages hold `query` (any case), most recently used
        first. Reads every session's messages: fine for the thousands a person keeps."""
        folded = query.casefold()
        found = []
        for session in self.list():
            if session.problem is not None:
                continue
            if folded in session.title.casefold() or any(
                    folded in m.content.casefold()
                    for m in self.history(session.session_id, limit=self.max_stored)):
                found.append(session)
        return found

    def history(self, session_id: str, limit: int | None = None) -> list[StoredMessage]:
        """The last `limit` (default `max_history`) messages, oldest first."""
        self.require_sound(self.get(session_id))
        count = self.max_history if limit is None else limit
        if count <= 0:
            return []
        raw = self._call(lambda: self.redis.lrange(self.keys.messages(session_id), -count, -1))
        messages = (StoredMessage.from_raw(item) for item in raw)
        return [m for m in messages if m is not None]

    # --- changes ---------------------------------------------------------------------------

    def new(self, title: str = "") -> Session:
        now = encode_time(now_utc())
        session_id = "session_" + secrets.token_hex(4)
        fields = {
            "session_id": session_id,
            "title": title_from(title),
            "created_at": now,
            "updated_at": now,
            "pinned_general": "",
            "pinned_coder": "",
        }

        def write():
            self._require_index()  # before MULTI: a refused ZADD would not undo the HSET
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self.keys.session(session_id), mapping=fields)
                pipe.zadd(self.keys.index, {session_id: time.time()})
                pipe.execute()

        self._call(write)
        return Session.from_hash(fields)

    def append(self, session_id: str, *messages: StoredMessage) -> Session:
        """Add messages at the end (trimmed to `max_stored`); the first user message names it."""
        self._check_id(session_id)
        for message in messages:
            if message.role not in ROLES:
                raise ValueError(f"unknown role {message.role!r}")
        key = self.keys.session(session_id)

        def attempt(pipe) -> None:
            self._require_writable(pipe, session_id)
            fields = pipe.hgetall(key)
            if not fields:
                raise SessionNotFound(session_id)
            fields = _decoded(fields)
            pipe.multi()
            now = now_utc()
            changes = {"updated_at": encode_time(now)}
            first_user = next((m for m in messages if m.role == "user"), None)
            if not fields.get("title") and first_user is not None:
                changes["title"] = title_from(first_user.content)
            pipe.rpush(self.keys.messages(session_id), *[json.dumps(m.to_json()) for m in messages])
            pipe.ltrim(self.keys.messages(session_id), -self.max_stored, -1)
            pipe.hset(key, mapping=changes)
            # to the microsecond: `-c` tells apart two exchanges of the same second
            pipe.zadd(self.keys.index, {session_id: time.time()})

        self._transaction(key, attempt)
        return self.get(session_id)

    def pin(self, session_id: str, model_type: str, model_id: str | None) -> Session:
        """Pin (or with None, unpin) the model this session uses for `model_type`."""
        validate_model_type(model_type)
        self._check_id(session_id)
        key = self.keys.session(session_id)

        def attempt(pipe) -> None:
            self._require_writable(pipe, session_id)
            pipe.multi()
            pipe.hset(key, f"pinned_{model_type}", model_id or "")

        self._transaction(key, attempt)
        return self.get(session_id)

    def set_defaults(self, session_id: str, *, system: str | None = None,
                     options: dict | None = None, preset: str | None = None) -> Session:
        """Store the session's system prompt ("" clears it), default options ({} clears) and/or
        preset ("" clears)."""
        self._check_id(session_id)
        key = self.keys.session(session_id)
        changes = {}
        if system is not None:
            changes["system"] = system
        if options is not None:
            changes["options"] = json.dumps(options, sort_keys=True)
        if preset is not None:
            changes["preset"] = preset
        if not changes:
            return self.get(session_id)

        def attempt(pipe) -> None:
            self._require_writable(pipe, session_id)
            pipe.multi()
            pipe.hset(key, mapping=changes)

        self._transaction(key, attempt)
        return self.get(session_id)

    def latest(self) -> Session | None:
        """The session of the most recent exchange, whichever face it came from (the one-off
        `ai-cli chat`, the REPL, the web), or None when nothing was said yet.

        The index is scored by last use, and only an exchange (`append`) or a new session moves
        a score: a session with no messages (`session new`, never used) is skipped, so `-c`
        continues what was last said, as `llm -c` does."""
        start, page = 0, 20
        while True:
            ids = self._call(lambda: self._index_slice(start, start + page - 1))
            for session_id in ids:
                try:
                    session = self.get(_text(session_id))
                except SessionNotFound:
                    continue  # deleted meanwhile
                if session.message_count > 0 and session.problem is None:
                    return session
            if len(ids) < page:
                return None
            start += page

    def delete(self, session_id: str) -> Session:
        """Delete every key of the session, whatever they hold (a damaged one too)."""
        try:
            session = self.get(session_id)
        except SessionNotFound:
            def traces():
                pipe = self.redis.pipeline(transaction=False)
                pipe.zscore(self.keys.index, session_id)
                pipe.exists(self.keys.messages(session_id))
                return pipe.execute(raise_on_error=False)

            if not any(t is not None and not isinstance(t, Exception) and t != 0
                       for t in self._call(traces)):
                raise
            session = Session.damaged(session_id, "no stored hash")

        def write():
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self.keys.session(session_id), self.keys.messages(session_id))
                pipe.zrem(self.keys.index, session_id)
                pipe.execute()

        self._call(write)
        return session

    # --- plumbing --------------------------------------------------------------------------

    def _index_range(self, last: int) -> list:
        return self._index_slice(0, last)

    def _index_slice(self, first: int, last: int) -> list:
        try:
            return self.redis.zrevrange(self.keys.index, first, last)
        except redis.ResponseError as exc:
            _raise_unless_wrong_type(exc)
            raise self._damaged_index(_text(self.redis.type(self.keys.index))) from None

    def _require_index(self, client=None) -> None:
        found = _text((client or self.redis).type(self.keys.index))
        if found not in ("none", "zset"):
            raise self._damaged_index(found)

    def _damaged_index(self, found: str) -> CorruptRegistryKey:
        return CorruptRegistryKey(
            self.keys.index, found, "sorted set",
            f"Delete it (redis-cli DEL '{self.keys.index}'): the sessions themselves are kept "
            "and each is listed again once it is used.")

    def _require_writable(self, pipe, session_id: str) -> None:
        """Before MULTI (a refused command inside it would not undo the others): the session's
        hash exists and neither of its keys holds another Redis type."""
        key, messages_key = self.keys.session(session_id), self.keys.messages(session_id)
        found = _text(pipe.type(key))
        if found == "none":
            raise SessionNotFound(session_id)
        if found != "hash":
            raise SessionDamaged(session_id, f"the key {key} holds a Redis {found}, where ai-cli "
                                             "keeps a hash")
        found = _text(pipe.type(messages_key))
        if found not in ("none", "list"):
            raise SessionDamaged(session_id, f"the key {messages_key} holds a Redis {found}, "
                                             "where ai-cli keeps a list")
        self._require_index(pipe)

    def _check_id(self, session_id: str) -> None:
        if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
            raise SessionNotFound(str(session_id))

    def _transaction(self, watched: str, attempt: Callable[[redis.client.Pipeline], None]) -> None:
        def run() -> None:
            while True:
                with self.redis.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(watched)
                        attempt(pipe)
                        pipe.execute()
                        return
                    except redis.WatchError:
                        continue

        self._call(run)

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except redis_failures.FAILURES as exc:  # before ResponseError: MOVED/ASK are ones too
            raise self._translated(exc) from exc
        except redis.ResponseError as exc:
            refused = redis_failures.refuses_writes(exc, "the configured URL")
            if refused is None:
                raise
            raise refused from exc

    def _translated(self, exc: Exception):
        return redis_failures.translate(
            exc,
            "The Redis server that keeps sessions is unreachable ({detail}). Start it, or "
            "point AI_CLI_REDIS_URL at a running server.",
            clustered=redis_failures.is_cluster_client(self.redis),
            prefix=self.keys.prefix,
            url="the configured URL",
        )


def _raise_unless_wrong_type(exc: Exception) -> None:
    if not redis_failures.is_wrong_type(exc):
        raise exc


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _decoded(fields: dict) -> dict:
    return {_text(k): _text(v) for k, v in fields.items()}

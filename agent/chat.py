"""One chat exchange: the session's history and the question to the general route, the answer
reported piece by piece as it arrives, and both turns recorded in the session.

Every face runs this same code: the REPL, `ai-cli chat` and the web's `POST /chat`. They differ
only in what they pass (`ChatRequest`) and in how they show the events (agent/events.py):

    RouteChosen -> Waiting -> [SessionStarted] -> Token... -> Done | Stopped | Broken

Notices (a failover, a fallback in use) and `Trimmed` may come before the first `Token`. Ctrl-C,
or a face's `Stop` (its reader went away), ends the answer: what arrived is kept, marked as
stopped. A stream that breaks off after it began is kept marked as broken, then its error is
raised (the face says it in one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from agent.events import (
    Broken,
    Done,
    Event,
    Notice,
    RouteChosen,
    SessionStarted,
    Stop,
    Stopped,
    Thinking,
    Token,
    Trimmed,
    Waiting,
)
from agent.precedence import COMMAND_LINE, Layer, preset_source, resolve_layers, session_layer
from agent.sessions import SessionStore, StoredMessage, new_message_id
from registry.errors import AiCliError
from router.errors import StreamBroken

Report = Callable[[Event], None]
WAITING = "thinking…"


@dataclass(frozen=True)
class ChatRequest:
    """What one exchange needs besides the router and the session store.

    `session_id`: continue that session (its history goes along, its pinned model answers).
    `open_session`: with no session, start one for this exchange once the answer begins (an
    exchange that never got an answer leaves nothing behind). `options` are Ollama options
    (router/options.py); `model_id` a model for this request only (`-m`); `system` the system
    prompt sent ahead of the history. `say_unsaved`: when the new session cannot be
    stored, say so (the REPL, `-c`); a one-off `ai-cli chat` leaves that to the answer log's
    own line about the same Redis, so one cause is said once.
    """

    question: str
    session_id: str | None = None
    open_session: bool = False
    options: dict | None = None
    model_id: str | None = None
    system: str | None = None
    say_unsaved: bool = True
    # A preset (registry/presets.py) under the session's and this request's settings
    # (agent/precedence.py); its name goes into the answer log. `request_type`: the route asked.
    preset: str | None = None
    preset_system: str | None = None
    preset_options: dict | None = None
    preset_requires: tuple = ()  # capabilities the preset requires of its model (`requires`)
    request_type: str = "general"
    attachments: tuple = ()  # agent/attachments.Attachment: images for a vision model


@dataclass(frozen=True)
class ChatReply:
    question: str
    answer: str
    route: object  # router.Route: the one that answered
    interrupted: bool
    session_id: str | None

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "route": self.route.to_json() if self.route is not None else None,
            "interrupted": self.interrupted,
            "session_id": self.session_id,
        }


def exchange(router, store: SessionStore | None, request: ChatRequest, report: Report) -> ChatReply:
    """Ask the general route and report the answer as it arrives; record both turns."""
    session = _SessionOfExchange(store, request, report)
    stream = router.stream(
        request.request_type, to_messages(session.history, request.question,
                                          session.system or None, request.attachments),
        pinned_model_id=session.pinned, options=session.options or None,
        model_id=request.model_id, session_id=session.session_id,
        on_notice=lambda text: report(Notice(text)),
        on_trim=lambda text: report(Trimmed(text)),
        on_route=lambda route: report(RouteChosen(route)),
        needs=needs_of(request),
    )
    reader = AnswerReader(stream, report, on_first_text=lambda: session.open(stream))
    answer_id = new_message_id()  # the stored answer's id, which its log entry points at
    stream.exchange = lambda: {
        "message_id": answer_id if session.saves else None,
        "prompt": request.question, "response": reader.text, "preset": request.preset,
        "attachments": attachment_records(request.attachments),
        "thinking_tokens": reader.thinking_pieces or None}
    try:
        reader.read()
    except StreamBroken as exc:  # what arrived is kept, marked, like a stopped answer
        session.record(stream, reader, answer_id, broken=True)
        report(Broken(reader.text, exc.message))
        raise
    session.record(stream, reader, answer_id)
    report(Stopped(reader.text) if reader.interrupted else Done(reader.text))
    return ChatReply(request.question, reader.text, stream.route, reader.interrupted,
                     session.session_id)


class _SessionOfExchange:
    """The session one exchange continues (or opens): its history, pinned model and defaults
    going in, both turns coming out.

    The request's system prompt is kept as the session's (later turns keep it, as with `-s`);
    its options are laid over the session's, key by key.
    """

    def __init__(self, store: SessionStore | None, request: ChatRequest, report: Report):
        self.store = store
        self.request = request
        self.report = report
        self.session_id = request.session_id
        session = store.get(self.session_id) if store is not None and self.session_id else None
        self.pinned = session.pinned.get(request.request_type) if session is not None else None
        self.history = store.history(self.session_id) if session is not None else []
        kept_system = session.system if session is not None else ""
        resolved = resolve_layers([
            Layer(preset_source(request.preset or ""), system=request.preset_system,
                  options=request.preset_options or {}),
            session_layer(kept_system, session.options if session is not None else {}),
            Layer(COMMAND_LINE, system=request.system, options=request.options or {})])
        self.system = resolved.system.value if resolved.system is not None else ""
        self.options = resolved.option_values
        if session is not None and request.system is not None and request.system != kept_system:
            store.set_defaults(self.session_id, system=request.system)

    def open(self, stream) -> None:
        """The first piece of the answer is here: a new session for it, when one was asked for."""
        if self.session_id is not None or not self.request.open_session or self.store is None:
            return
        try:
            self.session_id = self.store.new().session_id
            if self.request.system:
                self.store.set_defaults(self.session_id, system=self.request.system)
        except AiCliError as exc:  # Redis for sessions is gone: answer anyway, unsaved
            if self.request.say_unsaved:
                self.report(Notice(f"This chat is not saved: {exc.message}", "warn"))
            self.store = None
            return
        stream.session_id = self.session_id  # the answer log names it too
        self.report(SessionStarted(self.session_id))

    @property
    def saves(self) -> bool:
        """Whether the exchange goes into a session (so its log entry can point at it)."""
        return self.store is not None and self.session_id is not None

    def record(self, stream, reader: "AnswerReader", answer_id: str,
               broken: bool = False) -> None:
        """Both turns into the session; best effort once the answer broke (Redis may be gone
        too, and the stream's error is the news)."""
        try:
            record_exchange(self.store, self.session_id, self.request.question, reader.text,
                            stream.route, reader.interrupted, broken=broken,
                            usage=answer_usage(stream), answer_id=answer_id,
                            attachments=attachment_records(self.request.attachments),
                            thinking=reader.thinking or None)
        except AiCliError:
            if not broken:
                raise


class AnswerReader:
    """Reads one routed stream, reporting `Waiting`, then each `Thinking` and `Token` piece;
    collects the text and any tool calls. Ctrl-C or a face's `Stop` ends it early
    (`interrupted`); a `StreamBroken` propagates with what arrived kept in `text`. The request
    is closed in every case."""

    def __init__(self, stream, report: Report, on_first_text: Callable[[], None] | None = None):
        self.stream = stream
        self.report = report
        self.on_first_text = on_first_text
        self.parts: list[str] = []
        self.thoughts: list[str] = []  # a thinking model's reasoning, never part of the answer
        self.tool_calls: list = []  # malformed ones as they are: the /code loop answers those
        self.interrupted = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def thinking(self) -> str:
        return "".join(self.thoughts)

    @property
    def thinking_pieces(self) -> int:
        """Ollama streams one token per piece: the thinking's token count."""
        return len(self.thoughts)

    def read(self) -> "AnswerReader":
        self.report(Waiting(WAITING))
        chunks = None
        try:
            chunks = iter(self.stream)
            for chunk in chunks:
                self._see(chunk)
        except (KeyboardInterrupt, Stop):
            self.interrupted = True
        finally:
            close_stream(chunks)
        return self

    def _see(self, chunk) -> None:
        thinking = chunk_thinking(chunk)
        if thinking:
            self.thoughts.append(thinking)
            self.report(Thinking(thinking))
        self.tool_calls.extend(chunk.tool_calls or ())
        self.tool_calls.extend(chunk.invalid_tool_calls or ())
        text = chunk_text(chunk)
        if not text:
            return
        if not self.parts and self.on_first_text is not None:
            self.on_first_text()
        self.parts.append(text)
        self.report(Token(text))


# --- the pieces every exchange (and /code) shares --------------------------------------------


def chunk_text(chunk) -> str:
    """The text of an AIMessageChunk (content is a string, or a list of parts)."""
    content = chunk.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def chunk_thinking(chunk) -> str:
    """A thinking model's reasoning in a chunk (ChatOllama puts it apart from the content)."""
    value = chunk.additional_kwargs.get("reasoning_content")
    return value if isinstance(value, str) else ""


def to_messages(history: Iterable[StoredMessage], question: str, system: str | None = None,
                attachments=()) -> list:
    """The messages of a request; `attachments` (images) go on the question as image content
    blocks, which ChatOllama sends as the message's `images`."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages = [SystemMessage(system)] if system else []
    messages += [
        HumanMessage(m.content) if m.role == "user" else AIMessage(m.content) for m in history
    ]
    if attachments:
        messages.append(HumanMessage([{"type": "text", "text": question},
                                      *(a.content_block() for a in attachments)]))
    else:
        messages.append(HumanMessage(question))
    return messages


def needs_of(request: ChatRequest) -> tuple[str, ...]:
    """The capabilities the request needs: `vision` for images, `thinking` when it asks to
    think (`--think`, `-o think true|low|medium|high`; a session's default never refuses), and
    what its preset `requires`."""
    needs = ["vision"] if request.attachments else []
    if (request.options or {}).get("think") not in (None, False):
        needs.append("thinking")
    needs += [c for c in request.preset_requires if c not in needs and c != "completion"]
    return tuple(needs)


def attachment_records(attachments) -> list | None:
    """What is recorded about a question's attachments: name, size, type (never the bytes)."""
    return [a.to_json() for a in attachments] or None


def record_exchange(store: SessionStore | None, session_id: str | None, question: str,
                    answer: str, route, interrupted: bool, broken: bool = False,
                    usage: dict | None = None, answer_id: str | None = None,
                    attachments: list | None = None, thinking: str | None = None) -> None:
    """Both turns into the session; an exchange stopped before any answer arrived is not kept.
    `interrupted` (stopped) and `broken` (the stream broke off) mark an answer that is only
    what arrived. `usage`: the answer's log record."""
    if store is None or session_id is None or not (answer or not interrupted):
        return
    model = route.model
    store.append(
        session_id,
        StoredMessage("user", question, attachments=attachments),
        StoredMessage("assistant", answer, model_id=model.model_id, model_name=model.model_name,
                      interrupted=interrupted, broken=broken, usage=usage, thinking=thinking,
                      **({"message_id": answer_id} if answer_id else {})),
    )


def answer_usage(stream) -> dict | None:
    """The answer's log record (router/usage.py) for its stored message."""
    answer = stream.answer
    if answer is None:
        return None
    kept = answer.to_json()  # the text is the message itself, and the pointer its own id
    for name in ("message_id", "prompt", "response"):
        kept.pop(name, None)
    return kept


def close_stream(chunks) -> None:
    """End the request now: closing the generator releases the HTTP connection."""
    if chunks is None:
        return
    try:
        chunks.close()
    except Exception:  # noqa: BLE001 - closing a dropped connection must not hide the answer
        pass

"""One chat exchange: history + question to the general route, the answer streamed as it arrives.

The route's notice (a fallback in use) goes to stderr before the answer; the answer goes to
stdout, as live markdown on a terminal and as the raw text otherwise (so `ai-cli chat q > a.md`
is clean). Ctrl-C stops the answer, keeps what arrived, and returns.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

from agent.sessions import SessionStore, StoredMessage
from registry.errors import AiCliError
from router.errors import StreamBroken

if TYPE_CHECKING:
    from agent.output import Output

REFRESH_PER_SECOND = 8
ECHO_ROOM = 3  # columns kept free while streaming for the terminal's "^C" echo
TAIL_SOURCE_LINES = 2  # source lines parsed per screen line while streaming (agent/markdown.py)


# --- rendering the stream --------------------------------------------------------------------


class _MarkdownTail:
    """Markdown that shows only its last screenful while streaming (Live cannot scroll back)."""

    def __init__(self) -> None:
        self.text = ""
        self.complete = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from agent.markdown import ChatMarkdown, tail_source  # a pipe gets the raw text

        source, height = self.text, max(1, console.size.height - 1)
        if not self.complete:
            # Stop short of the last columns while streaming: a full-width line leaves the cursor
            # at the edge, where the terminal's echo of Ctrl-C ("^C") wraps onto a new line; Live
            # then moves up one line too few and the answer's first line shows twice.
            options = options.update_width(max(1, options.max_width - ECHO_ROOM))
            # Only the end is shown: parse only the end (a source line is a rendered line or more).
            source = tail_source(source, TAIL_SOURCE_LINES * height)
        lines = console.render_lines(ChatMarkdown(source), options, pad=False)
        if not self.complete:
            lines = lines[-height:]
        for i, line in enumerate(lines):
            yield from line
            if i < len(lines) - 1:
                yield Segment.line()


class AnswerView:
    """Where streamed answer text goes: rich Live markdown on a terminal, raw text otherwise."""

    def __init__(self, output: "Output", quiet: bool = False):
        self.output = output
        self.quiet = quiet  # --json: collect only, print nothing while streaming
        self.parts: list[str] = []
        self._live = None
        self._tail = _MarkdownTail()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        if self.quiet:
            return
        if not self.output.is_terminal:
            self.output.write(piece)
            return
        self._tail.text = self.text
        if self._live is None:
            if not self._tail.text.strip():
                return  # blank so far ("\n\n" after a model's thinking): paint the first word
            from rich.live import Live

            self._live = Live(self._tail, console=self.output.out, auto_refresh=True,
                              refresh_per_second=REFRESH_PER_SECOND, vertical_overflow="visible")
            self._live.start(refresh=True)  # the first chunk now, not on the next tick

    def close(self) -> None:
        if self._live is not None:
            self._tail.complete = True
            self._live.update(self._tail, refresh=False)
            self._live.stop()
            self._live = None
        elif self.parts and not self.quiet and not self.output.is_terminal:
            if not self.text.endswith("\n"):
                self.output.write("\n")


def chunk_text(chunk) -> str:
    """The text of an AIMessageChunk (content is a string, or a list of parts)."""
    content = getattr(chunk, "content", "")
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


class _Waiting:
    """A spinner on stderr until the first piece of the answer arrives (terminal only)."""

    def __init__(self, output: "Output", quiet: bool):
        self._status = None
        if not quiet and output.err.is_terminal:
            # Text, not markup: a string would be parsed for markup and emoji codes, and the
            # first parse imports rich's emoji table (~8 ms) while the user waits for the answer.
            self._status = output.err.status(Text("thinking…"), spinner="dots")
            self._status.start()

    def done(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


# --- one exchange ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatReply:
    question: str
    answer: str
    route: object  # router.Route
    interrupted: bool
    session_id: str | None

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "route": self.route.to_json() if self.route is not None else None,
            "interrupted": self.interrupted,
            "session_id": self.session_id,
        }

    def render(self, out: "Output") -> None:
        """The answer was streamed while it arrived; only an interruption is left to say."""
        if self.interrupted:
            out.notice("(answer stopped)")


def to_messages(history: Iterable[StoredMessage], question: str, system: str | None = None) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages = [SystemMessage(system)] if system else []
    messages += [
        HumanMessage(m.content) if m.role == "user" else AIMessage(m.content) for m in history
    ]
    messages.append(HumanMessage(question))
    return messages


def chat_once(
    router,
    output: "Output",
    question: str,
    *,
    store: SessionStore | None = None,
    session_id: str | None = None,
    quiet: bool = False,
    options: dict | None = None,
    model_id: str | None = None,
    system: str | None = None,
) -> ChatReply:
    """Ask the general route, stream the answer, and record both turns in the session (if any).

    `options`: Ollama options (router/options.py); `model_id`: a model for this request only
    (`-m`); `system`: the system prompt sent ahead of the history.
    """
    pinned, history = session_context(store, session_id)
    stream = open_stream(router, output, "general", to_messages(history, question, system),
                         pinned_model_id=pinned, options=options, model_id=model_id,
                         session_id=session_id)
    view = AnswerView(output, quiet=quiet)
    try:
        route, interrupted = stream_into(stream, view, output, quiet)
    except StreamBroken:  # what arrived is kept, marked, like a Ctrl-C'd answer
        with contextlib.suppress(AiCliError):  # Redis gone too: the stream's error is the news
            record_exchange(store, session_id, question, view.text, stream.route, False,
                            broken=True, usage=answer_usage(stream))
        raise
    record_exchange(store, session_id, question, view.text, route, interrupted,
                    usage=answer_usage(stream))
    return ChatReply(question, view.text, route, interrupted, session_id)


def session_context(store: SessionStore | None, session_id: str | None):
    """(the session's pinned general model id, its recent history); (None, []) without one."""
    if store is None or session_id is None:
        return None, []
    return store.get(session_id).pinned.get("general"), store.history(session_id)


def record_exchange(store: SessionStore | None, session_id: str | None, question: str,
                    answer: str, route, interrupted: bool, broken: bool = False,
                    usage: dict | None = None) -> None:
    """Both turns into the session (the terminal and the web page share this); an exchange
    stopped before any answer arrived is not kept. `interrupted` (Ctrl-C) and `broken` (the
    stream broke off) mark an answer that is only what arrived. `usage`: the answer's log
    record."""
    if store is None or session_id is None or not (answer or not interrupted):
        return
    model = getattr(route, "model", None)
    store.append(
        session_id,
        StoredMessage("user", question),
        StoredMessage("assistant", answer, model_id=getattr(model, "model_id", None),
                      model_name=getattr(model, "model_name", None), interrupted=interrupted,
                      broken=broken, usage=usage),
    )


def answer_usage(stream) -> dict | None:
    """The answer's log record (router/usage.py) for its stored message."""
    answer = getattr(stream, "answer", None)
    return answer.to_json() if answer is not None else None


def stream_into(stream, view: AnswerView, output: "Output", quiet: bool = False,
                tool_calls: list | None = None, shown: set | None = None):
    """Feed a RoutedStream into `view`: notice first, then text; Ctrl-C stops it.

    Tool calls the chunks carry are added to `tool_calls` (malformed ones as they are: the
    /code loop answers those). `shown`: notices already said in this run (not repeated).
    Returns (route, interrupted).
    """
    route = getattr(stream, "route", None)
    if route is not None and route.available and route.notice and route.notice not in (shown or ()):
        output.notice(route.notice)  # the route is chosen before the request: say it first
        if shown is not None:  # several requests of one run (/code) say it once
            shown.add(route.notice)
    waiting = _Waiting(output, quiet)
    interrupted = False
    chunks = None
    try:
        chunks = iter(stream)
        for chunk in chunks:
            waiting.done()
            view.add(chunk_text(chunk))
            if tool_calls is not None:
                tool_calls.extend(getattr(chunk, "tool_calls", None) or [])
                tool_calls.extend(getattr(chunk, "invalid_tool_calls", None) or [])
    except KeyboardInterrupt:
        interrupted = True
    finally:
        waiting.done()
        view.close()
        _close(chunks)
    return getattr(stream, "route", None), interrupted


def open_stream(router, output: "Output", request_type: str, messages: list, **kwargs):
    """`router.stream` with failover notices going to stderr as they happen."""
    return router.stream(request_type, messages, on_notice=output.notice, **kwargs)


def _close(chunks) -> None:
    """End the request now (a generator's close releases the HTTP connection)."""
    close = getattr(chunks, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001 - closing a dropped connection must not hide the answer
            pass

"""The engine's events (agent/events.py) as a stream a web response can read.

`EventStream` runs one piece of engine work (a chat exchange) in a thread of its own, with a face
whose `report` puts each event on a queue; the response reads them in order. Until the answer
begins, a failure is the request's failure (an HTTP error, not a half-sent stream):
`until_answer()` re-raises it. When the reader goes away (the client disconnected),
the next `report` raises `Stop`, and the engine ends the answer as it does for Ctrl-C: the
request to the model is closed, and what arrived is kept, marked as stopped.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

from agent.events import Broken, Done, Event, Stop, Stopped, Thinking, Token

_EVENT, _RESULT, _ERROR = "event", "result", "error"
ANSWER_BEGAN = (Thinking, Token, Done, Stopped, Broken)  # the first of these ends the waiting


class EventStream:
    def __init__(self, work: Callable[[Callable[[Event], None]], Any], name: str = "ai-cli-web"):
        self._queue: queue.Queue = queue.Queue()
        self._gone = threading.Event()
        self._buffer: list[Event] = []
        self._finished = False  # the work's result or error was read
        self.result: Any = None
        self._thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _report(self, event: Event) -> None:
        if self._gone.is_set():
            raise Stop
        self._queue.put((_EVENT, event))

    def _run(self, work) -> None:
        try:
            self._queue.put((_RESULT, work(self._report)))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who decides
            self._queue.put((_ERROR, exc))

    def until_answer(self) -> list[Event]:
        """The events before the answer began (route, notices), read and kept for `events()`;
        the work's error, raised here, when it failed before that."""
        while True:
            kind, value = self._queue.get()
            if kind == _EVENT:
                self._buffer.append(value)
                if isinstance(value, ANSWER_BEGAN):
                    return list(self._buffer)
            elif kind == _ERROR:
                self._finished = True
                raise value
            else:
                self._finished, self.result = True, value
                return list(self._buffer)

    def events(self) -> Iterator[Event | BaseException]:
        """Every event in order (the ones `until_answer` read first); an error after the answer
        began comes last, as a value. Closing it early stops the work."""
        try:
            yield from self._buffer
            self._buffer = []
            while not self._finished:
                kind, value = self._queue.get()
                if kind == _EVENT:
                    yield value
                    continue
                self._finished = True
                if kind == _ERROR:
                    yield value
                else:
                    self.result = value
        finally:
            self._gone.set()

"""What the engine reports while it works, as typed events. Pure data: no I/O.

The engine (a chat exchange, a /code run, a command handler) calls its face's `report(event)` as
things happen; each face shows them its own way. The terminal draws a spinner for `Waiting`,
streams `Token`s as live markdown and prints notices on stderr (cli/terminal_face.py); the web
sends them as Server-Sent Events (ui/events.py). Neither face changes what the engine does.

A face may raise `Stop` from `report` (a web client went away): the engine then ends the work as
it ends it for Ctrl-C, keeping what arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Stop(Exception):
    """Raised by a face's `report` to end the work now (its reader is gone); the engine treats it
    as Ctrl-C: it stops the model's stream and keeps what arrived, marked as stopped."""


@dataclass(frozen=True)
class RouteChosen:
    """The model that will answer, chosen before the request is sent (the route's JSON)."""

    route: Any  # router.Route


@dataclass(frozen=True)
class Notice:
    """A line about the work, for the person. `level`: "notice" (the default: a fallback in use,
    a failover), "info" (worth seeing: a file changed), "warn" (act on it) or "step" (a /code
    step's detail, such as a tool call that failed; a face may leave it out)."""

    text: str
    level: str = "notice"


@dataclass(frozen=True)
class Waiting:
    """A slow step began (a request to a model, a probe); it ends with the next event."""

    text: str


@dataclass(frozen=True)
class Progress:
    """A result taking shape while a slow step runs (e.g. `check`'s table, a row per probe
    answered); the same object is reported again as it fills in, and returned at the end."""

    result: Any


@dataclass(frozen=True)
class SessionStarted:
    """A new session was opened for this exchange (its first answer has begun)."""

    session_id: str


@dataclass(frozen=True)
class Token:
    """A piece of the answer, as it arrived."""

    text: str


@dataclass(frozen=True)
class Thinking:
    """A piece of a thinking model's reasoning (never part of the answer)."""

    text: str


@dataclass(frozen=True)
class Trimmed:
    """Earlier messages or tool outputs were left out to fit the model's window (one line)."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """/code: the model called a tool (`args` as the model sent them)."""

    name: str
    args: Any = None


@dataclass(frozen=True)
class ProposedEdit:
    """/code: a change to one file, before anyone decided on it (a unified diff)."""

    path: str
    diff: str
    is_new: bool = False


@dataclass(frozen=True)
class Done:
    """The answer is complete; `text` is all of it."""

    text: str


@dataclass(frozen=True)
class Stopped:
    """The answer was stopped (Ctrl-C, or the reader went away); `text` is what arrived."""

    text: str


@dataclass(frozen=True)
class Broken:
    """The answer broke off after it began (the server died, timed out); `text` is what arrived,
    `error` the one line saying why."""

    text: str
    error: str


Event = (RouteChosen | Notice | Waiting | Progress | SessionStarted | Token | Thinking | Trimmed | ToolCall | ProposedEdit
         | Done | Stopped | Broken)

"""What the engine needs from the face that shows its work: the terminal (cli/) or the web (ui/).

The engine never draws or prints: it reports events (agent/events.py), asks through the face when
a person must decide, and returns results as data. `QuietFace` shows nothing and asks nobody: the
web's command routes use it, and so can a script or a test that only wants the result.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ContextManager, Iterator, Protocol

if TYPE_CHECKING:  # the events load with the first command that reports one
    from agent.events import Event

REPL, SHELL, WEB = "repl", "shell", "web"


class Face(Protocol):
    name: str  # REPL, SHELL or WEB: how messages name commands, and what a chat may read
    interactive: bool  # a person is there to answer questions
    can_ask: bool  # `ask` can reach a person (on a terminal, even with --json)

    def report(self, event: "Event") -> None:
        """Show one event (may raise `agent.events.Stop` to end the work)."""

    def waiting(self, text: str) -> ContextManager[None]:
        """Show that a slow step (`text`) runs, for as long as the block runs."""

    def confirm(self, question: str, default: bool = False) -> bool:
        """A yes/no answer from the person; False when nobody can answer (or Ctrl-C)."""

    def ask(self, question: str) -> str | None:
        """A typed answer (e.g. y / n / a); None when nobody can answer."""

    def piped_text(self) -> str | None:
        """Text piped into the program for this request (the shell's stdin), or None."""

    def piped_bytes(self) -> bytes | None:
        """The bytes piped into the program (`-a -`: an image on the shell's stdin), or None."""


class QuietFace:
    """Shows nothing, asks nobody: every question is answered no."""

    interactive = False
    can_ask = False

    def __init__(self, name: str = WEB):
        self.name = name

    def report(self, event: "Event") -> None:
        return None

    @contextlib.contextmanager
    def waiting(self, text: str) -> Iterator[None]:
        yield

    def confirm(self, question: str, default: bool = False) -> bool:
        return False

    def ask(self, question: str) -> str | None:
        return None

    def piped_text(self) -> str | None:
        return None

    def piped_bytes(self) -> bytes | None:
        return None

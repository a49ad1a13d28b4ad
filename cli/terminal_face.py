"""The terminal as the engine's face: the events of agent/events.py drawn with rich, questions asked
on the terminal.

Answers and diffs go to stdout, everything about them (notices, the spinner, tool calls) to
stderr. With `quiet` (`--json`) nothing streams: the answer is only collected (the JSON result
carries it), a /code run's steps are not shown, and diffs go to stderr so stdout stays JSON.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Iterator

from typing import TYPE_CHECKING

from cli.output import Output

if TYPE_CHECKING:
    from agent.events import Event


@dataclass
class AnswerMode:
    """How answers show (flags `-r/--raw`, `--no-stream`, `-x/--extract`; `/raw on|off`).

    `raw`: the model's markdown as it arrives, unrendered, even on a terminal. `stream` False:
    nothing until the answer is whole, then it is shown once. `extract`: only the answer's
    first fenced code block (the whole answer when it has none), shown once, as `llm -x`."""

    raw: bool = False
    stream: bool = True
    extract: bool = False
    thinking: bool = True  # a thinking model's reasoning, dimmed on stderr (`/thinking hide`)

    @property
    def holds(self) -> bool:
        """The answer is shown only once it is whole."""
        return self.extract or not self.stream


class TerminalFace:
    def __init__(self, output: Output, name: str, *, interactive: bool = False,
                 quiet: bool = False, answer_mode: AnswerMode | None = None):
        self.output = output
        self.answer_mode = answer_mode or AnswerMode()
        self.name = name  # "repl" | "shell" (agent/face.py)
        self.interactive = interactive
        self.quiet = quiet
        self._answer = None  # cli.answer.AnswerView of the answer streaming now
        self._spinner = None
        self._live = None  # a rich Live on stderr showing a result as it fills in (`Progress`)
        self._route_told = False  # this answer's route notice was said (not again on failover)
        self._thought_since: float | None = None  # when this answer's shown thinking began

    # --- the engine's events -------------------------------------------------------------------

    def report(self, event: "Event") -> None:
        if self.output.reader_left:
            return  # `ai-cli chat ... | head` and head is gone: nothing more is shown
        try:
            self._draw(event)
        except BrokenPipeError:
            # The engine ends the answer as for Ctrl-C (what arrived is saved); cli/main.py
            # then exits quietly.
            from agent.events import Stop

            self.output.reader_left = True
            raise Stop from None

    def _draw(self, event: "Event") -> None:
        # Here, not at the top: `model list` and most commands report nothing, and the events'
        # classes cost their definition at import.
        from agent.events import (
            Broken,
            Done,
            Notice,
            Progress,
            ProposedEdit,
            RouteChosen,
            Stopped,
            Thinking,
            Token,
            ToolCall,
            Trimmed,
            Waiting,
        )

        waits = self.answer_mode.holds and isinstance(event, Token)  # the spinner goes on
        if not isinstance(event, (Notice, Trimmed, RouteChosen)) and not waits:
            self._stop_spinner()  # notices print above it
        if isinstance(event, (Token, Done, Stopped, Broken)):
            self._end_thinking()
        if isinstance(event, Thinking):
            self._thinking(event.text)
        elif isinstance(event, Token):
            self._answer_view().add(event.text)
        elif isinstance(event, Waiting):
            self._start_spinner(event.text)
        elif isinstance(event, RouteChosen):
            self._route(event.route)
        elif isinstance(event, (Notice, Trimmed)):
            self._notice(event)
        elif isinstance(event, (Done, Stopped, Broken)):
            self._end_answer()
        elif isinstance(event, ToolCall):
            if not self.quiet:
                self.output.notice(f"→ {event.name}({_shown_args(event.args)})")
        elif isinstance(event, ProposedEdit):
            self._show_diff(event)
        elif isinstance(event, Progress):
            self._progress(event.result)

    def _route(self, route) -> None:
        if not self._route_told and route.available and route.notice:
            self.output.notice(route.notice)  # chosen before the request: said before the answer
        self._route_told = True

    def _notice(self, event) -> None:
        from agent.events import Notice

        level = event.level if isinstance(event, Notice) else "notice"  # Trimmed: a plain one
        if level == "warn":
            self.output.warn(event.text)
        elif level == "info":
            self.output.info(event.text)
        elif level == "notice":
            self.output.notice(event.text)
        elif not self.quiet:  # "step": a /code step's detail
            self.output.notice(f"  {event.text}")

    def _thinking(self, text: str) -> None:
        """The reasoning as it arrives, dimmed, on stderr (never in the answer on stdout)."""
        if not self.answer_mode.thinking or self.quiet:
            return
        import time

        from rich.text import Text

        from cli.inert import inert

        if self._thought_since is None:
            self._thought_since = time.monotonic()
        self.output.err.print(Text(inert(text), style="dim italic"), end="")

    def _end_thinking(self) -> None:
        """The thinking is over: one line saying how long it took."""
        if self._thought_since is None:
            return
        import time

        seconds = time.monotonic() - self._thought_since
        self._thought_since = None
        self.output.err.print()
        self.output.notice(f"thought for {seconds:.0f} s")

    def _answer_view(self):
        if self._answer is None:
            from cli.answer import AnswerView

            self._answer = AnswerView(self.output, quiet=self.quiet, mode=self.answer_mode)
        return self._answer

    def _end_answer(self) -> None:
        if self._answer is not None:
            self._answer.close()
            self._answer = None
        self._route_told = False

    def _show_diff(self, event) -> None:
        from rich.text import Text

        from cli.views.code import render_diff

        console = self.output.err if self.quiet else self.output.out
        from cli.inert import shown_name

        console.print(render_diff(event.diff) if event.diff
                      else Text(f"{shown_name(str(event.path))}: no change"))

    def _start_spinner(self, text: str) -> None:
        from cli.answer import Spinner

        self._spinner = Spinner(self.output, text, quiet=self.quiet)

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.done()
            self._spinner = None

    def _progress(self, result) -> None:
        """A transient table on stderr, redrawn as the result fills in (terminal only)."""
        if self.quiet or not self.output.err.is_terminal:
            return
        from cli.views import progress

        renderable = progress(result)
        if self._live is None:
            from rich.live import Live

            self._live = Live(renderable, console=self.output.err, transient=True)
            self._live.start()
        else:
            self._live.update(renderable)

    def close(self) -> None:
        """Whatever is still on the screen is finished (a live table, an answer cut short)."""
        self._stop_spinner()
        self._end_answer()
        if self._live is not None:
            self._live.stop()
            self._live = None

    # --- asking and waiting --------------------------------------------------------------------

    @contextlib.contextmanager
    def waiting(self, text: str) -> Iterator[None]:
        with self.output.spinner(text):
            yield

    def confirm(self, question: str, default: bool = False) -> bool:
        if not self.interactive:
            return False
        import questionary

        from cli.inert import shown_name

        return bool(questionary.confirm(shown_name(question), default=default).ask())

    @property
    def can_ask(self) -> bool:
        """A person can type an answer: stdin is a terminal (even with --json)."""
        return self.interactive or sys.stdin.isatty()

    def ask(self, question: str) -> str | None:
        """A line typed on the terminal; None when nobody can type one."""
        if not self.can_ask:
            return None
        from rich.text import Text

        try:
            from cli.inert import shown_name

            # a Text: no markup in file names; their invisible characters shown
            return self.output.err.input(Text(shown_name(question)))
        except EOFError:
            return "n"

    def piped_text(self) -> str | None:
        """What was piped to `ai-cli chat` ("" for an empty pipe); never in the REPL, whose stdin
        is the user's typing."""
        if self.name != "shell" or sys.stdin is None or sys.stdin.isatty():
            return None
        return sys.stdin.read().strip()

    def piped_bytes(self) -> bytes | None:
        """The bytes piped to `ai-cli chat -a -`; never in the REPL."""
        if self.name != "shell" or sys.stdin is None or sys.stdin.isatty():
            return None
        return sys.stdin.buffer.read()


def _shown_args(args) -> str:
    """A tool call's arguments as one short line (file contents and replacements left out)."""
    if not isinstance(args, dict):
        return ""
    return ", ".join(f"{k}={_short(v)}" for k, v in args.items()
                     if k not in ("content", "old_text", "new_text"))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

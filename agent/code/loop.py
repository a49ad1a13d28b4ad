"""/code: the coder route with file tools bound, or the plain-text edit format when it has none.

With tools, the model calls list/read/search/write/edit until it answers without a call, at most
`max_steps` tool calls per instruction. A malformed call (unknown tool, missing or wrong-typed
arguments, a refused path) is answered to the model as a tool error; the loop goes on. Without
tool support, the model answers with SEARCH/REPLACE blocks; failed blocks go back to it at most
three times. Both ways every change passes the same diff, confirmation and undo journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from agent.chat import AnswerReader, Report
from agent.code import plaintext
from agent.code.tools import DEFAULT_MAX_OUTPUT, ToolContext, langchain_tools, run_tool_call
from agent.errors import EditFailed
from agent.events import Broken, Done, Notice, RouteChosen, Stop, Stopped, ToolCall, Trimmed
from registry.errors import AiCliError
from router.errors import NoModelAvailable, StreamBroken, UnreadableReply

DEFAULT_MAX_STEPS = 12
EDIT_TOOLS = ("write_file", "edit_file")  # the calls that propose a change

TOOLS_GUIDE = """\
You are a coding assistant working in the user's workspace (the folder {root}). Use the tools to \
look at files before you change them: list_files, read_file, search_text. Change files only with \
edit_file (exact text replacement; quote the current text exactly) or write_file (whole file). \
All paths are relative to the workspace; '..' and paths outside it are refused. The user sees \
each change as a diff and may decline it. When you are done, answer briefly what you changed, \
without calling a tool."""


@dataclass(frozen=True)
class CodeSettings:
    """config.yaml `code:` — max_steps (tool calls per /code), max_tool_output (characters)."""

    max_steps: int = DEFAULT_MAX_STEPS
    max_tool_output: int = DEFAULT_MAX_OUTPUT

    @classmethod
    def from_config(cls, config) -> "CodeSettings":
        return cls(
            max_steps=config.get_count("code", "max_steps", DEFAULT_MAX_STEPS),
            max_tool_output=config.get_count("code", "max_tool_output", DEFAULT_MAX_OUTPUT),
        )


@dataclass
class CodeOutcome:
    instruction: str
    mode: str  # "tools" | "plaintext"
    route: Any = None
    steps: int = 0
    answer: str = ""
    applied: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    stopped: str | None = None  # None | "step_limit" | "interrupted" | "edits_failed"
    problems: list[str] = field(default_factory=list)  # edits refused or failed, one line each
    fit_told: bool = field(default=False, repr=False)  # the "left out to fit" line, once a run
    notices: set = field(default_factory=set)  # route notices said in this run: once each
    dry_run: bool = False  # nobody could confirm (--json, no terminal, no --yes): shown only
    proposed: list[dict] = field(default_factory=list)  # dry run: {"path", "diff"} per change

    @property
    def exit_code(self) -> int:
        """1 when edits were proposed and not one was applied: each was refused, declined or
        failed. An answer that proposed no edit, or any applied edit, is a success (0); so is a
        dry run (its edits are proposals)."""
        if self.dry_run:
            return 0
        return 1 if (self.declined or self.problems) and not self.applied else 0

    def to_json(self) -> dict:
        extra = {}
        if self.dry_run:
            extra = {"dry_run": True, "proposed": self.proposed,
                     "message": "Dry run: nothing was applied. Run with --yes to apply the "
                                "changes, or run it on a terminal to confirm each one."}
        return {
            "instruction": self.instruction,
            "mode": self.mode,
            "route": self.route.to_json() if self.route is not None else None,
            "steps": self.steps,
            "answer": self.answer,
            "applied": self.applied,
            "declined": self.declined,
            "stopped": self.stopped,
            "problems": self.problems,
            "ok": self.exit_code == 0,
            **extra,
        }

def run_code(
    router,
    report: Report,
    instruction: str,
    ctx: ToolContext,
    *,
    supports_tools: Callable[[Any], bool],
    settings: CodeSettings = CodeSettings(),
    pinned_model_id: str | None = None,
    model_id: str | None = None,
    options: dict | None = None,
    preset: str | None = None,
    system: str | None = None,
) -> CodeOutcome:
    """Carry out one /code instruction; files change only through `ctx.applier`. `model_id`: a
    model asked for this run only (`-m`), ahead of the pinned and active ones. `options`:
    Ollama options (a preset's); `preset`: its name, for the answer log; `system`: its system
    prompt, added under /code's own guide (which the model needs to edit files at all)."""
    route = router.route("coder", pinned_model_id, model_id=model_id)
    if not route.available:
        raise NoModelAvailable("coder", route.notice)
    mode = "tools" if supports_tools(route.model) else "plaintext"
    outcome = CodeOutcome(instruction, mode, route)
    turns = _Turns(router, report, outcome, pinned_model_id, model_id, options, preset, system)
    run = _tool_loop if mode == "tools" else _plaintext_loop
    try:
        run(turns, ctx, outcome, settings)
    except (KeyboardInterrupt, Stop):
        outcome.stopped = "interrupted"
    except AiCliError:
        if ctx.applier.applied:  # the error ends the run; the changes so far stay undoable
            names = ", ".join(c.rel for c in ctx.applier.applied)
            report(Notice(f"Changed before the error: {names}. '/undo' restores them.", "warn"))
        raise
    outcome.applied = [c.summary() for c in ctx.applier.applied]
    outcome.declined = [c.rel for c in ctx.applier.declined]
    return outcome


def as_dry_run(outcome: CodeOutcome, applier) -> CodeOutcome:
    """The run's changes as proposals (path and diff): nothing was confirmed, so none applied."""
    outcome.dry_run = True
    outcome.proposed = [{"path": c.rel, "diff": c.diff()} for c in applier.declined]
    declined = set(outcome.declined)
    outcome.declined = []
    outcome.problems = [p for p in outcome.problems if not any(d in p for d in declined)]
    return outcome


class _Turns:
    """The model's turns of one /code run: each a streamed answer, reported as it arrives. The
    route's notice and the "left out to fit" line are said once a run, not once a turn."""

    def __init__(self, router, report: Report, outcome: CodeOutcome, pinned: str | None,
                 model_id: str | None = None, options: dict | None = None,
                 preset: str | None = None, system: str | None = None):
        self.router = router
        self.report = report
        self.outcome = outcome
        self.pinned = pinned
        self.model_id = model_id
        self.options = options
        self.preset = preset
        self.system = system

    def guide(self, text: str) -> str:
        """/code's own instructions, then the preset's system prompt when there is one."""
        return f"{text}\n\n{self.system}" if self.system else text

    def ask(self, messages: list, tools: list | None) -> tuple[str, list]:
        """(the answer's text, the tool calls it carries); Ctrl-C raises KeyboardInterrupt."""
        stream = self.router.stream("coder", messages, tools=tools, pinned_model_id=self.pinned,
                                    model_id=self.model_id, on_notice=lambda text: self.report(Notice(text)),
                                    on_trim=self._trimmed, on_route=self._route,
                                    options=self.options)
        if self.preset is not None:
            stream.exchange = lambda: {"preset": self.preset}  # into the answer log
        reader = AnswerReader(stream, self.report)
        try:
            reader.read()
        except StreamBroken as exc:
            self.report(Broken(reader.text, exc.message))
            raise
        finally:
            self.outcome.route = stream.route or self.outcome.route
        if reader.interrupted:
            self.report(Stopped(reader.text))
            raise KeyboardInterrupt
        self.report(Done(reader.text))
        return reader.text, reader.tool_calls

    def step(self, text: str) -> None:
        """A step's detail (a tool that failed, a reply that could not be read)."""
        self.report(Notice(text, "step"))

    def _route(self, route) -> None:
        if route.notice is not None and route.notice in self.outcome.notices:
            return
        if route.notice is not None:
            self.outcome.notices.add(route.notice)
        self.report(RouteChosen(route))

    def _trimmed(self, text: str) -> None:
        if not self.outcome.fit_told:
            self.outcome.fit_told = True
            self.report(Trimmed(text))


def _tool_loop(turns: _Turns, ctx: ToolContext, outcome: CodeOutcome,
               settings: CodeSettings) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    tools = langchain_tools(ctx)
    messages: list = [
        SystemMessage(turns.guide(TOOLS_GUIDE.format(root=ctx.workspace.root))),
        HumanMessage(outcome.instruction),
    ]
    while True:
        try:
            text, calls = turns.ask(messages, tools)
        except UnreadableReply as exc:  # e.g. tool arguments that are not a JSON object
            if outcome.steps >= settings.max_steps:
                outcome.stopped = "step_limit"
                return
            outcome.steps += 1
            turns.step(exc.message)
            messages.append(HumanMessage(
                f"Error: ai-cli could not read your last reply ({exc.message}) Call a tool with "
                "its arguments as a JSON object, or answer in plain text."))
            continue
        outcome.answer = text
        valid = [c for c in calls if isinstance(c.get("args"), dict)]
        messages.append(AIMessage(content=text, tool_calls=[_as_tool_call(c) for c in valid]))
        if not calls:
            return
        for call in calls:
            if outcome.steps >= settings.max_steps:
                outcome.stopped = "step_limit"
                return
            outcome.steps += 1
            turns.report(ToolCall(str(call.get("name")), call.get("args")))
            result, ok = run_tool_call(ctx, call.get("name"), call.get("args"))
            if not ok and call.get("name") in EDIT_TOOLS:
                outcome.problems.append(result.splitlines()[0])
            if not ok:
                turns.step(result.splitlines()[0])
            messages.append(ToolMessage(result, tool_call_id=call.get("id") or "call",
                                        status="success" if ok else "error"))


def _apply_each(ctx: ToolContext, changes) -> tuple[list[str], list[str]]:
    """(files written, one line per change that could not be: changed meanwhile, not a file)."""
    applied, refused = [], []
    for change in changes:
        try:
            if ctx.applier.apply(change):
                applied.append(change.rel)
        except EditFailed as exc:
            refused.append(exc.message)
    return applied, refused


def _as_tool_call(call: dict) -> dict:
    return {"name": str(call.get("name")), "args": call["args"], "id": call.get("id"),
            "type": "tool_call"}


def _plaintext_loop(turns: _Turns, ctx: ToolContext, outcome: CodeOutcome,
                    settings: CodeSettings) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    context = plaintext.workspace_context(ctx.workspace, outcome.instruction, settings.max_tool_output)
    messages: list = [
        SystemMessage(turns.guide(plaintext.FORMAT_GUIDE)),
        HumanMessage(f"{context}\n\nInstruction: {outcome.instruction}"),
    ]
    for attempt in range(plaintext.MAX_RETRIES + 1):
        text, _ = turns.ask(messages, None)
        outcome.answer = text
        outcome.steps += 1
        parsed = plaintext.parse_blocks(text)
        plan = plaintext.plan_blocks(ctx.workspace, parsed.blocks)
        applied, refused = _apply_each(ctx, plan.changes)
        problems = parsed.errors + plan.errors + refused
        if not problems:
            return
        outcome.problems = problems
        if attempt == plaintext.MAX_RETRIES:
            outcome.stopped = "edits_failed"
            return
        messages += [AIMessage(text), HumanMessage(plaintext.feedback(problems, applied))]

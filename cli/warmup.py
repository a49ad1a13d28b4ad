"""Importing LangChain in a daemon thread, while the user types or while Redis and the models'
server are asked (aider warms its slow imports the same way).

`langchain_ollama` is the slowest import of all (langchain_core.tracers -> langsmith building
pydantic models; bench/README.md). A command that talks to a model starts the warm-up first; the
REPL starts it when its prompt shows, `serve` while it waits for a request. The real use later
imports the same modules, which are then ready, or waits only for the part still loading
(Python's per-module import locks); nothing waits for the thread itself: it is a daemon, so /quit
and the end of a command never join it. The collector waits while it imports
(`cli.collector.held`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
import threading
from typing import Callable

from cli import collector

THREAD_NAME = "ai-cli-warm-up"
MODULES = ("langchain_ollama", "router")  # langchain_ollama brings langchain_core.messages
# What the first answer imported on top of those (tests/test_startup_paths.py lists them when it
# changes): our own chat path, and the modules LangChain imports inside its first `stream()`
# (its callback manager's tracers, the message translators), which the first Enter would wait for.
FIRST_ANSWER_MODULES = (
    "agent.chat",
    "agent.preset_request",
    "cli.views.general",
    "router.options",
    "langchain_core.tracers.context",
    "langchain_core.tracers.langchain",
    "langchain_core.tracers.stdout",
    "langchain_core.tracers.run_collector",
    "langchain_core.messages.block_translators.langchain_v0",
)
TERMINAL_MODULES = ("cli.answer", "cli.markdown", "rich.live", "rich.status")  # the live
# answer, the spinner


def start(prepare: Callable[[], object] | None = None, *,
          terminal: bool = True) -> threading.Thread:
    """Start the warm-up: import `MODULES` (and `TERMINAL_MODULES` when the answer goes to a
    terminal), then call `prepare` (e.g. build the route's model)."""
    modules = MODULES + FIRST_ANSWER_MODULES + (TERMINAL_MODULES if terminal else ())
    thread = threading.Thread(target=_warm_up, args=(modules, prepare),
                              name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


def when_drawn(app) -> Callable[[], None]:
    """A prompt_toolkit `pre_run` that starts the warm-up once, right after the prompt is drawn.

    `pre_run` runs inside the prompt's event loop before the first draw; the start is put on the
    loop's next turn, after the draw, so the thread never delays the prompt. The warm-up also
    imports every command's handler (the table names them), builds the general route's
    `ChatOllama` (the router keeps it) and reads its model's window (the checker keeps it), as
    the first message would.
    """
    started = False

    def pre_run() -> None:
        nonlocal started
        if not started:
            import asyncio  # prompt_toolkit's loop: asyncio is loaded already

            started = True
            asyncio.get_running_loop().call_soon(
                lambda: start(lambda: prepare_repl(app)))

    return pre_run


def prepare_repl(app) -> None:
    for command in app.table.commands:
        with contextlib.suppress(Exception):
            command.resolved_handler()
    general_chat_model(app)


def general_chat_model(app) -> None:
    route = app.router.route("general")
    if route.available:
        app.router.chat_model(route.model)
        app.router.context.window(route.model)  # its /api/show facts, which fitting a request reads


def _warm_up(modules: tuple[str, ...], prepare: Callable[[], object] | None) -> None:
    # Only a head start: the real use does it all again and reports what fails. Each module on
    # its own, so one a newer LangChain renamed does not stop the others.
    from router.lazy_langsmith import defer_langsmith_types

    with collector.held():
        defer_langsmith_types()
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        if prepare is not None:
            with contextlib.suppress(Exception):
                prepare()


def exit_if_warming(code: int) -> None:
    """End the process now, with `code`, when a warm-up thread still runs (a quick /quit).

    Python (3.11-3.13) ends a daemon thread at interpreter shutdown by unwinding its stack; when
    that stack runs through pydantic-core (Rust: building a model, importing LangChain) the
    process aborts with "FATAL: exception not rethrown" (SIGABRT) instead of exiting. So the exit
    handlers run here (they stop the embedded Redis), the output is flushed, and the process
    leaves without finalizing. Nothing is lost: the thread only imports and builds a model.
    """
    if not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)

"""Chat, /code proposals and the live model events: the routes that talk to models or stream.

- `POST /chat` streams Server-Sent Events: `route` (the route JSON), `thinking` ({"text"}) per
  piece of a thinking model's reasoning, `token` ({"text"}) per piece of the answer, then `done` ({"session_id", "model_id", "model_name"}); `error` ({"error"}) if the answer breaks
  after it began. Anything that fails before the first piece (no route: 503 with the seed's
  warning) is a plain JSON error instead. Both turns go into the session, like the terminal's chat.
- `POST /code` runs the /code loop with a `ProposingApplier`: nothing is written until
  `POST /code/{id}/apply`.
- `GET /events` relays `models:events` as `models` events, with heartbeats, from the server's
  one subscription (ui/live.py).

Chat and /code each hold one of the server's model slots (ui/limits.py) while they run.
"""

from __future__ import annotations

import asyncio
import json
from typing import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from agent.code.proposal import Proposals, ProposingApplier, apply_proposal
from agent.commands.session import session_store
from agent.events import Broken, Notice, RouteChosen, SessionStarted, Thinking, Token
from registry.errors import AiCliError, InvalidInput, RegistryUnavailable
from router.options import parse_options
from ui.events import EventStream
from ui.live import GONE
from ui.routes.commands import ERRORS, errors

__all__ = ["router", "Proposals"]

HEARTBEAT = 15.0  # seconds between keep-alive comments on /events
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
STREAM = {200: {"description": "text/event-stream", "content": {"text/event-stream": {}}}}

router = APIRouter()


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="The question for the general model")
    session_id: str | None = Field(None, description="Continue this session (default: a new one)")
    model_id: str | None = Field(None, description="Use this model for this request (like -m)")
    system: str | None = Field(None, description="A system prompt for this request (like -s)")
    options: dict[str, str | int | float | list[str | int | float]] | None = Field(
        None, description='Ollama options (like -o), e.g. {"temperature": 0.2, "stop": ["###"]}')
    preset: str | None = Field(None, description="Start from this preset (like -p): model_id, "
                               "system and options override it, as the session does")
    images: list[str] | None = Field(
        None, description="Images for a vision model (like -a): base64, or data: URLs; PNG, "
                          "JPEG, WebP or GIF, 20 MB each", max_length=16)
    think: bool | str | None = Field(
        None, description='Let a thinking model think (like --think): true, or "low", "medium", '
                          '"high"; false asks it not to')


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: str = Field(description="What to change in the workspace")
    session_id: str | None = Field(None, description="Use this session's pinned coder model")
    preset: str | None = Field(None, description="Use this preset's model and options (like -p)")


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


# --- chat ------------------------------------------------------------------------------------


@router.post("/chat", tags=["chat"], responses={**STREAM, **errors(404, 502, 504)})
def chat(request: Request, body: ChatRequest) -> StreamingResponse:
    """Ask the general route; the answer streams as Server-Sent Events."""
    from agent.chat import ChatRequest as Exchange
    from agent.chat import exchange

    app = request.app.state.app
    question = body.message.strip()
    if not question:
        raise InvalidInput("The message is empty. Send {\"message\": \"...\"}.")
    options = parse_options(_option_pairs(body.options))
    if body.think is not None:
        options.update(parse_options([("think", str(body.think).lower())]))
    images = _images(body.images or ())
    preset, notices, planned = _preset_plan(app, body.preset, "general")
    model_id = _requested_model(app, body.model_id) if body.model_id is not None \
        else planned.model_id
    store = _store(app, required=body.session_id is not None)
    wanted = Exchange(question, session_id=body.session_id, open_session=True,
                      options=options or None, model_id=model_id, system=body.system,
                      preset=preset.name if preset else None,
                      preset_system=(preset.system or None) if preset else None,
                      preset_options=dict(preset.options) if preset else None,
                      preset_requires=tuple(preset.requires) if preset else (),
                      request_type=planned.request_type, attachments=images)
    slot = request.app.state.model_slots.take()

    def work(report):
        try:
            for line in notices:  # said with the route, before the answer
                report(Notice(line))
            return exchange(app.router, store, wanted, report)
        finally:
            slot.release()

    stream = EventStream(work)
    before = stream.until_answer()  # a failure before the answer began is an HTTP error
    session_id = next((e.session_id for e in before if isinstance(e, SessionStarted)),
                      body.session_id)
    headers = {**SSE_HEADERS, **({"X-Session-Id": session_id} if session_id else {})}
    return StreamingResponse(_sse_events(stream), media_type="text/event-stream",
                             headers=headers)


def _sse_events(stream: EventStream) -> Iterator[str]:
    """`route` (with the notices said before the answer), `token`s, then `done` or `error`."""
    route, notices, session_id = None, [], None
    for event in stream.events():
        if isinstance(event, RouteChosen):
            route = event.route
        elif isinstance(event, Notice):
            notices.append(event.text)
        elif isinstance(event, SessionStarted):
            session_id = event.session_id
        elif isinstance(event, (Token, Thinking)):
            if route is not None:
                yield sse("route", _route_json(route, notices))
                route = None
            yield sse("token" if isinstance(event, Token) else "thinking", {"text": event.text})
        elif isinstance(event, Broken):
            yield sse("error", {"error": event.error})
            return
        elif isinstance(event, AiCliError):
            yield sse("error", {"error": event.message})
            return
    reply = stream.result
    if reply is not None:
        model = reply.route.model
        yield sse("done", {"session_id": reply.session_id or session_id,
                           "model_id": model.model_id, "model_name": model.model_name})


def _images(encoded) -> tuple:
    """The request's images, each checked as `-a` checks a file (named `image 1`, ...)."""
    import base64
    import binascii

    from agent.attachments import MAX_BYTES, check

    images = []
    for number, text in enumerate(encoded, 1):
        name = f"image {number}"
        data = text.split(",", 1)[1] if text.startswith("data:") else text
        if len(data) > MAX_BYTES * 4 // 3 + 4:
            raise InvalidInput(f"{name} is more than 20 MB; attachments are limited to that.")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{name} is not base64: send each image as base64 or a data: "
                               "URL.") from None
        images.append(check(name, raw))
    return tuple(images)


def _route_json(route, notices: list[str]) -> dict:
    shown = route.to_json()
    if notices:
        shown["notice"] = " ".join(filter(None, [*notices, shown.get("notice")]))
    return shown


def _preset_plan(app, name: str | None, request_type: str):
    """The preset `"preset"` names (404 when none has that name), its notices (a model that is
    gone: the route answers instead), and the route and model it asks for."""
    from agent.preset_request import plan_request, preset_for_request

    preset = preset_for_request(app, name) if name is not None else None
    notices: list[str] = []
    return preset, notices, plan_request(app, preset, request_type, notices)


def _requested_model(app, text: str | None) -> str | None:
    """`model_id` resolved as `-m` is (an id, a name, a prefix): 404 when no model has it,
    never quietly answered by the active model instead."""
    if text is None:
        return None
    from agent.commands.model import requested_model

    return app.read_registry(lambda r: requested_model(app, text, "general", registry=r))


def _option_pairs(options: dict | None) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (options or {}).items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((key, str(one)))
    return pairs


def _store(app, required: bool):
    try:
        return session_store(app)
    except RegistryUnavailable:
        if required:
            raise
        return None  # Redis is down: answer without a session, as `ai-cli chat` does


# --- /code -----------------------------------------------------------------------------------


@router.post("/code", tags=["code"], responses=errors(404, 502, 504))
def code(request: Request, body: CodeRequest) -> dict:
    """Run /code and answer with the proposed changes (unified diffs) and the proposal's id."""
    from agent.code.loop import CodeSettings, run_code
    from agent.code.tools import ToolContext
    from agent.code.workspace import Workspace
    from agent.preset_request import model_for_code

    app = request.app.state.app
    instruction = body.instruction.strip()
    if not instruction:
        raise InvalidInput("The instruction is empty. Send {\"instruction\": \"...\"}.")
    pinned = None
    if body.session_id is not None:
        pinned = session_store(app).get(body.session_id).pinned.get("coder")
    preset, notices, planned = _preset_plan(app, body.preset, "coder")
    for line in notices:
        app.face.report(Notice(line))
    settings = CodeSettings.from_config(app.config)
    workspace = Workspace.open(app.workspace)
    applier = ProposingApplier(workspace.root)
    with request.app.state.model_slots.take():
        outcome = run_code(
            app.router, app.face.report, instruction,
            ToolContext(workspace, applier, settings.max_tool_output),
            supports_tools=app.router.checker.supports_tools, settings=settings,
            pinned_model_id=pinned, model_id=model_for_code(app, planned),
            options=dict(preset.options) if preset else None,
            preset=preset.name if preset else None,
            system=(preset.system or None) if preset else None,
        )
    proposals: Proposals = request.app.state.proposals
    return proposals.add(workspace.root, applier.changes(), outcome.to_json()).to_json()


@router.post("/code/{proposal_id}/apply", tags=["code"], responses=ERRORS)
def apply(request: Request, proposal_id: str) -> dict:
    """Write a proposal's changes (temp file + rename, recorded for /undo); once per proposal."""
    from agent.code.edits import UndoJournal

    app = request.app.state.app
    proposal = request.app.state.proposals.take(proposal_id)
    return apply_proposal(proposal, UndoJournal.in_dir(app.config.data_dir)).to_json()


# --- live registry changes -------------------------------------------------------------------


@router.get("/events", tags=["models"], responses={**STREAM, **errors()})
async def events(request: Request) -> StreamingResponse:
    """One `models` event per registry change, as it happens: {"op", "model_id", "model_type"}
    for a model, {"event": "preset_added"|"preset_removed", "name"} for a preset."""
    live = request.app.state.live
    client = await run_in_threadpool(live.join, asyncio.get_running_loop())
    return StreamingResponse(_model_events(live, client), media_type="text/event-stream",
                             headers=SSE_HEADERS)


async def _model_events(live, client):
    try:
        yield "retry: 3000\n: subscribed\n\n"
        while True:
            try:
                kind, data = await asyncio.wait_for(client.queue.get(), HEARTBEAT)
            except asyncio.TimeoutError:
                yield ": heartbeat\n\n"
                continue
            if kind == GONE:
                yield sse("error", {"error": data})
                return
            yield sse(kind, data)
    finally:
        live.leave(client)

"""Ollama's API on `ai-cli serve` (docs/GATEWAY.md): an Ollama client pointed here reaches every
registered model through the router (balancing, failover, context fitting, the answer log).

    POST /api/chat      NDJSON stream, or one object with "stream": false
    POST /api/generate  the same, in generate's shape (`response` in place of `message`)
    POST /api/embed     `{"model", "input": text | [texts]}` -> `{"model", "embeddings"}`
    GET  /api/tags      the registry's models, one per name
    POST /api/show      the details of the model that would serve the name (capabilities as
                        ai-cli routes by them: `model caps` overrides included)
    GET  /api/ps        the registered models some host has loaded
    GET  /api/version   the Ollama API version this gateway follows

Errors are Ollama's `{"error": "..."}` with its statuses: an unknown model is a 404 in Ollama's
words, never a substitute.
"""

from __future__ import annotations

import json
from typing import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.events import Thinking, Token
from agent.relay import RelayRequest, Target, target_for
from registry.errors import AiCliError, InvalidInput, UnknownModel
from ui.gateway import listing, ollama_shapes, upstream
from ui.gateway.relaying import GatewayAnswer

router = APIRouter(prefix="/api", tags=["ollama"], include_in_schema=False)  # Ollama's docs, not ours
OLLAMA_API_VERSION = "0.12.3"  # the Ollama release whose API docs this gateway follows
NDJSON = "application/x-ndjson"


async def _body(request: Request):
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidInput("The request body is not JSON.") from None


def _failure(exc: AiCliError, name: str) -> JSONResponse:
    if isinstance(exc, UnknownModel):
        return JSONResponse(ollama_shapes.not_found(name), status_code=404)
    return JSONResponse(ollama_shapes.error_body(exc.message), status_code=exc.http_status)


def _target(app, name: str) -> Target:
    return app.read_registry(lambda registry: target_for(app, name, registry))


async def _answer(request: Request, read: Callable, chunk: Callable, done: Callable):
    app = request.app.state.app
    call = None
    try:
        call = read(await _body(request))
        target = await run_in_threadpool(_target, app, call.model)
        if call.loads_only:
            return await _load(app, target, call, "chat" if read is ollama_shapes.chat_call
                               else "generate")
        wanted = RelayRequest(target, call.messages, call.tools, call.options)
        answer = await run_in_threadpool(GatewayAnswer, request.app, wanted)
        if not call.stream:
            relayed = await run_in_threadpool(answer.whole)
            return JSONResponse(done(target.name, relayed, relayed.record, True),
                                headers=answer.headers())
    except AiCliError as exc:
        return _failure(exc, call.model if call is not None else "")
    return StreamingResponse(_lines(answer, target.name, chunk, done), media_type=NDJSON,
                             headers=answer.headers())


async def _load(app, target: Target, call, kind: str):
    """An empty chat or generate: load (or unload) the model on the host the route picks now, as
    Ollama does for itself; nothing is generated or logged."""
    route = await run_in_threadpool(app.router.route, target.request_type, None,
                                    target.model_key)
    if route.model is None:
        return JSONResponse(ollama_shapes.error_body(route.notice or "no model answers"),
                            status_code=503)
    keep_alive = call.options.get("keep_alive")
    done = await run_in_threadpool(upstream.load, route.model.url, route.model.model_name,
                                   keep_alive, float(route.model.timeout))
    if not done:
        return JSONResponse(ollama_shapes.error_body(
            f"{route.model.model_name} could not be loaded at {route.model.host}"), status_code=502)
    body = ollama_shapes.loaded(target.name, kind, keep_alive)
    if call.stream:
        return StreamingResponse(iter([_line(body)]), media_type=NDJSON)
    return JSONResponse(body)


def _lines(answer: GatewayAnswer, name: str, chunk: Callable, done: Callable) -> Iterator[str]:
    for piece in answer.pieces():
        if isinstance(piece, Token):
            yield _line(chunk(name, text=piece.text))
        elif isinstance(piece, Thinking):
            yield _line(chunk(name, thinking=piece.text))
        else:  # the answer broke off: Ollama says so in a last line
            message = getattr(piece, "message", None) or str(piece)
            yield _line(ollama_shapes.error_body(message))
            return
    relayed = answer.stream.result
    if relayed is None:
        return
    if relayed.tool_calls:
        yield _line(ollama_shapes.chat_chunk(name, tool_calls=relayed.tool_calls))
    yield _line(done(name, relayed, relayed.record, False))


def _line(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


@router.post("/chat")
async def chat(request: Request):
    """Chat as Ollama's `/api/chat` does, through the router."""
    return await _answer(request, ollama_shapes.chat_call, ollama_shapes.chat_chunk,
                         ollama_shapes.chat_done)


@router.post("/generate")
async def generate(request: Request):
    """Generate as Ollama's `/api/generate` does (one turn: `system`, then `prompt`)."""
    return await _answer(request, ollama_shapes.generate_call,
                         lambda name, text="", thinking="": ollama_shapes.generate_chunk(
                             name, text, thinking),
                         ollama_shapes.generate_done)


@router.post("/embed")
async def embed(request: Request):
    """Ollama's `/api/embed`, through the embedding route (router/embed.py)."""
    from agent.relay import embed_texts

    app = request.app.state.app
    name = ""
    try:
        body = await _body(request)
        if not isinstance(body, dict):
            raise InvalidInput("The request body is not a JSON object.")
        name = body.get("model") if isinstance(body.get("model"), str) else ""
        texts = [body["input"]] if isinstance(body.get("input"), str) else body.get("input")
        target = await run_in_threadpool(_target, app, name)
        embedded = await run_in_threadpool(embed_texts, app.router, target, texts, lambda _: None)
    except AiCliError as exc:
        return _failure(exc, name)
    return {"model": target.name, "embeddings": embedded.vectors, "total_duration": 0,
            "load_duration": 0, "prompt_eval_count": 0}


def _models(app):
    return app.read_registry(lambda registry: registry.list_models())


@router.get("/tags")
def tags(request: Request):
    """The registry's models, one per name, with what their hosts report of them; then the
    presets."""
    app = request.app.state.app
    models = _models(app)
    per_host = upstream.listed((m.url for m in models if not m.corrupt), "/api/tags")
    return {"models": listing.tags(models, per_host) + listing.preset_tags(presets(app))}


def presets(app) -> list:
    """The stored presets; none when they cannot be read (the models are still listed)."""
    from agent.commands.preset import preset_store

    try:
        return preset_store(app).list()
    except AiCliError:
        return []


@router.get("/ps")
def running(request: Request):
    """The registered models some host has loaded now."""
    models = _models(request.app.state.app)
    per_host = upstream.listed((m.url for m in models if not m.corrupt), "/api/ps")
    return {"models": listing.loaded(models, per_host)}


@router.post("/show")
async def show(request: Request):
    """`/api/show` of the host that would serve the name (its first available replica)."""
    body = await _body(request)
    name = body.get("model") or body.get("name") if isinstance(body, dict) else None
    app = request.app.state.app
    try:
        if not isinstance(name, str):
            raise InvalidInput("Send {\"model\": \"NAME\"}.")
        target = await run_in_threadpool(_target, app, name)
        route = await run_in_threadpool(app.router.route, target.request_type, None,
                                        target.model_key)
    except AiCliError as exc:
        return _failure(exc, name or "")
    if route.model is None:
        return JSONResponse(ollama_shapes.error_body(route.notice or "no model answers"),
                            status_code=503)
    facts = await run_in_threadpool(upstream.shown, route.model.url, route.model.model_name)
    if facts is None:
        return JSONResponse(ollama_shapes.not_found(name), status_code=404)
    known = await run_in_threadpool(app.router.checker.capabilities, route.model)
    if known is not None:  # what ai-cli routes by: the server's, or the user's override
        facts["capabilities"] = list(known)
    return facts


@router.get("/version")
def version():
    return {"version": OLLAMA_API_VERSION}

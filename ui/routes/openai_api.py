"""OpenAI's chat-completions API on `ai-cli serve` (docs/GATEWAY.md), for the OpenAI SDK and
every tool built on it: the same router behind it as Ollama's API.

    POST /v1/chat/completions   `chat.completion`, or SSE chunks ending with `data: [DONE]`
    POST /v1/embeddings         `{"model", "input": text | [texts]}`, as OpenAI answers it
    GET  /v1/models             the registry's models, one per name

Errors are OpenAI's error objects; an unknown model is a 404 `model_not_found`.
"""

from __future__ import annotations

import json
from typing import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.events import Token
from agent.relay import RelayRequest, target_for
from registry.errors import AiCliError, UnknownModel
from ui.gateway import listing, openai_shapes
from ui.gateway.relaying import GatewayAnswer

router = APIRouter(prefix="/v1", tags=["openai"], include_in_schema=False)  # OpenAI's docs
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
ERROR_KINDS = {400: "invalid_request_error", 401: "authentication_error",
               404: "invalid_request_error", 503: "service_unavailable"}


def _failure(exc: AiCliError, name: str) -> JSONResponse:
    if isinstance(exc, UnknownModel):
        return JSONResponse(openai_shapes.model_not_found(name), status_code=404)
    status = exc.http_status
    return JSONResponse(openai_shapes.error_body(exc.message, ERROR_KINDS.get(status, "api_error")),
                        status_code=status)


@router.post("/chat/completions")
async def chat_completions(request: Request):
    app = request.app.state.app
    call = None
    try:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            from registry.errors import InvalidInput

            raise InvalidInput("The request body is not JSON.") from None
        call = openai_shapes.completion_call(body)
        target = await run_in_threadpool(app.read_registry, lambda registry: target_for(
            app, call.model, registry))
        wanted = RelayRequest(target, call.messages, call.tools, call.options)
        answer = await run_in_threadpool(GatewayAnswer, request.app, wanted)
        ident = openai_shapes.completion_id()
        if not call.stream:
            relayed = await run_in_threadpool(answer.whole)
            return JSONResponse(openai_shapes.completion(ident, target.name, relayed),
                                headers=answer.headers())
    except AiCliError as exc:
        return _failure(exc, call.model if call is not None else "")
    return StreamingResponse(_events(answer, ident, target.name, call.include_usage),
                             media_type="text/event-stream",
                             headers={**SSE_HEADERS, **answer.headers()})


def _events(answer: GatewayAnswer, ident: str, name: str, include_usage: bool) -> Iterator[str]:
    yield _data(openai_shapes.chunk(ident, name, {"role": "assistant", "content": ""}))
    for piece in answer.pieces():
        if isinstance(piece, Token):
            yield _data(openai_shapes.chunk(ident, name, {"content": piece.text}))
        elif isinstance(piece, BaseException):
            message = getattr(piece, "message", None) or str(piece)
            yield _data(openai_shapes.error_body(message, "api_error"))
            return
    relayed = answer.stream.result
    if relayed is not None:
        for last in openai_shapes.last_chunks(ident, name, relayed, include_usage):
            yield _data(last)
    yield "data: [DONE]\n\n"


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


@router.post("/embeddings")
async def embeddings(request: Request):
    from agent.relay import embed_texts
    from registry.errors import InvalidInput

    app = request.app.state.app
    name = ""
    try:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise InvalidInput("The request body is not JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            raise InvalidInput("\"model\" is required: an embedding model's name, or 'embedding'.")
        name = body["model"]
        texts = [body["input"]] if isinstance(body.get("input"), str) else body.get("input")
        target = await run_in_threadpool(app.read_registry, lambda registry: target_for(
            app, name, registry))
        embedded = await run_in_threadpool(embed_texts, app.router, target, texts, lambda _: None)
    except AiCliError as exc:
        return _failure(exc, name)
    return {"object": "list", "model": name,
            "data": [{"object": "embedding", "index": i, "embedding": vector}
                     for i, vector in enumerate(embedded.vectors)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0}}


@router.get("/models")
def models(request: Request):
    app = request.app.state.app
    found = app.read_registry(lambda registry: registry.list_models())
    from ui.routes.ollama_api import presets

    return {"object": "list",
            "data": listing.openai_models(found) + listing.preset_models(presets(app))}

"""The FastAPI application over an already-built `App` (registry, router, config, workspace).

`create_app` does no I/O: it wires routes, the one error translation, the safety middleware
(ui/security.py), the one live-events subscription (ui/live.py) and the model slots
(ui/limits.py). Errors: every `AiCliError` becomes `{"error": message}` with its `http_status`,
request validation problems are 400, a 405 names the allowed methods in `Allow`, and anything
unexpected is a 500 with one line (never a traceback; `AI_CLI_DEBUG=1` re-raises). The OpenAPI
document lists the answers the routes really give: 400 for a body that does not fit (never
FastAPI's 422), and the safety refusals on every route.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent import __version__
from registry.errors import debugging
from registry.errors import AiCliError
from ui.limits import ModelSlots
from ui.live import LiveEvents
from ui.security import Guard, Policy

STATIC = Path(__file__).resolve().parent / "static"
REFUSALS = {  # what ui/security.py may answer before any route runs
    401: "No token, or not this server's token",
    403: "Refused: a foreign Host, Origin or Sec-Fetch-Site",
}
BODY_REFUSALS = {413: "The body is over 1 MiB", 415: "The body is not application/json"}


def create_app(app, *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
               gateway_auth: bool = False) -> FastAPI:
    """`token` None: no token is asked (`ai-cli serve --no-auth`, loopback only).
    `gateway_auth`: the gateway's routes ask for the token on loopback too (ui/security.py)."""
    from contextlib import asynccontextmanager

    from ui.routes import chat, commands, ollama_api, openai_api, presets

    @asynccontextmanager
    async def lifespan(web: FastAPI):
        yield
        web.state.live.stop()

    web = FastAPI(
        title="ai-cli", version=__version__, docs_url=None, redoc_url=None,  # no CDN pages
        description="The registry, router, chat and /code of ai-cli over HTTP (docs/WEB.md).",
        lifespan=lifespan,
    )
    web.state.app = app
    web.state.proposals = chat.Proposals()
    web.state.live = LiveEvents(lambda: app.registry)  # opened by the first live client
    web.state.model_slots = ModelSlots()
    web.include_router(commands.router)
    web.include_router(chat.router)
    web.include_router(presets.router)
    web.include_router(ollama_api.router)
    web.include_router(openai_api.router)
    _error_handlers(web)
    _openapi_with_refusals(web)

    @web.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    web.add_middleware(Guard, policy=Policy(host, port, token, gateway_auth=gateway_auth),
                       login_page=login_page)
    return web


def login_page(why: str) -> bytes:
    from html import escape

    text = (STATIC / "login.html").read_text(encoding="utf-8")
    return text.replace("{why}", escape(why)).encode()


def _openapi_with_refusals(web: FastAPI) -> None:
    """FastAPI documents a 422 for every body it validates; this API answers 400 instead, and
    the middleware's refusals come before any route: say so in the document."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if web.openapi_schema is None:
            schema = get_openapi(title=web.title, version=web.version,
                                 description=web.description, routes=web.routes)
            for methods in schema.get("paths", {}).values():
                for method, operation in methods.items():
                    answers = operation.setdefault("responses", {})
                    answers.pop("422", None)
                    extra = dict(REFUSALS)
                    if method in ("post", "put", "patch", "delete"):
                        extra.update(BODY_REFUSALS)
                    for status, text in extra.items():
                        answers.setdefault(str(status), _error_answer(text))
            schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
            schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            web.openapi_schema = schema
        return web.openapi_schema

    web.openapi = openapi


def _error_answer(text: str) -> dict:
    return {"description": text,
            "content": {"application/json": {"schema": {
                "type": "object", "properties": {"error": {"type": "string"}},
                "required": ["error"]}}}}


def error_body(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _error_handlers(web: FastAPI) -> None:
    @web.exception_handler(AiCliError)
    async def ai_cli_error(request: Request, exc: AiCliError) -> JSONResponse:
        if debugging():
            raise exc
        return error_body(exc.message, exc.http_status)

    @web.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_body(describe_validation(exc.errors()), 400)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: f"No route {request.url.path}. The routes are listed at /openapi.json.",
                   405: f"{request.method} is not allowed on {request.url.path}."}.get(
            exc.status_code, str(exc.detail))
        answer = error_body(message, exc.status_code)
        for name, value in (exc.headers or {}).items():  # 405: Allow
            answer.headers[name] = value
        return answer

    @web.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if debugging():
            raise exc
        return error_body(f"Unexpected error: {type(exc).__name__}: {exc}. Run 'ai-cli serve' "
                          "with AI_CLI_DEBUG=1 to see the traceback.", 500)


def describe_validation(errors) -> str:
    """One line for a request that does not fit the route's schema."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "Bad request: " + "; ".join(parts[:5]) + ". See /openapi.json for the expected shape."

"""The FastAPI application over an already-built `App` (registry, router, config, workspace).

`create_app` does no I/O: it wires routes, the one error translation and the safety middleware.
Errors: every `AiCliError` becomes `{"error": message}` with its `http_status`, request
validation problems are 400, and anything unexpected is a 500 with one line (never a traceback;
`AI_CLI_DEBUG=1` re-raises).
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
from ui.security import Guard, Policy

STATIC = Path(__file__).resolve().parent / "static"


def create_app(app, *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> FastAPI:
    from ui.routes import chat, commands

    web = FastAPI(
        title="ai-cli", version=__version__, docs_url=None, redoc_url=None,  # no CDN pages
        description="The registry, router, chat and /code of ai-cli over HTTP (docs/WEB.md).",
    )
    web.state.app = app
    web.state.proposals = chat.Proposals()
    web.include_router(commands.router)
    web.include_router(chat.router)
    _error_handlers(web)

    @web.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    web.add_middleware(Guard, policy=Policy(host, port, token))
    return web


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
        return error_body(message, exc.status_code)

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

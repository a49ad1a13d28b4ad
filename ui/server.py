"""Running the web face: an `App` of its own over the terminal's registry (the same Redis, the
same router state), the FastAPI application, and uvicorn on an already-bound socket.

Its log lines go through ui/log.py (one line per problem). SIGTERM stops it like Ctrl-C does
(uvicorn finishes the requests under way), then ends the process with status 143 (128 +
SIGTERM) through `SystemExit`, so exit handlers run (the embedded Redis is left in order)."""

from __future__ import annotations

import signal
import socket
from dataclasses import replace

from agent.app import App
from agent.face import WEB, QuietFace


def web_context(app: App) -> App:
    """The App the routes use: this process's registry, a face that shows nothing (answers go
    over HTTP), JSON results, no questions asked."""
    return App(app.config, QuietFace(WEB), app.table, replace(app.flags, json=True, yes=False),
               open_registry=lambda config: app.registry)


def serve_forever(app: App, listener: socket.socket, *, host: str, port: int,
                  token: str | None) -> None:
    """Serve until Ctrl-C (or SIGTERM)."""
    import uvicorn

    from ui.app import create_app
    from ui.log import log_config

    web = create_app(web_context(app), host=host, port=port, token=token,
                     gateway_auth=app.config.gateway_auth)
    config = uvicorn.Config(web, log_level="warning", timeout_graceful_shutdown=2,
                            access_log=False, log_config=log_config())
    # uvicorn catches SIGTERM, shuts down, then raises it again: let that be an exit, not a kill.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)

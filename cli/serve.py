"""`ai-cli serve`: the HTTP API and the web page (ui/) over this process's registry and router.

FastAPI and uvicorn are imported here, when the command runs, never by other commands.
"""

from __future__ import annotations

import os
import socket

from agent.commands.base import SUBCOMMAND, Args, Command, Option
from agent.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV = "AI_CLI_API_TOKEN"


def parse_port(value) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise UsageError(f"The port {value!r} is not valid: give a number from 1 to 65535 "
                         "(0 picks a free one), for example --port 8765.")
    return int(text)


def serve(app, args: Args) -> None:
    from ui.security import is_loopback

    host = (args.host or DEFAULT_HOST).strip().strip("[]")
    port = parse_port(DEFAULT_PORT if args.port is None else args.port)
    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and token is None:
        raise UsageError(
            f"Serving on {host} lets other machines reach ai-cli: set {TOKEN_ENV} to a secret "
            "first (every request must then send 'Authorization: Bearer <token>'), or serve on "
            "127.0.0.1."
        )
    listener = _listen(host, port)
    bound_port = listener.getsockname()[1]
    run_server(app, listener, host, bound_port, token)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. "
                         "Pick another --port or --host.") from None
    listener.listen(128)
    return listener


def web_app(app):
    """The App the routes use: this process's registry, quiet output (the answers go over HTTP),
    JSON results, no questions asked."""
    from dataclasses import replace

    from agent.app import App
    from cli.output import Output

    quiet = Output(open(os.devnull, "w"), open(os.devnull, "w"))
    return App(app.config, quiet, app.table, replace(app.flags, json=True, yes=False),
               interactive=False, open_registry=lambda config: app.registry)


def run_server(app, listener: socket.socket, host: str, port: int, token: str | None) -> None:
    """Serve until Ctrl-C (or SIGTERM); prints the page's address on stderr first."""
    import uvicorn

    from ui.app import create_app

    web = create_app(web_app(app), host=host, port=port, token=token)
    shown = f"[{host}]" if ":" in host else host
    app.output.info(f"ai-cli web: http://{shown}:{port}/  (workspace {app.workspace}; Ctrl-C stops)")
    if token is not None:
        app.output.notice(f"Every request needs 'Authorization: Bearer <{TOKEN_ENV}>'.")
    from cli import warmup

    warmup.start(terminal=False, lasting=True)  # imports while the server waits for a request
    config = uvicorn.Config(web, log_level="warning", timeout_graceful_shutdown=2,
                            access_log=False)
    uvicorn.Server(config).run(sockets=[listener])


COMMANDS = [
    Command(
        ("serve",), "Serve the HTTP API and the web page (http://127.0.0.1:8765/)", serve,
        options=(
            Option("--host", "address to listen on (default 127.0.0.1; others need "
                   "AI_CLI_API_TOKEN)", "HOST"),
            Option("--port", "port to listen on (default 8765; 0 picks a free one)", "PORT"),
        ),
        faces=frozenset({SUBCOMMAND}),
        group="program",
        details="Routes, JSON shapes and the security rules: docs/WEB.md. `--workspace DIR` "
                "confines the page's /code to DIR, as in the terminal.",
    ),
]

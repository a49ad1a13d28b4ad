"""`ai-cli serve`: the terminal starts the web face (ui/) over this process's registry and router.

Here: the address and the token rule, checked before anything listens, and the lines the
terminal shows. FastAPI and uvicorn are imported by ui/server.py when the command runs, never by
other commands.
"""

from __future__ import annotations

import os
import socket

from agent.commands.base import Args
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


def run_server(app, listener: socket.socket, host: str, port: int, token: str | None) -> None:
    """Serve until Ctrl-C (or SIGTERM); prints the page's address on stderr first."""
    from ui.server import serve_forever

    shown = f"[{host}]" if ":" in host else host
    output = app.face.output
    output.info(f"ai-cli web: http://{shown}:{port}/  (workspace {app.workspace}; Ctrl-C stops)")
    if token is not None:
        output.notice(f"Every request needs 'Authorization: Bearer <{TOKEN_ENV}>'.")
    from cli import warmup

    warmup.start(terminal=False)  # imports while the server waits for a request
    serve_forever(app, listener, host=host, port=port, token=token)

"""`ai-cli serve`: the terminal starts the web face (ui/) over this process's registry and router.

Here: the address and the token rule, checked before anything listens, and the lines the
terminal shows. FastAPI and uvicorn are imported by ui/server.py when the command runs, never by
other commands.

The token (ui/web_token.py): `AI_CLI_API_TOKEN` when set, else the data dir's `web-token`
(made on first use). The printed address carries a generated token, as Jupyter's does, so the
person who started the server opens the page with one click; a token the user chose in
`AI_CLI_API_TOKEN` is never printed (docs/ARCHITECTURE.md, "Safety rules": secrets).
`--no-auth` serves without a token, on a loopback address only.
"""

from __future__ import annotations

import os
import socket

from agent.commands.base import Args
from agent.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


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
    no_auth = bool(args.no_auth)
    if no_auth and not is_loopback(host):
        raise UsageError(
            f"--no-auth serves without a token, which only a loopback address may do; {host} "
            "lets other machines reach ai-cli. Drop --no-auth (the token is then required), or "
            "serve on 127.0.0.1.")
    token, source = (None, "none") if no_auth else server_token(app.config.data_dir)
    listener = _listen(host, port)
    bound_port = listener.getsockname()[1]
    run_server(app, listener, host, bound_port, token, token_source=source)


def server_token(data_dir) -> tuple[str, str]:
    """(token, where it came from: "env" or "file"); a token that cannot work is a UsageError
    now, not a server that refuses everyone later."""
    from ui.web_token import TOKEN_ENV, token_from_file, token_problem

    given = os.environ.get(TOKEN_ENV)
    if given is not None and given != "":
        problem = token_problem(given)
        if problem:
            raise UsageError(f"{TOKEN_ENV} cannot be used as the web token: {problem}. Set it "
                             "to printable ASCII without spaces around it (or unset it: a "
                             "random token is then made for you).")
        return given, "env"
    try:
        token, path, _ = token_from_file(data_dir)
    except OSError as exc:
        raise UsageError(f"Cannot read or write the web token file in {data_dir} "
                         f"({exc.strerror or exc}). Fix its permissions, or set {TOKEN_ENV}.") from None
    problem = token_problem(token)
    if problem:
        raise UsageError(f"The web token in {path} cannot be used: {problem}. Delete the file "
                         "(a new token is made on the next start), or set a valid "
                         f"{TOKEN_ENV}.")
    return token, "file"


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


def run_server(app, listener: socket.socket, host: str, port: int, token: str | None,
               token_source: str = "file") -> None:
    """Serve until Ctrl-C (or SIGTERM); prints the page's address on stderr first."""
    from ui.server import serve_forever
    from ui.web_token import TOKEN_ENV, url_with_token

    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}/"
    output = app.face.output
    address = url_with_token(base, token) if token_source == "file" else base
    output.info(f"ai-cli web: {address}  (workspace {app.workspace}; Ctrl-C stops)")
    if token is None:
        output.notice("No token (--no-auth): every account on this machine can use this server.")
    elif token_source == "env":
        output.notice(f"Every request needs the token in {TOKEN_ENV}: open {base}?token=<token>, "
                      "or send 'Authorization: Bearer <token>'.")
    from cli import warmup

    warmup.start(terminal=False)  # imports while the server waits for a request
    serve_forever(app, listener, host=host, port=port, token=token)

"""The web server's token: every request must carry it unless `ai-cli serve --no-auth`.

Like Jupyter's local server: a random token is generated once per data dir into the private file
`web-token` (0600, in the 0700 data dir), so another account on the same machine can reach the
loopback port but not read the token. `AI_CLI_API_TOKEN` overrides the file. A token must be
printable ASCII without surrounding space: it travels in an HTTP header, a cookie and a URL, and
one that cannot would start a server that then refuses everyone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_ENV = "AI_CLI_API_TOKEN"
TOKEN_FILE = "web-token"
URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def token_problem(token: str) -> str | None:
    """Why `token` cannot be used, in a few words; None when it can."""
    if not token:
        return "it is empty"
    if token != token.strip():
        return "it has spaces or line breaks around it"
    if not all(" " < ch < "\x7f" for ch in token):
        return "it has characters other than printable ASCII (letters, digits, punctuation)"
    if token.startswith('"') or any(ch in token for ch in ";,\\\""):
        return "it has a quote, comma, semicolon or backslash (a cookie cannot carry them)"
    return None


def token_from_file(data_dir: Path) -> tuple[str, Path, bool]:
    """(token, its file, whether it was made just now). Reads `web-token`, or writes a new
    random one (0600 from the start, never readable by others even for a moment)."""
    from registry.config.private_files import private_file, secure_data_dir

    path = secure_data_dir(Path(data_dir)) / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        private_file(path)
        token = path.read_text(encoding="utf-8", errors="surrogateescape").rstrip("\n")
        if token:
            return token, path, False
        # Empty: a start that died between making the file and writing it. Replace it whole.
        fresh = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        token = _write_new(fd)
        os.replace(fresh, path)
        return token, path, True
    return _write_new(fd), path, True


def _write_new(fd: int) -> str:
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


def url_with_token(base: str, token: str) -> str:
    """The page's address carrying the token (URL-safe tokens as they are, others quoted)."""
    from urllib.parse import quote

    shown = token if set(token) <= URL_SAFE else quote(token, safe="")
    return f"{base}?token={shown}"

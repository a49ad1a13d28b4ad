"""Attachments (`-a/--attach PATH|URL|-`): images read on the client and sent to a vision model.

An image is known by its first bytes, never by its name: PNG, JPEG, WebP and GIF, as Ollama's
vision models take them. Anything else, an empty file, or more than `MAX_BYTES` is refused in one
line before anything is sent. A URL (http or https only) is fetched by ai-cli itself, with the
same cap counted as the bytes arrive. An attachment goes to the model as a base64 image on the
user message (ChatOllama's image content block becomes Ollama's `images`); sessions and the
answer log keep its name, size and type only (`Attachment.to_json`), never its bytes.

`sniff` and `check` are pure; `load` does the reading.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agent.errors import AttachmentNotFetched
from registry.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
STDIN = "-"
URL_TIMEOUT = 30.0
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class Attachment:
    name: str  # the path, URL or "stdin", as the user gave it
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def to_json(self) -> dict:
        """What is recorded about it (sessions, the answer log): never the bytes."""
        return {"name": self.name, "size": self.size, "type": self.mime}

    def content_block(self) -> dict:
        """The image as a LangChain content block; ChatOllama sends its base64 in `images`."""
        encoded = base64.b64encode(self.data).decode("ascii")
        return {"type": "image_url", "image_url": f"data:{self.mime};base64,{encoded}"}


def sniff(data: bytes) -> str | None:
    """The image type these bytes begin with, or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(name: str, data: bytes) -> Attachment:
    """An attachment of these bytes, or InvalidInput saying why not (one line). Pure."""
    if not data:
        raise InvalidInput(f"{name} is empty: attach a PNG, JPEG, WebP or GIF image.")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{name} is {_mb(len(data))}; attachments are limited to "
                           f"{_mb(MAX_BYTES)}.")
    mime = sniff(data)
    if mime is None:
        raise InvalidInput(f"{name} is not an image ai-cli can send (PNG, JPEG, WebP or GIF, "
                           "known by its content): for a text file use -f.")
    return Attachment(name, mime, data)


def is_url(spec: str) -> bool:
    return "://" in spec


def load(spec: str, piped: bytes | None = None) -> Attachment:
    """The attachment `spec` names: `-` (stdin: `piped`), a URL, or a path."""
    if spec == STDIN:
        if piped is None:
            raise InvalidInput("-a - reads an image from stdin, but nothing was piped in.")
        return check("stdin", piped)
    if is_url(spec):
        return check(spec, fetch(spec))
    path = Path(spec).expanduser()
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InvalidInput(f"{spec} is {_mb(path.stat().st_size)}; attachments are limited "
                               f"to {_mb(MAX_BYTES)}.")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {spec}: {exc.strerror or exc}.") from None
    return check(spec, data)


def fetch(url: str) -> bytes:
    """The body at an http(s) URL, refused past MAX_BYTES as it arrives. Redirects are followed
    only to http(s); proxy variables are ignored, as for every request ai-cli makes."""
    import httpx

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{url} is not an http:// or https:// URL: attach a file by its path, "
                           "or an image on the web by its http(s) address.")
    try:
        with httpx.Client(timeout=URL_TIMEOUT, follow_redirects=True, trust_env=False,
                          max_redirects=5) as client, client.stream("GET", url) as response:
            if response.url.scheme not in ("http", "https"):
                raise InvalidInput(f"{url} redirects away from http(s).")
            if response.status_code != 200:
                raise AttachmentNotFetched(f"Cannot fetch {url}: HTTP {response.status_code}.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise InvalidInput(f"{url} is {_mb(int(declared))}; attachments are limited "
                                   f"to {_mb(MAX_BYTES)}.")
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > MAX_BYTES:
                    raise InvalidInput(f"{url} is more than {_mb(MAX_BYTES)}; attachments are "
                                       "limited to that.")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise AttachmentNotFetched(f"Cannot fetch {url}: {exc or type(exc).__name__}.") from None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"

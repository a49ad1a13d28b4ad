"""The safety rules of a local web server, as pure checks and one ASGI middleware that applies them.

- `Host` must name the bound address or a loopback name (stops DNS rebinding: a foreign page
  whose name now points at 127.0.0.1 still sends its own name as Host). On a wildcard bind
  (0.0.0.0, ::) any IP literal is accepted: rebinding needs a DNS name, and a token is required.
- With a token (`AI_CLI_API_TOKEN`; required off loopback) every request except the page itself
  must carry `Authorization: Bearer <token>`, compared in constant time.
- A state-changing request (POST, PUT, PATCH, DELETE) must be `application/json` (a form on a
  random web page cannot send that without a CORS preflight, which is never granted) and, when it
  has an `Origin`, come from the page's own origin.
- A request body is at most `MAX_BODY` bytes: by `Content-Length` and by what actually arrives.

Refusals are JSON `{"error": "..."}` like every other error of the API.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import dataclass

MAX_BODY = 1024 * 1024
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
PUBLIC_PATHS = ("/", "/static/")  # the page and its files: no data in them, no token needed


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _ip(name: str):
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host_name(header: str) -> str | None:
    """The name part of a Host header (`[::1]:8765` -> `::1`), lower case; None if malformed."""
    value = header.strip().lower()
    if not value or any(c in value for c in " /\\@?#"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1:] and not value[end + 1:].startswith(":")):
            return None
        return value[1:end]
    if value.count(":") > 1:
        return None
    return value.split(":", 1)[0]


@dataclass(frozen=True)
class Policy:
    bound_host: str
    port: int
    token: str | None = None
    max_body: int = MAX_BODY

    def host_allowed(self, header: str | None) -> bool:
        name = host_name(header or "")
        if name is None:
            return False
        bound = self.bound_host.strip("[]").lower()
        if name == bound or is_loopback(name):
            return True
        return bound in WILDCARDS and _ip(name) is not None

    def token_ok(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())

    @staticmethod
    def origin_ok(origin: str | None, host_header: str, scheme: str = "http") -> bool:
        if origin is None:
            return True
        return origin.strip().lower() == f"{scheme}://{host_header.strip().lower()}"


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def refusal(method: str, path: str, headers: dict[str, str], policy: Policy) -> tuple[int, str] | None:
    """(status, message) when the request must be refused before it reaches a route; else None."""
    host = headers.get("host")
    if not policy.host_allowed(host):
        return 403, ("Refused: the Host header does not name this server. Open the page at "
                     f"http://127.0.0.1:{policy.port}/ (or the address ai-cli serve printed).")
    public = method in ("GET", "HEAD") and (path == "/" or path.startswith("/static/"))
    if not public and not policy.token_ok(headers.get("authorization")):
        return 401, "Refused: send the API token as 'Authorization: Bearer <AI_CLI_API_TOKEN>'."
    if method in STATE_CHANGING:
        if not policy.origin_ok(headers.get("origin"), host or ""):
            return 403, "Refused: a request from another web page (Origin) cannot change anything here."
        if not is_json(headers.get("content-type")):
            return 415, "Refused: send the request with 'Content-Type: application/json'."
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            return 400, "Refused: the Content-Length header is not a number."
        if int(length) > policy.max_body:
            return 413, f"Refused: the request body is larger than {policy.max_body} bytes."
    return None


class Guard:
    """ASGI middleware: applies `refusal`, and bounds the body as it streams in."""

    def __init__(self, app, policy: Policy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            if name in headers and name in ("host", "authorization", "origin", "content-type"):
                return await _refuse(send, 400, f"Refused: the {name} header appears twice.")
            headers[name] = raw_value.decode("latin-1")
        problem = refusal(scope["method"], scope.get("path", ""), headers, self.policy)
        if problem is not None:
            return await _refuse(send, *problem)
        body, complete = await _read_body(receive, self.policy.max_body)
        if not complete:
            return await _refuse(
                send, 413, f"Refused: the request body is larger than {self.policy.max_body} bytes.")
        return await self.app(scope, _replay(body, receive), send)


async def _read_body(receive, limit: int) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), True  # a disconnect: the app will see it too
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts), True


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})

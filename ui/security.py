"""The safety rules of a local web server, as pure checks and one ASGI middleware that applies them.

- `Host` must name the bound address or a loopback name (stops DNS rebinding: a foreign page
  whose name now points at 127.0.0.1 still sends its own name as Host). On a wildcard bind
  (0.0.0.0, ::) any IP literal is accepted: rebinding needs a DNS name, and a token is required.
- Every request carries the server's token (ui/web_token.py; loopback included, since another
  account on the same machine reaches loopback too), unless the server runs with `--no-auth`: as
  `Authorization: Bearer <token>`, or as the HttpOnly, SameSite=Strict cookie the page gets when
  it is opened once with `?token=` (then redirected to the bare URL, so the token leaves the
  address bar and the history). Compared in constant time. Without it, `GET /` answers a small
  page asking for the token; everything else a 401.
- A request a browser marks `Sec-Fetch-Site: cross-site` or `same-site` (another page, another
  port of the same machine) is refused on every route but the page itself.
- A request with a body (POST, PUT, PATCH, DELETE) must send it as `application/json` (a form on
  a random web page cannot send that without a CORS preflight, which is never granted) and, when
  it has an `Origin`, come from the page's own origin. A request with no body needs no type.
- A request body is at most `MAX_BODY` bytes: by `Content-Length` and by what actually arrives;
  a JSON body whose text holds a lone UTF-16 surrogate (`"\ud800"`, which no model server can
  take) is a 400.
- The gateway's routes (`/api/...`, Ollama's API, and `/v1/...`, OpenAI's) are for local programs,
  which send no Origin: on a loopback bind they need no token, as Ollama's own API needs none,
  unless `serve.gateway_auth: true`; off loopback the token is always required. There the token
  is also taken as the password of basic auth (`http://user:TOKEN@host/`, which Ollama clients
  send). Their bodies may be up to `GATEWAY_MAX_BODY` (images travel in them) and are JSON
  whatever their type says, as Ollama reads them (`curl -d '{...}'` sends a form's type); a body
  that comes with an `Origin` (a browser's) must still say JSON. The Host, Origin and
  Sec-Fetch-Site rules hold for them as for every route, so a browser page is still held off.
- Every response carries the framing and sniffing headers (`SECURITY_HEADERS`): HTTP headers,
  since browsers ignore a `frame-ancestors` given in a `<meta>`.

Refusals are JSON `{"error": "..."}` like every other error of the API.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

MAX_BODY = 1024 * 1024
GATEWAY_MAX_BODY = 64 * 1024 * 1024  # a few base64 images (the attachment cap is 20 MB each)
GATEWAY_PATHS = ("/api/", "/v1/")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
PAGE = "/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
FOREIGN_SITES = frozenset({"cross-site", "same-site"})  # Sec-Fetch-Site values of another page


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
    gateway_auth: bool = False  # `serve.gateway_auth`: the gateway asks for the token on loopback
    gateway_max_body: int = GATEWAY_MAX_BODY

    @property
    def gateway_open(self) -> bool:
        """Whether the gateway's routes answer without a token: on a loopback bind, unless
        `serve.gateway_auth` asks for it."""
        return not self.gateway_auth and is_loopback(self.bound_host)

    def body_limit(self, path: str) -> int:
        return self.gateway_max_body if is_gateway(path) else self.max_body

    def host_allowed(self, header: str | None) -> bool:
        name = host_name(header or "")
        if name is None:
            return False
        bound = self.bound_host.strip("[]").lower()
        if name == bound or is_loopback(name):
            return True
        return bound in WILDCARDS and _ip(name) is not None

    @property
    def cookie_name(self) -> str:
        """Per port: a browser sends a cookie to every port of a host, and two servers on one
        machine have two tokens."""
        return f"ai-cli-token-{self.port}"

    def token_matches(self, given: str | None) -> bool:
        if self.token is None:
            return True
        if given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode())

    def token_ok(self, authorization: str | None, cookie: str | None = None,
                 basic: bool = False) -> bool:
        """`basic`: the token may also come as basic auth's password (the gateway's routes)."""
        if self.token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.token_matches(given.strip()):
            return True
        if basic and scheme.lower() == "basic" and self.token_matches(basic_password(given)):
            return True
        return self.token_matches(cookie_value(cookie, self.cookie_name))

    def login_cookie(self) -> str:
        return (f"{self.cookie_name}={self.token}; Path=/; HttpOnly; SameSite=Strict")

    @staticmethod
    def origin_ok(origin: str | None, host_header: str, scheme: str = "http") -> bool:
        if origin is None:
            return True
        return origin.strip().lower() == f"{scheme}://{host_header.strip().lower()}"


def is_gateway(path: str) -> bool:
    return path.startswith(GATEWAY_PATHS)


def basic_password(credentials: str) -> str | None:
    """The password of basic auth's `base64(user:password)`, None when it is not that."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return password if colon else None


def cookie_value(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def has_body(headers: dict[str, str]) -> bool:
    """Whether the request announces a body (HTTP/1.1 has no other way to send one)."""
    length = headers.get("content-length", "").strip()
    return "transfer-encoding" in headers or (length.isdigit() and int(length) > 0)


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


UNAUTHORIZED = ("Refused: this server needs its token. Open the address 'ai-cli serve' printed "
                "(it carries ?token=), or send 'Authorization: Bearer <token>' (the token is in "
                "the file web-token in ai-cli's data dir, or AI_CLI_API_TOKEN).")


def refusal(method: str, path: str, headers: dict[str, str], policy: Policy) -> tuple[int, str] | None:
    """(status, message) when the request must be refused before it reaches a route; else None."""
    host = headers.get("host")
    if not policy.host_allowed(host):
        return 403, ("Refused: the Host header does not name this server. Open the page at "
                     f"http://127.0.0.1:{policy.port}/ (or the address ai-cli serve printed).")
    page = method in ("GET", "HEAD") and path == PAGE
    if not page and headers.get("sec-fetch-site", "").strip().lower() in FOREIGN_SITES:
        return 403, ("Refused: a request from another web page (Sec-Fetch-Site) cannot use this "
                     "server. Open the page ai-cli serve printed instead.")
    gateway = is_gateway(path)
    if gateway and policy.gateway_open:
        pass
    elif not page and not policy.token_ok(headers.get("authorization"), headers.get("cookie"),
                                          basic=gateway):
        return 401, UNAUTHORIZED
    if method in STATE_CHANGING:
        if not policy.origin_ok(headers.get("origin"), host or ""):
            return 403, "Refused: a request from another web page (Origin) cannot change anything here."
        if (has_body(headers) and not is_json(headers.get("content-type"))
                and not (gateway and headers.get("origin") is None)):
            return 415, "Refused: send the request body with 'Content-Type: application/json'."
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            return 400, "Refused: the Content-Length header is not a number."
        if int(length) > policy.body_limit(path):
            return 413, f"Refused: the request body is larger than {policy.body_limit(path)} bytes."
    return None


def page_answer(query_string: str, headers: dict[str, str], policy: Policy) -> tuple[str, str]:
    """What `GET /` answers: ("page", "") the page; ("redirect", cookie) the bare URL with the
    token's cookie set; ("login", why) the small page asking for the token (401)."""
    given = parse_qs(query_string, keep_blank_values=True).get("token")
    if given is not None:
        if policy.token is None:
            return "redirect", ""
        if len(given) == 1 and policy.token_matches(given[0]):
            return "redirect", policy.login_cookie()
        return "login", "That token is not this server's token."
    if policy.token_ok(headers.get("authorization"), headers.get("cookie")):
        return "page", ""
    return "login", ""


def lone_surrogate(value, where: str = "body") -> str | None:
    """Where the first text holding a lone UTF-16 surrogate is in a JSON value, else None.

    JSON can spell one (`"\\ud800"`); it is not a character, and no model server takes it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate(key, where) or lone_surrogate(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate(item, f"{where}[{index}]")
            if found:
                return found
    return None


def surrogate_refusal(body: bytes, content_type: str | None) -> tuple[int, str] | None:
    if not body or not is_json(content_type):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None  # not JSON: the route says so (400)
    where = lone_surrogate(value)
    if where is None:
        return None
    where = where.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return 400, (f"Bad request: {where} holds a lone UTF-16 surrogate (such as \\ud800), "
                 "which is not a character. Send the text as valid Unicode.")


class Guard:
    """ASGI middleware: applies `refusal`, answers the page's token exchange, bounds the body
    as it streams in, and puts `SECURITY_HEADERS` on every response."""

    def __init__(self, app, policy: Policy, login_page=None):
        self.app = app
        self.policy = policy
        self.login_page = login_page or (lambda why: why.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_security_headers(send)
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "cookie" and name in headers:  # HTTP/2 may send cookies one per header
                headers[name] += "; " + value
                continue
            if name in headers and name in ("host", "authorization", "origin", "content-type",
                                            "sec-fetch-site"):
                return await _refuse(send, 400, f"Refused: the {name} header appears twice.")
            headers[name] = value
        method, path = scope["method"], scope.get("path", "")
        problem = refusal(method, path, headers, self.policy)
        if problem is not None:
            return await _refuse(send, *problem)
        if method in ("GET", "HEAD") and path == PAGE:
            query = scope.get("query_string", b"").decode("latin-1")
            kind, detail = page_answer(query, headers, self.policy)
            if kind == "redirect":
                return await _redirect_home(send, detail)
            if kind == "login":
                return await _login(send, self.login_page(detail))
        limit = self.policy.body_limit(path)
        body, complete = await _read_body(receive, limit)
        if not complete:
            return await _refuse(send, 413, f"Refused: the request body is larger than {limit} bytes.")
        problem = surrogate_refusal(body, "application/json" if is_gateway(path)
                                    else headers.get("content-type"))
        if problem is not None:
            return await _refuse(send, *problem)
        return await self.app(scope, _replay(body, receive), send)


def _with_security_headers(send):
    async def sending(message):
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


async def _redirect_home(send, cookie: str) -> None:
    headers = [(b"location", PAGE.encode()), (b"cache-control", b"no-store"),
               (b"content-length", b"0")]
    if cookie:
        headers.append((b"set-cookie", cookie.encode()))
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _login(send, page: bytes) -> None:
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"cache-control", b"no-store"),
                            (b"content-length", str(len(page)).encode())]})
    await send({"type": "http.response.body", "body": page})


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

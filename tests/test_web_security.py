"""The web server's safety checks (ui/security.py: Host, token, Origin, Content-Type, body size,
and the ASGI `Guard` that applies them) as pure functions and a hand-driven ASGI app: each check,
deleted or inverted, fails a test named after it. The same rules over real HTTP are in
test_web_api.py."""

from __future__ import annotations

import pytest

from ui.security import Guard, Policy, host_name, is_json, is_loopback, refusal

LOCAL = Policy("127.0.0.1", 8765)
TOKEN = "s3cret-token"


def headers(**given) -> dict[str, str]:
    base = {"host": "127.0.0.1:8765"}
    return {**base, **{k.replace("_", "-"): v for k, v in given.items()}}


# --- Host ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, name",
    [
        ("127.0.0.1:8765", "127.0.0.1"),
        ("LOCALHOST:8765", "localhost"),
        ("localhost", "localhost"),
        ("[::1]:8765", "::1"),
        ("[::1]", "::1"),
        (" example.test ", "example.test"),
    ],
)
def test_host_name_takes_the_name_part(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(
    "header",
    ["", "   ", "a b", "a/b", "a\\b", "user@127.0.0.1", "a?b", "a#b", "[::1", "[::1]x",
     "::1", "1:2:3"],
)
def test_host_name_refuses_a_malformed_header(header):
    assert host_name(header) is None


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "localhost.", "ip6-localhost",
                                  "127.0.0.1", "127.8.9.10", "::1", "[::1]", " 127.0.0.1 "])
def test_is_loopback_knows_loopback_names_and_addresses(name):
    assert is_loopback(name)


# 198.51.100.7: a documentation-range literal, only classified here, never contacted
@pytest.mark.parametrize("name", ["example.test", "198.51.100.7", "0.0.0.0", "localhost.example.test",
                                  ""])
def test_is_loopback_refuses_everything_else(name):
    assert not is_loopback(name)


@pytest.mark.parametrize("header", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"])
def test_host_check_accepts_the_bound_address_and_loopback_names(header):
    assert LOCAL.host_allowed(header)


@pytest.mark.parametrize("header", ["attacker.example.test", "attacker.example.test:8765",
                                    "192.0.2.7:8765", None, "", "a b"])
def test_host_check_refuses_a_foreign_name(header):
    """DNS rebinding: a foreign page whose name now points at 127.0.0.1 sends its own name."""
    assert not LOCAL.host_allowed(header)


def test_host_check_accepts_the_bound_name_itself():
    assert Policy("my-box.lan", 8765, token=TOKEN).host_allowed("MY-BOX.lan:8765")
    assert not Policy("my-box.lan", 8765, token=TOKEN).host_allowed("other.lan:8765")


def test_host_check_on_a_wildcard_bind_accepts_ip_literals_only():
    for bound in ("0.0.0.0", "::", "[::]", ""):
        policy = Policy(bound, 8765, token=TOKEN)
        assert policy.host_allowed("192.0.2.7:8765")
        assert policy.host_allowed("[2001:db8::1]:8765")
        assert not policy.host_allowed("rebound.example.test:8765")


def test_refusal_names_the_host_check():
    status, message = refusal("GET", "/models", {"host": "evil.example.test"}, LOCAL)
    assert status == 403 and "Host header" in message and "http://127.0.0.1:8765/" in message


def test_the_host_check_applies_to_the_page_too():
    assert refusal("GET", "/", {"host": "evil.example.test"}, LOCAL)[0] == 403


# --- token --------------------------------------------------------------------------------


def test_token_check_passes_without_a_token_configured():
    assert LOCAL.token_ok(None)


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}", f"bearer {TOKEN}",
                                           f"BEARER  {TOKEN} "])
def test_token_check_accepts_the_bearer_token(authorization):
    assert Policy("127.0.0.1", 8765, token=TOKEN).token_ok(authorization)


@pytest.mark.parametrize("authorization", [None, "", TOKEN, f"Basic {TOKEN}", "Bearer wrong",
                                           f"Bearer {TOKEN}x", "Bearer "])
def test_token_check_refuses_anything_else(authorization):
    assert not Policy("127.0.0.1", 8765, token=TOKEN).token_ok(authorization)


def test_refusal_names_the_token_check_and_spares_only_the_page():
    policy = Policy("127.0.0.1", 8765, token=TOKEN)
    status, message = refusal("GET", "/models", headers(), policy)
    assert status == 401 and "Authorization: Bearer" in message
    assert refusal("GET", "/models", headers(authorization=f"Bearer {TOKEN}"), policy) is None
    assert refusal("GET", "/", headers(), policy) is None  # the page asks for it (page_answer)
    assert refusal("HEAD", "/static/app.js", headers(), policy)[0] == 401
    assert refusal("POST", "/", headers(content_type="application/json"), policy)[0] == 401
    assert refusal("GET", "/staticky", headers(), policy)[0] == 401


# --- Origin and content type of changes -------------------------------------------------------


def test_origin_check_accepts_no_origin_or_the_page_itself():
    assert Policy.origin_ok(None, "127.0.0.1:8765")
    assert Policy.origin_ok("HTTP://127.0.0.1:8765 ", "127.0.0.1:8765")
    assert Policy.origin_ok("https://127.0.0.1:8765", "127.0.0.1:8765", scheme="https")


@pytest.mark.parametrize("origin", ["http://evil.example.test", "http://127.0.0.1:9999",
                                    "https://127.0.0.1:8765", "null", ""])
def test_origin_check_refuses_another_origin(origin):
    assert not Policy.origin_ok(origin, "127.0.0.1:8765")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_refusal_names_the_origin_check_for_every_change(method):
    given = headers(origin="http://evil.example.test", content_type="application/json")
    status, message = refusal(method, "/models", given, LOCAL)
    assert status == 403 and "Origin" in message


def test_a_read_from_another_origin_is_not_refused():
    assert refusal("GET", "/models", headers(origin="http://evil.example.test"), LOCAL) is None


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8",
                                          " application/json "])
def test_is_json_accepts_json(content_type):
    assert is_json(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data", "application/jsonx"])
def test_is_json_refuses_what_a_form_can_send(content_type):
    assert not is_json(content_type)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_refusal_names_the_content_type_check_for_every_change(method):
    status, message = refusal(method, "/models",
                              headers(content_type="text/plain", content_length="2"), LOCAL)
    assert status == 415 and "Content-Type: application/json" in message
    chunked = headers(content_type="text/plain", transfer_encoding="chunked")
    assert refusal(method, "/models", chunked, LOCAL)[0] == 415
    assert refusal(method, "/models", headers(content_type="application/json"), LOCAL) is None
    assert refusal(method, "/models", headers(content_length="0"), LOCAL) is None  # no body


def test_a_read_needs_no_content_type():
    assert refusal("GET", "/models", headers(), LOCAL) is None


# --- body size ------------------------------------------------------------------------------


def test_refusal_names_the_body_size_check():
    small = Policy("127.0.0.1", 8765, max_body=10)
    json_post = {"content_type": "application/json"}
    assert refusal("POST", "/sessions/x", headers(content_length="10", **json_post), small) is None
    status, message = refusal("POST", "/sessions/x", headers(content_length="11", **json_post), small)
    assert status == 413 and "larger than 10 bytes" in message


@pytest.mark.parametrize("length", ["ten", "-1", "1.5", ""])
def test_refusal_names_a_content_length_that_is_not_a_number(length):
    status, message = refusal("GET", "/sessions/x", headers(content_length=length), LOCAL)
    assert status == 400 and "Content-Length" in message


def test_origin_check_compares_names_case_blind():
    assert Policy.origin_ok("http://LocalHost:8765", "localhost:8765")
    assert Policy.origin_ok("http://localhost:8765", "LOCALHOST:8765")


def test_is_json_reads_the_media_type_before_every_parameter():
    assert is_json("application/json; charset=utf-8; x=y")


def test_is_loopback_strips_only_brackets():
    assert not is_loopback("XlocalhostX")
    assert not is_loopback("[example.test]")


def test_the_guard_passes_other_scopes_through_untouched():
    import asyncio

    seen = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        pass

    scope = {"type": "lifespan"}
    asyncio.run(Guard(app, LOCAL)(scope, receive, send))
    assert seen == [(scope, receive, send)]


def guarded(raw_headers):
    """What Guard answers for a GET with these headers: (status, body, app reached)."""
    import asyncio
    import json

    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(True)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/models", "headers": raw_headers}
    asyncio.run(Guard(app, LOCAL)(scope, receive, send))
    if not sent:
        return None, None, bool(reached)
    return sent[0]["status"], json.loads(sent[1]["body"]), bool(reached)


@pytest.mark.parametrize("name", ["host", "authorization", "origin", "content-type"])
def test_the_guard_refuses_a_repeated_security_header(name):
    given = [(b"host", b"127.0.0.1:8765")] if name != "host" else []
    given += [(name.encode(), b"one"), (name.title().encode(), b"two")]
    assert guarded(given) == (400, {"error": f"Refused: the {name} header appears twice."}, False)


def test_the_guard_lets_other_repeated_headers_through():
    given = [(b"host", b"127.0.0.1:8765"), (b"accept", b"a"), (b"accept", b"b")]
    assert guarded(given) == (None, None, True)


def test_host_name_refuses_a_second_closing_bracket():
    assert host_name("[::1]]") is None


def body_through_guard(chunks, limit=10):
    """Stream `chunks` through Guard (more_body on all but the last): (status, body read)."""
    import asyncio

    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent, read = [], []

    async def app(scope, receive, send):
        read.append((await receive())["body"])

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/sessions/x",
             "headers": [(b"host", b"127.0.0.1:8765"), (b"content-type", b"application/json")]}
    asyncio.run(Guard(app, Policy("127.0.0.1", 8765, max_body=limit))(scope, receive, send))
    return (sent[0]["status"] if sent else None), (read[0] if read else None)


def test_the_guard_counts_the_body_as_it_streams_in():
    assert body_through_guard([b"12345", b"67890"]) == (None, b"1234567890")  # exactly the limit
    assert body_through_guard([b"123456", b"78901"]) == (413, None)
    assert body_through_guard([b"", b"1234567890"]) == (None, b"1234567890")


# --- what the client is told, and what the app receives ---------------------------------------


@pytest.mark.parametrize(
    "method, path, given, policy, status, message",
    [
        ("GET", "/models", {"host": "evil.example.test"}, LOCAL, 403,
         "Refused: the Host header does not name this server. Open the page at "
         "http://127.0.0.1:8765/ (or the address ai-cli serve printed)."),
        ("GET", "/models", headers(), Policy("127.0.0.1", 8765, token=TOKEN), 401,
         "Refused: this server needs its token. Open the address 'ai-cli serve' printed "
         "(it carries ?token=), or send 'Authorization: Bearer <token>' (the token is in "
         "the file web-token in ai-cli's data dir, or AI_CLI_API_TOKEN)."),
        ("POST", "/models", headers(origin="http://evil.example.test"), LOCAL, 403,
         "Refused: a request from another web page (Origin) cannot change anything here."),
        ("POST", "/models", headers(content_type="text/plain", content_length="2"), LOCAL,
         415, "Refused: send the request body with 'Content-Type: application/json'."),
        ("GET", "/models", headers(content_length="ten"), LOCAL, 400,
         "Refused: the Content-Length header is not a number."),
        ("GET", "/models", headers(content_length=str(2 ** 20 + 1)), LOCAL, 413,
         "Refused: the request body is larger than 1048576 bytes."),
    ],
    ids=["host", "token", "origin", "content-type", "content-length", "body-size"],
)
def test_each_refusal_is_one_line_saying_what_to_do(method, path, given, policy, status, message):
    assert refusal(method, path, given, policy) == (status, message)


def test_a_refusal_is_sent_as_json_with_lower_case_header_names_and_its_length():
    """ASGI requires lower-case header names in a response; the length is the body's."""
    import asyncio

    sent = []

    async def app(scope, receive, send):
        raise AssertionError("a refused request reached the app")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/models",
             "headers": [(b"host", b"evil.example.test")]}
    asyncio.run(Guard(app, LOCAL)(scope, None, send))
    body = sent[1]["body"]
    assert sent[0]["status"] == 403
    assert sent[0]["headers"][:2] == [(b"content-type", b"application/json"),
                                      (b"content-length", str(len(body)).encode())]
    assert all(name == name.lower() for name, _ in sent[0]["headers"])


def messages_through_guard(messages):
    """Feed these ASGI receive messages through Guard (a JSON POST): what the app receives,
    message by message, up to the end of the body."""
    import asyncio

    queue = list(messages)
    got = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            got.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def receive():
        return queue.pop(0)

    async def send(message):
        raise AssertionError(f"Guard refused: {message}")

    scope = {"type": "http", "method": "POST", "path": "/sessions/x",
             "headers": [(b"host", b"127.0.0.1:8765"), (b"content-type", b"application/json")]}
    asyncio.run(Guard(app, LOCAL)(scope, receive, send))
    return got


def test_a_client_that_disconnects_mid_body_reaches_the_app_with_what_arrived():
    """The app gets the parts so far (not a 413, not a crash); its next receive is the server's
    disconnect again."""
    got = messages_through_guard([
        {"type": "http.request", "body": b"12", "more_body": True},
        {"type": "http.request", "body": b"34", "more_body": True},
        {"type": "http.disconnect"},
    ])
    assert got == [{"type": "http.request", "body": b"1234", "more_body": False}]


def test_a_body_message_may_leave_out_body_and_more_body():
    """ASGI: `body` defaults to b"" and `more_body` to False."""
    assert messages_through_guard([{"type": "http.request"}]) == [
        {"type": "http.request", "body": b"", "more_body": False}]
    assert messages_through_guard([{"type": "http.request", "body": b"{}"}]) == [
        {"type": "http.request", "body": b"{}", "more_body": False}]


@pytest.mark.parametrize("bound", ["127.0.0.1", "my-box.lan", "xxxx"])
def test_a_request_without_a_host_header_is_refused_whatever_the_bound_name(bound):
    assert not Policy(bound, 8765, token=TOKEN).host_allowed(None)


def test_the_bound_name_is_compared_case_blind():
    assert Policy("XBOX.lan", 8765, token=TOKEN).host_allowed("xbox.lan:8765")

"""The web server's hardening rules as plain functions: the token's shape and file, the page's
token exchange, lone surrogates, the live-events fan-out and its cap, the model slots, and a
Redis pool that is full said as what it is. No process started (the quick tier)."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
import redis

from registry.errors import RegistryPoolExhausted, RegistryUnavailable
from registry.manager import ModelRegistry
from ui.errors import ModelSlotsBusy, TooManyLiveClients
from ui.limits import ModelSlots
from ui.live import GONE, Fanout, model_event
from ui.security import Policy, lone_surrogate, page_answer, surrogate_refusal
from ui.web_token import TOKEN_FILE, token_from_file, token_problem, url_with_token

TOKEN = "abcDEF123-_xyz"
POLICY = Policy("127.0.0.1", 8765, token=TOKEN)


# --- the token --------------------------------------------------------------------------------


@pytest.mark.parametrize("token, words", [
    (" abc", "spaces"), ("abc\n", "spaces"), ("tökén", "printable ASCII"),
    ("a b", "printable ASCII"), ("a\x1bb", "printable ASCII"), ("", "empty"),
    ("a;b", "cookie"), ('a"b', "cookie"),
])
def test_a_token_that_cannot_travel_is_refused(token, words):
    assert words in token_problem(token)


@pytest.mark.parametrize("token", ["s3cret-token", "abc.DEF~_-", "!#$%&'()*+/:<=>?@[]^`{|}"])
def test_a_printable_ascii_token_is_taken(token):
    assert token_problem(token) is None


def test_the_token_file_is_made_once_private_and_read_back(tmp_path):
    os.umask(0o022)
    token, path, made = token_from_file(tmp_path / "data")
    assert made and path.name == TOKEN_FILE and token_problem(token) is None and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again, _, made_again = token_from_file(tmp_path / "data")
    assert again == token and not made_again


def test_a_loose_token_file_is_made_private(tmp_path):
    token_from_file(tmp_path)
    (tmp_path / TOKEN_FILE).chmod(0o644)
    token_from_file(tmp_path)
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600


def test_the_url_carries_the_token():
    assert url_with_token("http://127.0.0.1:8765/", TOKEN) == f"http://127.0.0.1:8765/?token={TOKEN}"
    assert url_with_token("http://h/", "a/b+c") == "http://h/?token=a%2Fb%2Bc"


# --- the page's token exchange ----------------------------------------------------------------


def test_the_page_trades_a_token_in_the_url_for_a_cookie_and_the_bare_url():
    kind, cookie = page_answer(f"token={TOKEN}", {}, POLICY)
    assert kind == "redirect"
    assert cookie == f"ai-cli-token-8765={TOKEN}; Path=/; HttpOnly; SameSite=Strict"


@pytest.mark.parametrize("query", ["token=wrong", "token=", f"token={TOKEN}&token={TOKEN}"])
def test_a_wrong_token_in_the_url_gets_the_token_page_saying_so(query):
    assert page_answer(query, {}, POLICY) == ("login", "That token is not this server's token.")


def test_the_page_opens_with_the_cookie_or_the_header_and_asks_otherwise():
    assert page_answer("", {"cookie": f"other=1; ai-cli-token-8765={TOKEN}"}, POLICY) == ("page", "")
    assert page_answer("", {"authorization": f"Bearer {TOKEN}"}, POLICY) == ("page", "")
    assert page_answer("", {"cookie": f"ai-cli-token-9999={TOKEN}"}, POLICY) == ("login", "")
    assert page_answer("", {"cookie": "ai-cli-token-8765=nope"}, POLICY) == ("login", "")
    assert page_answer("", {"cookie": '"broken'}, POLICY) == ("login", "")
    assert page_answer("", {}, POLICY) == ("login", "")


def test_without_a_token_the_page_just_opens():
    open_policy = Policy("127.0.0.1", 8765, token=None)
    assert page_answer("", {}, open_policy) == ("page", "")
    assert page_answer("token=x", {}, open_policy) == ("redirect", "")  # out of the address bar


def test_the_cookie_counts_like_the_header_on_every_route():
    assert POLICY.token_ok(None, f"ai-cli-token-8765={TOKEN}")
    assert not POLICY.token_ok(None, f"ai-cli-token-8766={TOKEN}")
    assert not POLICY.token_ok("Bearer nope", "ai-cli-token-8765=nope")


# --- lone surrogates --------------------------------------------------------------------------


def test_lone_surrogates_are_found_wherever_they_are():
    assert lone_surrogate({"message": "ok", "options": {"stop": ["a", "\ud800"]}}) == "body.options.stop[1]"
    assert lone_surrogate({"\udc00": 1}) == "body"
    assert lone_surrogate({"message": "emoji 😀 fine"}) is None
    assert lone_surrogate([1, 2.5, None, True]) is None


def test_a_surrogate_in_a_json_body_is_a_400_and_other_bodies_pass():
    status, message = surrogate_refusal(b'{"message": "\\ud800"}', "application/json")
    assert status == 400 and "body.message" in message and "surrogate" in message
    assert surrogate_refusal(b'{"message": "\\ud83d\\ude00"}', "application/json") is None  # a pair
    assert surrogate_refusal(b"{not json", "application/json") is None  # the route says so
    assert surrogate_refusal(b"", "application/json") is None


# --- the live fan-out -------------------------------------------------------------------------


def test_model_events_are_read_from_messages_and_anything_else_ignored():
    message = {"type": "message", "data": '{"op": "add", "model_id": "m", "model_type": "general", "x": 1}'}
    assert model_event(message) == {"op": "add", "model_id": "m", "model_type": "general"}
    for odd in (None, {"type": "subscribe"}, {"type": "message", "data": "[1]"},
                {"type": "message", "data": "{no"}, {"type": "message", "data": None}):
        assert model_event(odd) is None


def test_the_fanout_delivers_to_every_client_and_refuses_one_over_the_cap():
    async def scenario():
        loop = asyncio.get_running_loop()
        fanout = Fanout(max_clients=3)
        clients = [fanout.join(loop) for _ in range(3)]
        with pytest.raises(TooManyLiveClients) as refused:
            fanout.join(loop)
        assert refused.value.http_status == 503 and "3 pages" in refused.value.message
        fanout.deliver(("models", {"op": "add"}))
        got = [await asyncio.wait_for(c.queue.get(), 5) for c in clients]
        fanout.leave(clients[0])
        fanout.join(loop)  # its place is free again
        fanout.end_all("Redis went away")
        ended = [await asyncio.wait_for(c.queue.get(), 5) for c in clients[1:]]
        return got, ended, len(fanout)

    got, ended, left = asyncio.run(scenario())
    assert got == [("models", {"op": "add"})] * 3
    assert ended == [(GONE, "Redis went away")] * 2 and left == 0


def test_a_client_that_does_not_read_is_dropped_not_grown():
    async def scenario():
        fanout = Fanout(max_clients=2)
        client = fanout.join(asyncio.get_running_loop())
        for n in range(client.queue.maxsize + 5):
            fanout.deliver(("models", {"n": n}))
        await asyncio.sleep(0.05)
        items = []
        while not client.queue.empty():
            items.append(client.queue.get_nowait())
        return items, len(fanout)

    items, left = asyncio.run(scenario())
    assert left == 0 and items[-1][0] == GONE and "fell too far behind" in items[-1][1]


# --- model slots ------------------------------------------------------------------------------


def test_model_slots_admit_the_limit_and_refuse_the_next_at_once():
    slots = ModelSlots(limit=2)
    first, second = slots.take(), slots.take()
    with pytest.raises(ModelSlotsBusy) as busy:
        slots.take()
    assert busy.value.http_status == 503 and "2 model requests" in busy.value.message
    first.release()
    first.release()  # twice is once
    third = slots.take()
    with pytest.raises(ModelSlotsBusy):
        slots.take()
    second.release()
    third.release()


# --- a full Redis pool ------------------------------------------------------------------------


def test_a_full_connection_pool_is_busy_not_unreachable(redis_url, key_prefix):
    """redis-py 6+ caps a client's pool (100 by default); one more is not a dead server."""
    pool = redis.ConnectionPool.from_url(redis_url, max_connections=1, decode_responses=True)
    client = redis.Redis(connection_pool=pool)
    holder = client.pubsub()
    holder.subscribe("held")  # the pool's one connection, kept by the subscriber
    try:
        registry = ModelRegistry(client, key_prefix=key_prefix)
        with pytest.raises(RegistryPoolExhausted) as busy:
            registry.list_models()
        assert not isinstance(busy.value, RegistryUnavailable)
        assert "Busy" in busy.value.message and "Redis itself is up" in busy.value.message
    finally:
        holder.close()
        client.close()


@pytest.mark.parametrize("token", ["s3cret-token", "abc.DEF~_-", "!#$%&'()*+/:<=>?@[]^`{|}"])
def test_every_token_taken_travels_in_the_cookie(token):
    policy = Policy("127.0.0.1", 8765, token=token)
    sent = policy.login_cookie().split(";", 1)[0]
    assert policy.token_ok(None, sent)


def test_an_empty_token_file_is_replaced_by_a_new_token(tmp_path):
    (tmp_path / TOKEN_FILE).write_text("")
    token, path, made = token_from_file(tmp_path)
    assert made and token_problem(token) is None and path.read_text() == token + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [TOKEN_FILE]


def through_guard(policy: Policy, raw_headers, path: str = "/models") -> tuple[int | None, bool]:
    """(the status Guard answered, or None; whether the app was reached) for a GET."""
    from ui.security import Guard

    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(True)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:8765"), *raw_headers]}
    asyncio.run(Guard(app, policy)(scope, receive, send))
    return (sent[0]["status"] if sent else None), bool(reached)


def test_cookies_split_over_several_headers_count_together():
    split = [(b"cookie", b"a=1"), (b"cookie", f"ai-cli-token-8765={TOKEN}".encode())]
    assert through_guard(POLICY, split) == (None, True)
    assert through_guard(POLICY, [(b"cookie", b"a=1"), (b"cookie", b"b=2")]) == (401, False)


def test_a_repeated_sec_fetch_site_is_refused():
    twice = [(b"authorization", f"Bearer {TOKEN}".encode()), (b"sec-fetch-site", b"same-origin"),
             (b"sec-fetch-site", b"cross-site")]
    assert through_guard(POLICY, twice) == (400, False)

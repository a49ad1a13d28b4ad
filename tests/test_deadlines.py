"""A model's timeout is a deadline for each token: through the real ChatOllama over HTTP to a test
server that trickles its answer one byte at a time (each byte well within the socket timeout,
the whole far slower than the model's), or goes silent. No test here measures time: each asks
what ended the request, and the trickles are hundreds of bytes at 20 a second, so a request
that was not cut by its deadline would receive a whole answer and fail the test."""

import httpx
import pytest
from langchain_ollama import ChatOllama

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from registry.manager import ModelRegistry
from test_cli_support import cli  # noqa: F401
from router import failures
from router.deadline import read_budget, token_wait, current_deadline
from router.deadline_transport import deadline_transport
from router.errors import ModelTimedOut, StreamBroken
from router_helpers import chat_models, make_router, two  # noqa: F401

HI = [("user", "hi")]


def collect(routed, shown=None):
    shown = [] if shown is None else shown
    for chunk in routed:
        shown.append(chunk.content)
    return "".join(shown)


# --- the budget of one read (pure) ------------------------------------------------------------


def test_a_read_gets_the_socket_timeout_cut_to_the_time_left():
    assert read_budget(5.0, None, now=100.0) == 5.0  # no token wait: the socket timeout
    assert read_budget(None, None, now=100.0) is None
    assert read_budget(5.0, 102.0, now=100.0) == 2.0  # two seconds left of the deadline
    assert read_budget(5.0, 200.0, now=100.0) == 5.0  # the socket timeout is the shorter
    assert read_budget(None, 101.5, now=100.0) == 1.5
    assert read_budget(5.0, 99.0, now=100.0) <= 0  # passed


def test_a_token_wait_sets_the_deadline_only_inside_it():
    assert current_deadline() is None
    with token_wait(3, clock=lambda: 10.0):
        assert current_deadline() == 13.0
        with token_wait(1, clock=lambda: 11.0):
            assert current_deadline() == 12.0
        assert current_deadline() == 13.0
    assert current_deadline() is None


# --- the test server's trickle, as the plain client sees it -----------------------------------


def test_without_a_deadline_a_trickle_never_trips_the_read_timeout(ollama_server):
    """The fault itself: every byte comes within the 1 s read timeout, so httpx waits it out."""
    ollama_server.add_model("llama3")
    ollama_server.reply("ok")
    ollama_server.chat_mode = "trickle"
    ollama_server.trickle_after = 1  # the first token at once, then a trickle of ~150 bytes
    ollama_server.trickle_interval = 0.01
    chat = ChatOllama(base_url=ollama_server.url, model="llama3", client_kwargs={"timeout": 1})
    assert "".join(c.content for c in chat.stream("hi")) == "ok"
    assert ollama_server.trickled > 100


def test_the_deadline_transport_ends_a_trickle_at_the_token_deadline(ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.chat_mode = "trickle"
    chat = ChatOllama(base_url=ollama_server.url, model="llama3", client_kwargs={"timeout": 5},
                      sync_client_kwargs={"transport": deadline_transport()})
    stream = chat.stream("hi")
    with pytest.raises(httpx.ReadTimeout) as caught:
        with token_wait(0.5):
            next(stream)
    assert failures.classify(caught.value) is failures.TIMED_OUT


# --- through the router -----------------------------------------------------------------------


def test_a_trickle_before_the_first_token_fails_over_to_the_next_model(two, real_registry):
    router, a, b, tiny, active, other = two
    a.chat_mode = "trickle"  # headers at once, then one byte every 0.05 s: never a whole token
    b.reply("from b")
    notices = []
    routed = router.stream("general", HI, on_notice=notices.append)
    assert collect(routed) == "from b"
    assert routed.route.model.model_id == other.model_id
    assert chat_models(a) == ["llama3"] and chat_models(b) == ["mistral"]
    (notice,) = notices
    assert "failed (no answer within its timeout); retrying with mistral" in notice
    assert real_registry.get_model(active.model_id).is_available is False
    assert [attempt.status for attempt in routed.attempts] == ["failed_over", "ok"]


def test_a_trickle_after_the_first_token_stops_the_answer_with_no_token_for_n_s(two):
    router, a, b, tiny, active, other = two
    a.reply("first ", "second ", "third")
    a.chat_mode = "trickle"
    a.trickle_after = 1  # "first " at once, then the rest one byte at a time
    shown = []
    with pytest.raises(StreamBroken) as caught:
        collect(router.stream("general", HI), shown)
    assert "".join(shown) == "first "
    assert "stopped: no token for 1 s" in caught.value.message
    assert "\n" not in caught.value.message
    assert chat_models(b) == [] and chat_models(tiny) == []  # text was shown: never retried


def test_a_hang_after_the_first_token_stops_the_answer_with_no_token_for_n_s(two):
    router, a, b, tiny, active, other = two
    a.reply("first ", "second ")
    a.chat_mode = "hang_mid_stream"
    a.die_after = 1
    shown = []
    with pytest.raises(StreamBroken, match="stopped: no token for 1 s"):
        collect(router.stream("general", HI), shown)
    assert shown[0] == "first " and "second " not in shown


def test_a_trickle_with_nowhere_to_fail_over_is_a_timeout(real_registry, ollama_servers,
                                                          dead_url):
    (a,) = ollama_servers(1)
    a.add_model("llama3")
    real_registry.add_model("general", a.url, "llama3", timeout=1)
    router = make_router(real_registry, dead_url)  # the fallback is down
    router.route("general")
    a.chat_mode = "trickle"
    with pytest.raises(ModelTimedOut, match="did not answer within its timeout of 1 s"):
        collect(router.stream("general", HI))


def test_each_wait_gets_the_whole_timeout_so_a_slow_steady_answer_completes(two):
    """The gap is measured from the last token, not from the start: an answer of many tokens,
    each well within the timeout, arrives whole even when the whole takes longer than it."""
    router, a, b, tiny, active, other = two
    a.reply(*[f"w{i} " for i in range(7)])
    a.chat_mode = "slow"
    a.delay = 0.2  # 6 gaps of 0.2 s: more than the 1 s timeout in all, each far within it
    assert collect(router.stream("general", HI)) == "".join(f"w{i} " for i in range(7))
    assert chat_models(b) == []


# --- what a user of `ai-cli chat` sees ---------------------------------------------------------


@pytest.mark.process
def test_ai_cli_chat_ends_a_trickled_answer_with_one_line(cli, ollama_servers, real_redis,
                                                          key_prefix):
    a, b = ollama_servers(2)
    a.add_model("llama3")
    b.add_model("mistral")
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    registry.add_model("general", a.url, "llama3", timeout=1)
    registry.add_model("general", b.url, "mistral", timeout=1, set_active=False)
    a.reply("first ", "second ", "third")
    a.chat_mode, a.trickle_after = "trickle", 1
    proc = cli.run("chat", "the question")
    assert proc.returncode == 1
    assert proc.stdout.startswith("first ") and "second" not in proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "stopped: no token for 1 s" in lines[0], proc.stderr
    assert chat_models(b) == []

    a.trickle_after = 0  # now not even a first token: the next model answers
    b.reply("from b")
    proc = cli.run("chat", "again")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from b\n"
    assert "retrying with mistral" in proc.stderr

"""Every request fits the model's window, and every answer is logged: through the real Router,
ChatOllama and the Ollama-protocol test server (reporting a 1,024-token window and its own
prompt_eval_count / eval_count), on a real Redis."""

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from invariants import answer_log_problems
from ollama_fixtures import ollama_server, ollama_servers  # noqa: F401
from ollama_server import MESSAGE_TOKENS, PROMPT_CHARS_PER_TOKEN
from registry.answer_log import AnswerLog
from registry.calibration import KEY as CALIBRATION_KEY
from registry.calibration import field_for
from router.errors import StreamBroken
from router.context import tokens_for
from router_helpers import make_router, ask

WINDOW = 1024


def long_session(turns: int = 30) -> list:
    messages = [SystemMessage("SYSTEM: answer in French.")]
    for i in range(turns):
        messages += [HumanMessage(f"question {i}: " + "words " * 40),
                     AIMessage(f"answer {i}: " + "mots " * 40)]
    return messages + [HumanMessage("NEWEST: what did I ask first?")]


@pytest.fixture
def scene(real_registry, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.context_length = WINDOW
    model = real_registry.add_model("general", ollama_server.url, "llama3", timeout=30)
    router = make_router(real_registry, ollama_server.url)
    return router, model, ollama_server


def ask(router, messages, notices=None, **kwargs):
    tell = notices.append if notices is not None else None
    stream = router.stream("general", messages, on_notice=tell, **kwargs)
    text = "".join(chunk.content for chunk in stream)
    return stream, text


def test_a_long_session_is_trimmed_to_fit_and_keeps_system_prompt_and_newest_question(scene):
    router, model, server = scene
    notices: list[str] = []
    stream, _ = ask(router, long_session(), notices)
    sent = server.chat_requests[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "SYSTEM: answer in French."}
    assert sent["messages"][-1]["content"] == "NEWEST: what did I ask first?"
    assert sent["messages"][1]["role"] == "user"
    assert len(sent["messages"]) < len(long_session())
    num_ctx = sent["options"]["num_ctx"]
    assert 0 < num_ctx <= WINDOW
    assert server.counts[-1]["prompt_eval_count"] < num_ctx  # the server's own count fits
    trimmed = len(long_session()) - len(sent["messages"])
    assert notices == [
        f"ℹ {trimmed} earlier messages left out to fit llama3's 1,024-token window"]
    assert stream.answer.trimmed == trimmed


def test_a_short_request_is_sent_whole_with_the_window_as_num_ctx(scene):
    router, model, server = scene
    server.context_length = 131072
    notices: list[str] = []
    ask(router, [HumanMessage("hi")], notices)
    # the model's 131,072 capped by defaults.max_context (8,192), however short the request
    assert server.chat_requests[-1].body["options"]["num_ctx"] == 8192
    assert notices == []


def test_the_notice_is_given_once_per_request_even_across_a_failover(real_registry,
                                                                     ollama_servers):
    first, second = ollama_servers(2)
    for server in (first, second):
        server.add_model("llama3")
        server.context_length = WINDOW
    real_registry.add_model("general", first.url, "llama3", timeout=30)
    real_registry.add_model("general", second.url, "llama3", timeout=30, set_active=False)
    router = make_router(real_registry, second.url)
    router.balancer.enabled_by_default = False  # the active host first: it is the one refused
    trims: list[str] = []
    stream = router.stream("general", long_session(), on_notice=lambda _: None,
                           on_trim=trims.append)
    first.mode = "down"  # after the route was chosen: the request itself is refused
    list(stream)
    assert len(trims) == 1
    assert [a.status for a in stream.attempts] == ["failed_over", "ok"]
    log = [(r.url, r.status) for r in router.answers.recent()]
    assert log == [(second.url, "ok"), (first.url, "failed_over")]
    stats = {s.url: s for s in router.answers.stats()}
    assert (stats[first.url].answers, stats[first.url].failovers) == (0, 1)
    assert (stats[second.url].answers, stats[second.url].failovers) == (1, 0)


def test_user_num_ctx_overrides_window_and_cap(scene):
    router, model, server = scene
    ask(router, long_session(), options={"num_ctx": 4096, "temperature": 0.1})
    sent = server.chat_requests[-1].body
    assert sent["options"] == {"num_ctx": 4096, "temperature": 0.1}
    assert server.counts[-1]["prompt_eval_count"] < 4096
    assert len(sent["messages"]) < len(long_session())


def test_calibration_moves_the_estimate_toward_the_servers_count(scene, real_redis, key_prefix):
    router, model, server = scene
    messages = [HumanMessage("tell me about " + "llamas and alpacas " * 60)]
    before_ratio = router.context.calibration.ratio(model)
    ask(router, messages)
    counted = server.counts[-1]["prompt_eval_count"]
    fitted = router.context.fit(model, messages)
    before = abs(tokens_for(fitted.chars, 1, before_ratio) - counted)
    after_ratio = router.context.calibration.ratio(model)
    after = abs(tokens_for(fitted.chars, 1, after_ratio) - counted)
    assert after < before
    assert abs(after_ratio - PROMPT_CHARS_PER_TOKEN) < abs(before_ratio - PROMPT_CHARS_PER_TOKEN)
    stored = real_redis.hget(f"{key_prefix}{CALIBRATION_KEY}", field_for(model))
    assert float(stored) == after_ratio  # kept with the model, for every process
    for _ in range(4):
        ask(router, messages)
    settled = router.context.calibration.ratio(model)
    assert abs(tokens_for(fitted.chars, 1, settled) - counted) <= MESSAGE_TOKENS + 2


def test_every_answer_is_logged_with_the_servers_counts(scene):
    router, model, server = scene
    server.reply("one", "two", "three")
    stream, text = ask(router, [HumanMessage("count to three")], session_id="session_0000abcd")
    assert text == "onetwothree"
    [record] = router.answers.recent()
    assert record.input_tokens == server.counts[-1]["prompt_eval_count"]
    assert record.output_tokens == server.counts[-1]["eval_count"] == 3  # one a chunk
    assert (record.model_id, record.model_name, record.url) == (model.model_id, "llama3",
                                                                server.url)
    assert (record.via, record.status, record.trimmed) == ("active", "ok", 0)
    assert record.session_id == "session_0000abcd"
    assert record.ttft_ms is not None and record.total_ms >= record.ttft_ms
    assert record.tokens_per_s == round(3 / 700_000 * 1e9, 1)  # eval_count / eval_duration
    assert stream.answer.to_json() == {**record.to_json(), "time": stream.answer.time}
    assert answer_log_problems(router.registry.redis, router.registry.keys.prefix) == []


def test_a_stopped_and_a_broken_answer_are_logged_so(scene):
    router, model, server = scene
    server.reply("a", "b", "c", "d")
    chunks = iter(router.stream("general", [HumanMessage("go")]))
    next(chunks)
    chunks.close()  # what Ctrl-C does to the stream
    server.chat_mode = "die_mid_stream"
    with pytest.raises(StreamBroken):
        list(router.stream("general", [HumanMessage("go")]))
    assert [r.status for r in router.answers.recent()] == ["broken", "stopped"]


def test_the_log_stays_capped(real_registry, real_redis, key_prefix):
    log = AnswerLog(real_registry, max_entries=10)
    from registry.answer_log import AnswerRecord

    for i in range(300):
        assert log.append(AnswerRecord("model_0000000a", "llama3", "http://127.0.0.1:1", "active",
                                       output_tokens=i))
    length = real_redis.xlen(f"{key_prefix}log:answers")
    assert 10 <= length <= 10 + 100  # MAXLEN ~ trims whole stream nodes (100 entries each)
    assert log.recent(1)[0].output_tokens == 299
    assert answer_log_problems(real_redis, key_prefix, cap=10) == []
    real_redis.xadd(f"{key_prefix}log:answers", {"answer": '{"status": "fine"}'})
    assert answer_log_problems(real_redis, key_prefix, cap=10) != []  # the check can fail
    assert log.recent(1)[0].output_tokens == 299  # the foreign entry is skipped


def test_a_redis_without_the_log_still_answers(scene, real_redis, key_prefix):
    router, model, server = scene
    real_redis.set(f"{key_prefix}log:answers", "not a stream")
    real_redis.set(f"{key_prefix}{CALIBRATION_KEY}", "not a hash")
    _, text = ask(router, [HumanMessage("still there?")])
    assert text == "Hello from the test server."
    assert router.answers.recent() == []  # nothing readable, nothing raised
    assert real_redis.get(f"{key_prefix}log:answers") == "not a stream"


def test_a_password_in_the_url_never_reaches_the_log(real_registry, ollama_server, real_redis,
                                                     key_prefix):
    ollama_server.add_model("llama3")
    url = ollama_server.url.replace("http://", "http://me:s3cret@")
    real_registry.add_model("general", url, "llama3", timeout=30)
    router = make_router(real_registry, ollama_server.url)
    ask(router, [HumanMessage("hi")])
    [record] = router.answers.recent()
    assert "s3cret" not in record.url and "***" in record.url
    assert answer_log_problems(real_redis, key_prefix) == []

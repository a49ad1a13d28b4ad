"""One `num_ctx` per model entry: what the Ollama-protocol test server received through the real
Router and ChatOllama, on a real Redis. Ollama reloads a model whose `num_ctx` changes, so
requests of every size to one entry carry the same one; only `-o num_ctx` changes it."""

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from ollama_fixtures import ollama_server  # noqa: F401
from registry.answer_log import AnswerLog
from router.errors import InputTooBig
from router_helpers import ask, make_router


def session(turns: int, words: int = 40) -> list:
    messages = [SystemMessage("Be brief.")]
    for i in range(turns):
        messages += [HumanMessage(f"q{i} " + "word " * words), AIMessage(f"a{i} " + "mot " * words)]
    return messages + [HumanMessage("the newest question")]


def sent_num_ctx(server) -> list[int]:
    return [r.body["options"]["num_ctx"] for r in server.chat_requests]


@pytest.fixture
def llama(real_registry, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.context_length = 32768
    return ollama_server


def test_requests_of_different_sizes_send_the_same_num_ctx(real_registry, llama):
    real_registry.add_model("general", llama.url, "llama3", timeout=30)
    router = make_router(real_registry, llama.url)
    for turns in (0, 3, 1, 12, 0):
        ask(router, "general", session(turns))
    # the model's 32,768-token window capped by defaults.max_context (8,192), every time
    assert sent_num_ctx(llama) == [8192] * 5


def test_the_entrys_num_ctx_is_sent_and_the_user_option_overrides_it(real_registry, llama):
    real_registry.add_model("general", llama.url, "llama3", timeout=30, num_ctx=2048)
    router = make_router(real_registry, llama.url)
    ask(router, "general", session(0))
    ask(router, "general", session(2), options={"num_ctx": 4096})
    ask(router, "general", session(5))
    assert sent_num_ctx(llama) == [2048, 4096, 2048]


def test_a_session_trimmed_to_the_entrys_window_keeps_its_num_ctx(real_registry, llama):
    real_registry.add_model("general", llama.url, "llama3", timeout=30, num_ctx=1024)
    router = make_router(real_registry, llama.url)
    notices: list[str] = []
    ask(router, "general", session(30), on_notice=notices.append)
    assert sent_num_ctx(llama) == [1024]
    assert llama.counts[-1]["prompt_eval_count"] < 1024  # the server's own count fits
    assert len(notices) == 1 and "1,024-token window" in notices[0]


def test_an_input_too_big_for_the_window_is_not_sent_and_says_so(real_registry, llama):
    real_registry.add_model("general", llama.url, "llama3", timeout=30, num_ctx=2048)
    router = make_router(real_registry, llama.url)
    big = [SystemMessage("Be brief."), HumanMessage("x" * 40_000)]  # ~11,400 tokens
    with pytest.raises(InputTooBig) as caught:
        ask(router, "general", big)
    message = str(caught.value)
    assert llama.chat_requests == []  # nothing sent
    assert AnswerLog(real_registry).recent(None) == []  # and nothing logged as an answer
    assert "\n" not in message and message.startswith("Not sent: the input is about 11,")
    assert "llama3's window (num_ctx) is 2,048 tokens" in message
    assert "-o num_ctx 14336" in message  # what to do: a window it fits, within the model's
    assert caught.value.exit_code == 2 and caught.value.http_status == 400


def test_an_input_bigger_than_the_model_itself_takes_says_that_instead(real_registry, llama):
    llama.context_length = 4096
    real_registry.add_model("general", llama.url, "llama3", timeout=30)
    router = make_router(real_registry, llama.url)
    with pytest.raises(InputTooBig, match="llama3 itself takes at most 4,096 tokens"):
        ask(router, "general", [HumanMessage("y" * 40_000)])
    assert llama.chat_requests == []


def test_an_old_hash_reads_as_the_defaults_and_a_bad_value_marks_the_entry_corrupt():
    from registry.model import ModelConfig

    old = {"model_id": "model_1a2b3c4d", "model_type": "general", "url": "http://127.0.0.1:1",
           "model_name": "llama3", "timeout": "30", "is_active": "0",
           "added_at": "2026-12-07T09:00:00+00:00", "last_checked": "", "is_available": ""}
    model = ModelConfig.from_hash(old)
    assert (model.num_ctx, model.parallel, model.problem) == (None, 1, None)
    stored = ModelConfig.from_hash({**old, "num_ctx": "4096", "parallel": "3"})
    assert (stored.num_ctx, stored.parallel, stored.problem) == (4096, 3, None)
    for name, value in (("num_ctx", "12"), ("num_ctx", "lots"), ("parallel", "0")):
        bad = ModelConfig.from_hash({**old, name: value})
        assert bad.corrupt and f"{name} {value!r} is not a whole number" in bad.problem

"""router/context.py: the pure fit of messages into a window, and calibration."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from router.context import (
    answer_room,
    calibrated,
    estimate_tokens,
    fit,
    stub_tool_output,
    tokens_for,
    window_for,
)


def history(turns: int, size: int = 400) -> list:
    messages = [SystemMessage("You are terse.")]
    for i in range(turns):
        messages += [HumanMessage(f"q{i} " + "x" * size), AIMessage(f"a{i} " + "y" * size)]
    return messages + [HumanMessage("the newest question")]


def test_a_short_request_is_sent_whole_with_the_window_as_num_ctx():
    messages = history(2)
    result = fit(messages, 8192)
    assert result.messages == messages and result.trimmed == 0
    assert result.num_ctx == 8192 and not result.overflows
    assert result.estimate + answer_room(8192) <= result.num_ctx
    assert result.notice("llama3") is None


def test_a_long_history_keeps_the_system_prompt_the_newest_question_and_recent_turns():
    messages = history(40)
    result = fit(messages, 2048)
    assert result.trimmed > 0 and len(result.messages) + result.trimmed == len(messages)
    assert result.messages[0] is messages[0]  # system prompt
    assert result.messages[-1] is messages[-1]  # newest question
    assert result.messages[1].type == "human"  # history starts with a question
    assert result.messages[-3:-1] == messages[-3:-1]  # the most recent turn survived
    assert result.estimate + answer_room(2048) <= 2048
    assert result.num_ctx <= 2048
    assert result.notice("llama3.1:8b") == (
        f"ℹ {result.trimmed} earlier messages left out to fit llama3.1:8b's 2,048-token window")


def test_the_newest_question_stays_even_when_it_alone_is_too_big():
    messages = [SystemMessage("s"), HumanMessage("old"), AIMessage("old answer"),
                HumanMessage("z" * 20000)]
    result = fit(messages, 1024)
    assert [m.content[:3] for m in result.messages] == ["s", "zzz"]
    assert result.num_ctx == 1024  # capped by the window
    assert result.overflows  # the router refuses to send it (router/fitter.py)


def test_user_num_ctx_overrides_window_and_rounding():
    messages = history(40)
    result = fit(messages, window_for(8192, 8192, 4096, fixed=3000), options={"num_ctx": 3000})
    assert result.num_ctx == 3000 and result.window == 3000
    assert result.estimate + answer_room(3000, {"num_ctx": 3000}) <= 3000


def test_window_is_the_model_window_capped_by_max_context_else_the_default():
    assert window_for(131072, 8192, 4096) == 8192
    assert window_for(1024, 8192, 4096) == 1024
    assert window_for(None, 8192, 4096) == 4096
    assert window_for(None, 2048, 4096) == 2048


def test_num_ctx_is_the_window_whatever_the_size_of_the_request():
    # Ollama reloads a model whose num_ctx changes: short and long requests send the same one
    assert {fit(history(n), 8192).num_ctx for n in (0, 1, 5, 40)} == {8192}
    assert fit(history(1), 2048).num_ctx == 2048


def test_big_tool_outputs_are_cut_first_oldest_first():
    call = {"name": "read_file", "args": {"path": "a.py"}, "id": "c1", "type": "tool_call"}
    call2 = {**call, "id": "c2"}
    messages = [
        SystemMessage("guide"), HumanMessage("fix the bug"),
        AIMessage("", tool_calls=[call]), ToolMessage("A" * 6000, tool_call_id="c1"),
        AIMessage("", tool_calls=[call2]), ToolMessage("B" * 1500, tool_call_id="c2"),
    ]
    result = fit(messages, 2048, stub=stub_tool_output)
    assert result.trimmed == 0 and result.stubbed == 1
    old, new = result.messages[3].content, result.messages[5].content
    assert old.startswith("A") and "characters of this tool output left out" in old
    assert len(old) < 6000 and new == "B" * 1500
    assert result.estimate + answer_room(2048) <= 2048
    assert result.notice("qwen") == "ℹ 1 tool output shortened to fit qwen's 2,048-token window"


def test_an_answer_or_tool_result_never_survives_without_its_question_or_call():
    call = {"name": "list_files", "args": {}, "id": "c1", "type": "tool_call"}
    messages = [HumanMessage("q " + "x" * 3000), AIMessage("", tool_calls=[call]),
                ToolMessage("t" * 3000, tool_call_id="c1"), AIMessage("done"),
                HumanMessage("next")]
    kept = fit(messages, 1024).messages
    assert [m.type for m in kept] == ["ai", "human"]  # "done" has no call or question before it
    kept = fit(messages[:3] + [HumanMessage("again")], 1024).messages
    assert "tool" not in [m.type for m in kept]


def test_calibration_moves_the_ratio_toward_the_measured_count():
    chars, count, measured_tokens = 3000, 3, 1000 + 4 * 3  # 3.0 chars a token
    moved = calibrated(4.0, chars, count, measured_tokens)
    assert 3.0 < moved < 4.0
    before = abs(tokens_for(chars, count, 4.0) - measured_tokens)
    after = abs(tokens_for(chars, count, moved) - measured_tokens)
    assert after < before
    assert calibrated(4.0, 50, 1, 20) == 4.0  # too short to say anything
    assert calibrated(4.0, chars, count, None) == 4.0


def test_estimate_counts_characters_and_message_overhead():
    assert estimate_tokens([HumanMessage("a" * 35)], 3.5) == 10 + 4

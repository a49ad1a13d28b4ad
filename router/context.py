"""Fitting a request into the model's context window. Pure: no I/O, no langchain import.

Ollama silently drops the start of a prompt longer than `num_ctx`, system prompt included, and
reloads the model whenever `num_ctx` changes (seconds for a 7B model). So every request to one
model entry is sent with the same `num_ctx`, its window, and the messages are sized to it here:

- the window is the user's `-o num_ctx N` when given, else the entry's own (`--num-ctx` on add),
  else the model's window (or the default) capped by config.yaml's `defaults.max_context`
  (`window_for`); it is sent as `num_ctx` whatever the size of the request;
- tokens are estimated from characters (`chars_per_token`, calibrated per model from the
  `prompt_eval_count` Ollama reports; no tokenizer download), plus a few template tokens a message;
- when the messages do not fit the window minus room for the answer, the oldest turns go first:
  the system prompt and the newest question always stay. Big tool outputs (/code) are cut to a
  stub before any turn is dropped;
- when even what always stays does not fit (`Fit.overflows`: a 36k-token file for an
  8,192-token window), the request is not sent at all: `too_big_message` says how big it is,
  the window, and what to do.

Messages are duck-typed: anything with `.type` ("system", "human", "ai", "tool") and `.content`
(a string or a list of parts), as langchain's messages are; `stub(message, keep_chars)` builds
a copy of a tool message keeping only its first `keep_chars` characters, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

DEFAULT_CHARS_PER_TOKEN = 3.5  # English prose is near 4 with llama tokenizers: err on the safe side
MIN_CHARS_PER_TOKEN = 1.0
MAX_CHARS_PER_TOKEN = 8.0
MESSAGE_TOKENS = 4  # role and template tokens around each message
CONTEXT_STEP = 1024
MIN_ANSWER_ROOM = 256
MAX_ANSWER_ROOM = 2048
CALIBRATION_WEIGHT = 0.5  # how far one answer moves the ratio toward what it measured
MIN_CALIBRATION_CHARS = 200  # shorter prompts say more about the template than the text
STUB_CHARS = 100  # room for the note that replaces a cut tool output


@dataclass(frozen=True)
class Fit:
    messages: list  # what to send
    trimmed: int  # earlier messages left out
    stubbed: int  # tool outputs cut to a stub
    num_ctx: int  # the `num_ctx` option to send
    window: int  # the window the messages were fitted to
    estimate: int  # estimated prompt tokens of `messages`
    chars: int  # characters of `messages` (what calibration compares with prompt_eval_count)

    @property
    def overflows(self) -> bool:
        """What is always sent (system prompt, newest message) leaves the answer no room:
        Ollama would cut the start of the prompt without a word."""
        return self.estimate + min(MIN_ANSWER_ROOM, self.window // 2) > self.window

    def notice(self, model_name: str) -> str | None:
        """The one line saying what was left out, or None when everything was sent."""
        if not self.trimmed and not self.stubbed:
            return None
        parts = []
        if self.stubbed:
            parts.append(f"{_count(self.stubbed, 'tool output')} shortened")
        if self.trimmed:
            parts.append(f"{_count(self.trimmed, 'earlier message')} left out")
        return f"ℹ {' and '.join(parts)} to fit {model_name}'s {self.window:,}-token window"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def text_of(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content or ())


def message_chars(message: Any) -> int:
    chars = len(text_of(message))
    for call in getattr(message, "tool_calls", None) or ():
        chars += len(str(call.get("name", ""))) + len(str(call.get("args", "")))
    return chars


def estimate_tokens(messages: Sequence, chars_per_token: float = DEFAULT_CHARS_PER_TOKEN) -> int:
    chars = sum(message_chars(m) for m in messages)
    return tokens_for(chars, len(messages), chars_per_token)


def tokens_for(chars: int, count: int, chars_per_token: float) -> int:
    return -int(-chars // chars_per_token) + MESSAGE_TOKENS * count


def answer_room(window: int, options: dict | None = None) -> int:
    """Tokens kept free for the answer: `num_predict` when the user set it, else a quarter of the
    window between 256 and 2,048."""
    predict = (options or {}).get("num_predict")
    if isinstance(predict, int) and predict > 0:
        return min(predict, window // 2)
    return max(MIN_ANSWER_ROOM, min(MAX_ANSWER_ROOM, window // 4)) if window > 512 else window // 2


def round_up(tokens: int, step: int = CONTEXT_STEP) -> int:
    return max(step, -(-tokens // step) * step)


def window_for(model_window: int | None, max_context: int, default_window: int,
               fixed: int | None = None, entry: int | None = None) -> int:
    """The window to fit, sent as `num_ctx`: the user's (`fixed`, `-o num_ctx`), else the model
    entry's (`entry`, `--num-ctx` on add), else the model's (or the default) capped by
    `defaults.max_context`. It depends on none of the request's messages."""
    if fixed:
        return fixed
    if entry:
        return entry
    return max(1, min(model_window or default_window, max_context))


def fit(
    messages: Sequence,
    window: int,
    *,
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN,
    options: dict | None = None,
    stub: Callable[[Any, int], Any] | None = None,
    fixed_chars: int = 0,
) -> Fit:
    """Keep the system prompt(s), the newest message and as many recent turns as fit `window`
    minus room for the answer; cut tool outputs (oldest first, with `stub`) before dropping turns.

    `num_ctx` is `window`, whatever the messages: a model whose `num_ctx` changes is reloaded.
    `fixed_chars` are sent besides the messages whatever happens (tool schemas).
    """
    messages = list(messages)
    budget = max(1, window - answer_room(window, options))
    sizes = [message_chars(m) for m in messages]

    def tokens(chars: int, count: int) -> int:
        return tokens_for(chars + fixed_chars, count, chars_per_token)

    stubbed = 0
    if stub is not None:
        for i in _tool_outputs_oldest_first(messages):
            excess = tokens(sum(sizes), len(messages)) - budget
            if excess <= 0:
                break
            keep_chars = max(0, sizes[i] - int(excess * chars_per_token) - STUB_CHARS)
            short = stub(messages[i], keep_chars)
            messages[i], sizes[i] = short, message_chars(short)
            stubbed += 1
    keep = _kept_indexes(messages, sizes, budget, tokens)
    kept = [messages[i] for i in keep]
    chars = sum(sizes[i] for i in keep) + fixed_chars
    estimate = tokens_for(chars, len(kept), chars_per_token)
    return Fit(kept, len(messages) - len(kept), stubbed, window, window, estimate, chars)


def too_big_message(fitted: Fit, model_name: str, model_window: int | None = None) -> str:
    """The one line for a request that `fitted.overflows`: how big it is, the window, what to
    do. `model_window` is the model's own window when known (the most `num_ctx` can give)."""
    needed = round_up(fitted.estimate + MAX_ANSWER_ROOM)
    if model_window and needed > model_window:
        advice = f": {model_name} itself takes at most {model_window:,} tokens"
    else:
        advice = f", or give this request a bigger window: -o num_ctx {needed}"
    return (f"Not sent: the input is about {fitted.estimate:,} tokens; {model_name}'s window "
            f"(num_ctx) is {fitted.window:,} tokens, with room kept for the answer. Send less "
            f"(a smaller file, or the part that matters){advice}.")


def stub_tool_output(message: Any, keep_chars: int) -> Any:
    """A copy of a (langchain) tool message with only its first `keep_chars` characters."""
    text = text_of(message)
    cut = len(text) - keep_chars
    note = f"[{cut:,} characters of this tool output left out to fit the context window]"
    shown = f"{text[:keep_chars]}\n{note}" if keep_chars > 0 else note
    return message.model_copy(update={"content": shown})


def user_num_ctx(options: dict | None) -> int | None:
    """The `num_ctx` the user asked for (`-o num_ctx N`), if any."""
    value = (options or {}).get("num_ctx")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _tool_outputs_oldest_first(messages: list) -> list[int]:
    return [i for i, m in enumerate(messages) if getattr(m, "type", "") == "tool"]


def _kind(message: Any) -> str:
    return getattr(message, "type", "")


def _kept_indexes(messages: list, sizes: list[int], budget: int, tokens) -> list[int]:
    """System messages, the newest question and the last message always; then the newest turns
    that fit."""
    if not messages:
        return []
    last = len(messages) - 1
    questions = [i for i, m in enumerate(messages) if _kind(m) == "human"]
    pinned = {i for i, m in enumerate(messages) if _kind(m) == "system"} | {last}
    pinned |= set(questions[-1:])
    chars, count = sum(sizes[i] for i in pinned), len(pinned)
    chosen = set(pinned)
    for i in range(last - 1, -1, -1):
        if i in pinned:
            continue
        if tokens(chars + sizes[i], count + 1) > budget:
            break
        chosen.add(i)
        chars, count = chars + sizes[i], count + 1
    return _whole_turns(messages, sorted(chosen), pinned)


def _whole_turns(messages: list, kept: list[int], pinned: set[int]) -> list[int]:
    """Leave out what lost its other half: an answer whose question was left out (the history
    then starts with a question), a tool result whose call was left out."""
    kept_set = set(kept)
    for i in kept:
        if i in pinned or i == 0 or i - 1 in kept_set:
            continue
        kind, before = _kind(messages[i]), _kind(messages[i - 1])
        if kind == "tool" or (kind == "ai" and before == "human"):
            kept_set.discard(i)
    return sorted(kept_set)


def calibrated(ratio: float, chars: int, count: int, prompt_tokens: int | None) -> float:
    """The chars-per-token ratio moved toward what Ollama counted for a prompt of `chars`
    characters in `count` messages (`prompt_eval_count`); unchanged when that says too little."""
    if not prompt_tokens or chars < MIN_CALIBRATION_CHARS:
        return ratio
    text_tokens = prompt_tokens - MESSAGE_TOKENS * count
    if text_tokens <= 0:
        return ratio
    measured = min(MAX_CHARS_PER_TOKEN, max(MIN_CHARS_PER_TOKEN, chars / text_tokens))
    return round(ratio + CALIBRATION_WEIGHT * (measured - ratio), 4)

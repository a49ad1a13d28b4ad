"""`Attempt`: what one request to one model cost — timing, tokens, trimming, how it ended.

Timing starts when the request to that model is sent (a failed attempt before it is its own
attempt; building the client and reading the window are not counted), so a model's speed is its
own. Tokens come from Ollama's final chunk, which
ChatOllama (langchain-ollama 1.1) exposes as `usage_metadata` (`input_tokens` =
`prompt_eval_count`, `output_tokens` = `eval_count`) and `response_metadata` (the raw counts
and durations in nanoseconds). Tokens per second is Ollama's own formula,
`eval_count / eval_duration * 1e9`, else output tokens over the wall-clock time after the first
token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from registry.answer_log import AnswerRecord

NANOSECONDS = 1_000_000_000


@dataclass
class Attempt:
    model: Any  # ModelConfig or FallbackModel
    via: str
    clock: Callable[[], float] = time.perf_counter
    fit: Any = None  # router.context.Fit once the request is sized
    status: str = "ok"  # ok | stopped | broken | failed_over
    input_tokens: int | None = None
    output_tokens: int | None = None
    eval_duration_ns: int | None = None
    load_duration_ns: int | None = None  # what loading the model cost (Ollama's load_duration)
    failure: str | None = None  # the failure kind's name when it failed (router/failures.py)
    lease: Any = None  # the in-flight lease held while it runs (registry/fleet_state.py)
    started: float = field(default=0.0)
    first_token: float | None = None
    ended: float | None = None

    def __post_init__(self) -> None:
        self.started = self.clock()

    def request_sent(self) -> None:
        """The clock starts when the request goes out (not while langchain loads or the window
        is looked up): a model's time to first token is the server's."""
        self.started = self.clock()

    def see(self, chunk) -> None:
        """One chunk arrived: the first with text or a tool call sets the time to first token;
        the final one carries the counts."""
        if self.first_token is None and (_has_text(chunk) or getattr(chunk, "tool_calls", None)
                                         or getattr(chunk, "invalid_tool_calls", None)):
            self.first_token = self.clock()
        usage = getattr(chunk, "usage_metadata", None)
        if usage:
            self.input_tokens = usage.get("input_tokens", self.input_tokens)
            self.output_tokens = usage.get("output_tokens", self.output_tokens)
        meta = getattr(chunk, "response_metadata", None) or {}
        if isinstance(meta.get("eval_duration"), int):
            self.eval_duration_ns = meta["eval_duration"]
        if isinstance(meta.get("load_duration"), int):
            self.load_duration_ns = meta["load_duration"]

    def end(self, status: str) -> None:
        if self.ended is None:
            self.ended = self.clock()
            self.status = status

    @property
    def ttft_ms(self) -> int | None:
        return None if self.first_token is None else round((self.first_token - self.started) * 1000)

    @property
    def warm_ttft_ms(self) -> int | None:
        """The time to first token without the model's load time: what the host costs once
        the model is loaded (the balancer adds a load estimate where it is not)."""
        if self.ttft_ms is None:
            return None
        return max(0, self.ttft_ms - round((self.load_duration_ns or 0) / 1_000_000))

    @property
    def total_ms(self) -> int | None:
        return None if self.ended is None else round((self.ended - self.started) * 1000)

    @property
    def tokens_per_s(self) -> float | None:
        if not self.output_tokens:
            return None
        if self.eval_duration_ns:
            return round(self.output_tokens / self.eval_duration_ns * NANOSECONDS, 1)
        if self.first_token is None or self.ended is None or self.ended <= self.first_token:
            return None
        return round(self.output_tokens / (self.ended - self.first_token), 1)

    @property
    def trimmed(self) -> int:
        return getattr(self.fit, "trimmed", 0) or 0

    def record(self, session_id: str | None = None) -> AnswerRecord:
        return AnswerRecord(
            model_id=self.model.model_id, model_name=self.model.model_name,
            url=self.model.url, via=self.via, status=self.status, session_id=session_id,
            input_tokens=self.input_tokens, output_tokens=self.output_tokens,
            ttft_ms=self.ttft_ms, total_ms=self.total_ms, tokens_per_s=self.tokens_per_s,
            trimmed=self.trimmed, failure=self.failure,
        )


def _has_text(chunk) -> bool:
    content = getattr(chunk, "content", "")
    if isinstance(content, str):
        return bool(content)
    return any(p.get("text") if isinstance(p, dict) else p for p in content or ())

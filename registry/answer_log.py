"""The answer log: one entry per answer (and per failed attempt) in a capped Redis Stream.

Key (docs/ARCHITECTURE.md; `redis.key_prefix` prepends to it):

    log:answers   stream   field `answer`: the JSON below; `XADD … MAXLEN ~ 10000`

Entry (docs/ARCHITECTURE.md, "JSON shapes"): {"time", "session_id", "model_id", "model_name", "url" (password
masked), "via", "input_tokens", "output_tokens", "ttft_ms", "total_ms", "tokens_per_s",
"trimmed", "status": "ok"|"stopped"|"broken"|"failed_over", "message_id", "prompt",
"response"}. The last three point at the exchange: the stored answer's `message_id` in the
session `session_id` names, the question and the answer's text (null with `log.store_text:
false` in config.yaml, and for answers that were never saved to a session, such as `/code`).

Writing is best effort: a Redis that is down, refuses, or holds something else under the key
never blocks or breaks an answer. Reading skips entries that do not decode. Every process (and
the web API) sees the one log.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable

import redis

from registry.connection import failures as redis_failures
from registry.errors import AiCliError, RegistryRefusesWrites, say_once
from registry.model import encode_time, mask_url, now_utc

KEY = "log:answers"
MAX_ENTRIES = 10_000
STATUSES = ("ok", "stopped", "broken", "failed_over")
STATS_WINDOW = 10_000  # entries `model stats` reads (the whole capped log)
SPEED_WINDOW = 1_000  # entries the `model list` speed column reads (it must stay quick)


@dataclass(frozen=True)
class AnswerRecord:
    model_id: str | None  # None: the tinyllama fallback
    model_name: str
    url: str
    via: str
    status: str = "ok"
    session_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ttft_ms: int | None = None
    total_ms: int | None = None
    tokens_per_s: float | None = None
    trimmed: int = 0
    time: str = field(default_factory=lambda: encode_time(now_utc()))
    message_id: str | None = None  # the stored answer in the session (agent/sessions.py)
    prompt: str | None = None  # the question, as sent (None: not kept, log.store_text false)
    response: str | None = None  # the answer's text, what arrived
    failure: str | None = None  # why it failed: "unreachable", "busy", ... (router/failures.py)

    def without_text(self) -> "AnswerRecord":
        return replace(self, prompt=None, response=None)

    def mentions(self, folded: str) -> bool:
        """Whether the prompt or the answer holds `folded` (already casefolded)."""
        return any(folded in text.casefold() for text in (self.prompt, self.response) if text)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", mask_url(self.url))

    def to_json(self) -> dict:
        data = asdict(self)
        return {name: data[name] for name in FIELDS}

    @classmethod
    def from_json(cls, data: dict) -> "AnswerRecord":
        if not isinstance(data, dict) or data.get("status") not in STATUSES:
            raise ValueError("not an answer-log entry")
        return cls(
            model_id=_opt(data.get("model_id"), str), model_name=str(data.get("model_name", "")),
            url=str(data.get("url", "")), via=str(data.get("via", "")), status=data["status"],
            session_id=_opt(data.get("session_id"), str),
            input_tokens=_opt(data.get("input_tokens"), int),
            output_tokens=_opt(data.get("output_tokens"), int),
            ttft_ms=_opt(data.get("ttft_ms"), int), total_ms=_opt(data.get("total_ms"), int),
            tokens_per_s=_opt(data.get("tokens_per_s"), float),
            trimmed=int(data.get("trimmed") or 0), time=str(data.get("time", "")),
            message_id=_opt(data.get("message_id"), str), prompt=_opt(data.get("prompt"), str),
            response=_opt(data.get("response"), str), failure=_opt(data.get("failure"), str),
        )

    @property
    def model_label(self) -> str:
        return self.model_id or "fallback"


FIELDS = ("time", "session_id", "model_id", "model_name", "url", "via", "input_tokens",
          "output_tokens", "ttft_ms", "total_ms", "tokens_per_s", "trimmed", "status",
          "message_id", "prompt", "response", "failure")


def _opt(value, kind):
    if value is None or isinstance(value, bool):
        return None
    if kind is float and isinstance(value, (int, float)):
        if not math.isfinite(value):  # JSON from Redis may say NaN or Infinity
            raise ValueError(f"{value!r} is not a finite number")
        return float(value)
    if not isinstance(value, kind):
        raise ValueError(f"{value!r} is not {kind.__name__}")
    return value


class AnswerLog:
    """The `log:answers` stream; `registry` is a `registry.protocol.Registry` (its `.redis`,
    `.keys.prefix`, and `.messages` for a refusal said once)."""

    def __init__(self, registry, max_entries: int = MAX_ENTRIES, store_text: bool = True):
        self.registry = registry
        self.max_entries = max_entries
        self.store_text = store_text  # config.yaml `log.store_text`: false keeps text out
        self._said: set[str] = set()  # refusals already told (say_once)

    @property
    def key(self) -> str:
        return f"{self.registry.keys.prefix}{KEY}"

    def append(self, record: AnswerRecord) -> bool:
        """XADD the record (capped); False, and nothing raised, when Redis would not take it."""
        if not self.store_text:
            record = record.without_text()
        try:
            self.registry.redis.xadd(self.key, {"answer": json.dumps(record.to_json())},
                                     maxlen=self.max_entries, approximate=True)
        except (*redis_failures.FAILURES, redis.RedisError, AiCliError, OSError) as exc:
            refused = exc if isinstance(exc, RegistryRefusesWrites) else \
                redis_failures.refuses_writes(exc, self.registry.url or "the configured URL")
            if refused is not None:
                say_once(self.registry, refused, self._said)
            return False
        return True

    def recent(self, count: int | None = 20, model: str | None = None,
               session_id: str | None = None, query: str | None = None,
               since: datetime | None = None) -> list[AnswerRecord]:
        """Newest first; `model` matches a model id or a model name (with or without a tag);
        `query` the prompt or the answer, ignoring case; `since` answers at or after that time.
        Scans the whole capped log (at most `max_entries`): docs/SESSIONS.md has the cost."""
        folded = query.casefold() if query else None
        records = []
        for record in self._newest(STATS_WINDOW):
            if since is not None and _before(record, since):
                break  # newest first: every later entry is older still
            if model is not None and not _matches(record, model):
                continue
            if session_id is not None and record.session_id != session_id:
                continue
            if folded is not None and not record.mentions(folded):
                continue
            records.append(record)
            if count is not None and len(records) >= count:
                break
        return records

    def newest(self, window: int) -> list[AnswerRecord]:
        """The newest `window` entries, newest first (RegistryUnavailable when Redis is away)."""
        return self._newest(window)

    def stats(self, window: int = STATS_WINDOW) -> list["ModelStats"]:
        """Per-model numbers over the newest `window` entries."""
        return model_stats(self._newest(window))

    def _newest(self, count: int) -> list[AnswerRecord]:
        """Raises RegistryUnavailable (via the registry) when Redis is away: reads must say so."""
        try:
            entries = self.registry.redis.xrevrange(self.key, count=count)
        except redis_failures.FAILURES as exc:  # first: CLUSTERDOWN is a ResponseError too
            from registry.errors import RegistryUnavailable

            raise RegistryUnavailable(
                "The Redis server that keeps the answer log is unreachable. Start it, or point "
                "AI_CLI_REDIS_URL at a running server."
            ) from exc
        except redis.ResponseError:  # the key holds something else: no log to show
            return []
        records = []
        for _entry_id, fields in entries:
            raw = fields.get("answer", fields.get(b"answer"))
            try:
                records.append(AnswerRecord.from_json(json.loads(raw)))
            except (TypeError, ValueError):
                continue  # written by something else: skipped, never fatal
        return records


def _before(record: AnswerRecord, since: datetime) -> bool:
    try:
        return datetime.fromisoformat(record.time) < since
    except ValueError:  # a time that does not read: not known to be older
        return False


SINCE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: `90s`, `30m`, `1h`, `2d`, `1w` before `now`, or an ISO-8601 date or time
    (UTC unless it says otherwise). ValueError with what it takes otherwise. Pure."""
    word = text.strip().lower()
    if word[:-1].isdigit() and word[-1:] in SINCE_UNITS:
        return now - timedelta(seconds=int(word[:-1]) * SINCE_UNITS[word[-1]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since takes a span such as 30m, 1h, 2d or 1w, or a date such as "
                         f"2026-12-01, not {text!r}.") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=now.tzinfo)


def _matches(record: AnswerRecord, wanted: str) -> bool:
    if record.model_id == wanted or record.model_name == wanted:
        return True
    return ":" not in wanted and record.model_name == f"{wanted}:latest"


# --- statistics (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelStats:
    model_id: str | None
    model_name: str
    url: str
    answers: int
    ttft_ms_median: int | None
    ttft_ms_p90: int | None
    tokens_per_s_median: float | None
    failures: int
    failovers: int

    def to_json(self) -> dict:
        return asdict(self)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` 0.9 for p90); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    """The middle value, or the mean of the two middle ones (what `statistics.median` returns,
    without importing `statistics`, slow to import, on every `model list`)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def model_stats(records: Iterable[AnswerRecord]) -> list[ModelStats]:
    """Per model (id, name and URL): answers, median/p90 time to first token, median tokens per
    second, failures (broken) and failovers (attempts that failed and moved on). Busiest first."""
    groups: dict[tuple, list[AnswerRecord]] = {}
    for record in records:
        groups.setdefault((record.model_id, record.model_name, record.url), []).append(record)
    result = []
    for (model_id, name, url), group in groups.items():
        answers = [r for r in group if r.status != "failed_over"]
        ttfts = [r.ttft_ms for r in answers if r.ttft_ms is not None]
        speeds = [r.tokens_per_s for r in answers if r.tokens_per_s is not None]
        median_ttft = median(ttfts) if ttfts else None
        p90 = percentile(ttfts, 0.9)
        result.append(ModelStats(
            model_id, name, url, len(answers),
            None if median_ttft is None else round(median_ttft),
            None if p90 is None else round(p90),
            round(median(speeds), 1) if speeds else None,
            sum(r.status == "broken" for r in group),
            sum(r.status == "failed_over" for r in group),
        ))
    return sorted(result, key=lambda s: (-s.answers, s.model_name))


def speed_by_model(stats: Iterable[ModelStats]) -> dict[str, float]:
    """model id -> median tokens per second (the `model list` speed column)."""
    return {s.model_id: s.tokens_per_s_median for s in stats
            if s.model_id is not None and s.tokens_per_s_median is not None}

"""`model stats`: the answer log (registry/answer_log.py) summed up per model and per host. Pure.

Every entry of the log is one request to one model entry (an attempt: a request that failed over
logs the model that failed and the one that answered). Per group:

- `requests`: the entries; `ok` those answered whole; `stopped` those the user stopped (Ctrl-C,
  a reader that left), which say nothing about the model;
- `success_rate`: `ok` over the requests that ended by themselves (all but `stopped`), None when
  there are none;
- `failures` by kind: `broken` (output began, then the answer broke off, or a request failed with
  nowhere to go) and `failed_over` (failed before any output; the next model down the chain was
  asked);
- `ttft_ms_p50` / `ttft_ms_p90`: time to first token, nearest-rank percentiles over the requests
  that got a first token; `tokens_per_s_p50`: the median speed over those that report one;
- `busy`: attempts a host turned away with 503 "server busy" (the next host was asked): no
  failure of the model, so not in `failures` nor in the success rate;
- `in_flight` (requests running there now, from the balancer's leases) and `cooling_down_until`
  (a host: when its cooldown after refused or timed-out requests ends; None when it is not
  cooling down), filled in by `with_load` from the shared fleet state (registry/fleet_state.py);
  None when that state could not be read.

A model is its name (its replicas on several hosts are one model); a host is the `host:port` of
the entry's URL (password masked, as logged). `parallel` comes from the registry: the highest
`parallel` of the entries on that host (their OLLAMA_NUM_PARALLEL), None when none is registered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlsplit

FAILURE_KINDS = ("broken", "failed_over")


@dataclass(frozen=True)
class GroupStats:
    """The numbers of one model or one host."""

    name: str  # the model's name, or the host
    members: tuple[str, ...]  # a model: the hosts it answered on; a host: its models
    requests: int
    ok: int
    stopped: int
    failures: dict[str, int]
    ttft_ms_p50: int | None
    ttft_ms_p90: int | None
    tokens_per_s_p50: float | None
    model_ids: tuple[str, ...] = ()  # a model: its registry ids (none for the fallback)
    parallel: int | None = None  # a host: its OLLAMA_NUM_PARALLEL, from the registry
    in_flight: int | None = None  # requests running there now (the balancer's leases)
    cooling_down_until: str | None = None  # a host cooling down: until when (ISO-8601)
    busy: int = 0  # attempts turned away with 503 "server busy": no failure

    @property
    def success_rate(self) -> float | None:
        ended = self.requests - self.stopped - self.busy
        return round(self.ok / ended, 3) if ended else None

    def to_json(self, kind: str) -> dict:
        shown = {"model": ("model_name", "hosts"), "host": ("host", "models")}[kind]
        data = {shown[0]: self.name, shown[1]: list(self.members)}
        if kind == "model":
            data["model_ids"] = list(self.model_ids)
        else:
            data["parallel"] = self.parallel
        return {**data, "requests": self.requests, "ok": self.ok, "stopped": self.stopped,
                "success_rate": self.success_rate, "failures": dict(self.failures),
                "busy": self.busy,
                "ttft_ms_p50": self.ttft_ms_p50, "ttft_ms_p90": self.ttft_ms_p90,
                "tokens_per_s_p50": self.tokens_per_s_p50, "in_flight": self.in_flight,
                "cooling_down_until": self.cooling_down_until}


@dataclass(frozen=True)
class LogStats:
    models: list[GroupStats]
    hosts: list[GroupStats]
    entries: int  # log entries read
    oldest: str | None = None  # time of the oldest of them
    newest: str | None = None

    def to_json(self) -> dict:
        return {"entries": self.entries, "oldest": self.oldest, "newest": self.newest,
                "models": [m.to_json("model") for m in self.models],
                "hosts": [h.to_json("host") for h in self.hosts]}


@dataclass
class _Tally:
    """One group's numbers as the entries go by (one pass, no second list of records)."""

    members: dict = field(default_factory=dict)  # insertion-ordered set
    model_ids: dict = field(default_factory=dict)
    requests: int = 0
    ok: int = 0
    stopped: int = 0
    failures: dict = field(default_factory=lambda: dict.fromkeys(FAILURE_KINDS, 0))
    ttfts: list = field(default_factory=list)
    speeds: list = field(default_factory=list)
    busy: int = 0

    def add(self, record, member: str) -> None:
        self.members[member] = None
        if record.model_id:
            self.model_ids[record.model_id] = None
        self.requests += 1
        if record.status == "ok":
            self.ok += 1
        elif record.status == "stopped":
            self.stopped += 1
        elif record.failure == "busy":
            self.busy += 1
        elif record.status in self.failures:
            self.failures[record.status] += 1
        if record.ttft_ms is not None:
            self.ttfts.append(record.ttft_ms)
        if record.tokens_per_s is not None:
            self.speeds.append(record.tokens_per_s)

    def result(self, name: str, parallel: int | None = None) -> GroupStats:
        self.ttfts.sort()
        self.speeds.sort()
        p50, p90 = nearest_rank(self.ttfts, 0.5), nearest_rank(self.ttfts, 0.9)
        speed = nearest_rank(self.speeds, 0.5)
        return GroupStats(
            name, tuple(sorted(self.members)), self.requests, self.ok, self.stopped,
            dict(self.failures), p50, p90, None if speed is None else round(speed, 1),
            tuple(sorted(self.model_ids)), parallel, busy=self.busy)


def nearest_rank(ordered: list, share: float):
    """The nearest-rank percentile of a sorted list (`share` 0.9 for p90); None for none."""
    if not ordered:
        return None
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def host_of(url: str) -> str:
    """`host:port` of a logged URL; the URL itself when it does not parse."""
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def log_stats(records: Iterable, parallel: dict[str, int] | None = None) -> LogStats:
    """Per model and per host numbers of answer-log records (`AnswerRecord`s, any order).
    `parallel`: host -> its OLLAMA_NUM_PARALLEL (from the registry's entries). Busiest first."""
    models: dict[str, _Tally] = {}
    hosts: dict[str, _Tally] = {}
    count, oldest, newest = 0, None, None
    for record in records:
        count += 1
        host = host_of(record.url)
        models.setdefault(record.model_name, _Tally()).add(record, host)
        hosts.setdefault(host, _Tally()).add(record, record.model_name)
        if record.time and (oldest is None or record.time < oldest):
            oldest = record.time
        if record.time and (newest is None or record.time > newest):
            newest = record.time
    parallel = parallel or {}
    return LogStats(_busiest(t.result(n) for n, t in models.items()),
                    _busiest(t.result(n, parallel.get(n)) for n, t in hosts.items()),
                    count, oldest, newest)


def parallel_by_host(models: Iterable) -> dict[str, int]:
    """host -> the highest `parallel` of the registry entries on it (corrupt ones skipped)."""
    found: dict[str, int] = {}
    for model in models:
        if not model.corrupt:
            host = host_of(model.shown_url)
            found[host] = max(found.get(host, 0), model.parallel)
    return found


def _busiest(groups: Iterable[GroupStats]) -> list[GroupStats]:
    return sorted(groups, key=lambda g: (-g.requests, g.name))


def with_load(stats: LogStats, models: Iterable, load: dict | None, now: float) -> LogStats:
    """`stats` with each model's and host's in-flight count and each host's cooldown, from
    `load`: model id -> (in flight, cooling until as unix seconds or None) for the registry's
    `models`; None (fleet state unreadable) leaves them None. Pure."""
    if load is None:
        return stats
    from dataclasses import replace

    by_model: dict[str, int] = {}
    by_host: dict[str, int] = {}
    cooling: dict[str, float] = {}
    for model in models:
        if model.corrupt or model.model_id not in load:
            continue
        count, until = load[model.model_id]
        host = host_of(model.shown_url)
        by_model[model.model_name] = by_model.get(model.model_name, 0) + count
        by_host[host] = by_host.get(host, 0) + count
        if until is not None and until > now:
            cooling[host] = max(cooling.get(host, 0.0), until)
    return replace(
        stats,
        models=[replace(g, in_flight=by_model.get(g.name)) for g in stats.models],
        hosts=[replace(g, in_flight=by_host.get(g.name),
                       cooling_down_until=_iso(cooling.get(g.name))) for g in stats.hosts])


def entry_numbers(records: Iterable) -> dict[str, tuple[int | None, float | None]]:
    """model id -> (p50 time to first token in ms, success rate) over answer-log records."""
    tallies: dict[str, _Tally] = {}
    for record in records:
        if record.model_id:
            tallies.setdefault(record.model_id, _Tally()).add(record, host_of(record.url))
    numbers = {}
    for model_id, tally in tallies.items():
        result = tally.result(model_id)
        numbers[model_id] = (result.ttft_ms_p50, result.success_rate)
    return numbers


def _iso(unix: float | None) -> str | None:
    if unix is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(unix, timezone.utc).replace(microsecond=0).isoformat()

"""Choosing the host of a model served by several hosts (replicas). Pure: no I/O, no clock.

Per request, each candidate host gets a predicted time to first token:

    score = warm TTFT + in-flight / parallel × answer time + load-time estimate (when /api/ps
            does not show the model loaded there; `assume_cold` for a fresh host before it does)

- answer time: how long a request holds its slot there (a decayed average of whole warm
  answers; the TTFT until known): a place in the queue costs a whole answer, not a first token.

- warm TTFT: a time-decayed average of that host's recent TTFTs for that model (`decayed`);
  samples lose half their weight every `HALF_LIFE` (30) seconds, so a host that slowed down or
  recovered is judged by what it does now, not by an hour-old average. A host never sampled is
  scored like the best sampled one (or `UNKNOWN_TTFT_MS`): optimistic, so a new host gets its
  first requests and is then judged by them; unless its /api/ps shows part of the model in
  system memory (`offload`: Ollama's size_vram short of size, "48%/52% CPU/GPU" in `ollama
  ps`), which makes every token slower by the share of layers the CPU runs (`CPU_SLOWER`), so
  a burst before anything is measured does not fill the slots of a box that runs on its CPU.
- in-flight: requests every ai-cli process sent there and that have not ended, counted when a
  host is PICKED (leases, registry/fleet_state.py), so processes choosing at once see each
  other's choices instead of all herding onto the host that was fastest a moment ago.
- parallel: the slots of that host (its OLLAMA_NUM_PARALLEL, `--parallel` on add).

`pick` then spreads the load: random among the candidates within `NEAR` (15%) of the best (the
best alone when no other is that close, or when the others would pay a model load: "power of
two choices" would send a third of the requests to a host predicted far slower, and herding is
already checked by the in-flight term, counted at pick time); a host without a sample in the
last `STALE_S` (30) seconds gets an `EXPLORE` share so a host that recovered wins traffic back,
only where that costs little (no model load there, predicted within `EXPLORE_WITHIN` (3×) of
the best, no request in flight there already exploring it), and a host seen lately
wins a tie against one never (or, past `FORGET_S`, long not) seen; a session stays on the host
of its previous answer while that host is usable and within `STICKY` (1.5×) of the best (its
cache of the conversation is then reused). Hosts cooling down (refused or timed out lately) or
busy (answered 503 "server busy") are left out, unless no host is left: the last one is always
tried. A host where the request would start a model load (`starts_load`) ranks as if NEAR
slower: a new load must be clearly sooner than waiting where the model is, or is being, loaded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any, Sequence

HALF_LIFE = 30.0  # seconds for a TTFT sample to lose half its weight
STALE_S = 30.0  # a host whose last sample is older has "no recent sample" (exploration)
UNKNOWN_TTFT_MS = 1000.0  # a host's TTFT when no host of the model has a sample yet
LOAD_MS = 5000.0  # what loading a model costs when no load was measured on that host
LOADED_MS = 100.0  # an answer whose load_duration reached this loaded the model (else: warm)
NEAR = 1.15  # candidates within 15% of the best score are equally good
STICKY = 1.5  # a session keeps its host while within 1.5× the best score
EXPLORE = 0.1  # share of picks that go to a host with no recent sample, when there is one
CPU_SLOWER = 10.0  # a layer in system memory runs about 10x slower than one on the GPU
EXPLORE_WITHIN = 3.0  # ...if its predicted TTFT (a load included) is at most 3× the best's
FORGET_S = 300.0  # a sample older than this says nothing more: the host is scored as unsampled
COOL_FIRST = 5.0  # seconds of the first cooldown after a refused or timed-out request
COOL_MOST = 300.0  # the longest cooldown (doubling from COOL_FIRST)
BUSY_FOR = 2.0  # seconds a host that answered 503 "server busy" is passed over


@dataclass(frozen=True)
class Candidate:
    """One host of the model, as the shared fleet state saw it at pick time."""

    key: str  # the registry entry's id
    entry: Any = None  # the ModelConfig, carried through for the caller
    ttft_ms: float | None = None  # decayed warm TTFT; None: never sampled
    weight: float = 0.0  # decayed sample weight (about "samples in the last HALF_LIFE")
    sampled_at: float | None = None  # unix seconds of its last sample
    in_flight: int = 0
    parallel: int = 1
    loaded: bool | None = None  # /api/ps says loaded; None: not known (no load cost assumed)
    load_ms: float = LOAD_MS
    cooling_until: float | None = None  # unix seconds
    busy_until: float | None = None
    # decayed time a whole answer holds a slot there (loaded); None: not measured (the TTFT then)
    answer_ms: float | None = None
    offload: float = 0.0  # share of the model in system memory there (/api/ps), 0 to 1

    def slowdown(self) -> float:
        """How much slower than on a GPU holding the whole model its tokens are expected to
        be, from what /api/ps says, until its own samples say how slow it is."""
        return 1.0 + (CPU_SLOWER - 1.0) * min(1.0, max(0.0, self.offload))

    def recent(self, now: float) -> bool:
        """Sampled within STALE_S: its TTFT says what it does now."""
        return (self.ttft_ms is not None and self.sampled_at is not None
                and now - self.sampled_at <= STALE_S)

    def known_ttft(self, now: float | None) -> float | None:
        """Its TTFT, unless its last sample is older than FORGET_S (then: as if never sampled)."""
        if (self.ttft_ms is not None and now is not None and self.sampled_at is not None
                and now - self.sampled_at > FORGET_S):
            return None
        return self.ttft_ms

    def usable(self, now: float) -> bool:
        return not ((self.cooling_until or 0) > now or (self.busy_until or 0) > now)


def score(candidate: Candidate, prior_ms: float = UNKNOWN_TTFT_MS,
          now: float | None = None) -> float:
    """Predicted time to first token in ms (lower is better): the warm TTFT, plus the requests in
    flight per slot times how long each holds its slot, plus the load when the model is not
    loaded there (for a host never sampled as for any other)."""
    warm, each = _warm_and_each(candidate, prior_ms, now)
    queued = warm + each * candidate.in_flight / max(1, candidate.parallel)
    return queued + (candidate.load_ms if candidate.loaded is False else 0.0)


def _warm_and_each(candidate: Candidate, prior_ms: float, now: float | None) -> tuple:
    """(its warm TTFT, how long each request ahead of it holds a slot), in ms."""
    known = candidate.known_ttft(now)
    warm = known if known is not None else prior_ms * candidate.slowdown()
    # Each request ahead holds its slot for a whole answer, not for one first token: with the
    # answer's time known, the queue is priced by it (a first token's time until then).
    each = candidate.answer_ms if known is not None and candidate.answer_ms else warm
    return warm, each


def prior(candidates: Sequence[Candidate], now: float | None = None) -> float:
    """The TTFT assumed for a host never sampled whose GPU holds the whole model: the best of
    the sampled ones, each taken back to what it would do with the whole model on its GPU."""
    known = [t / c.slowdown() for c, t in ((c, c.known_ttft(now)) for c in candidates)
             if t is not None]
    return min(known) if known else UNKNOWN_TTFT_MS


def assume_cold(candidates: Sequence[Candidate], now: float | None) -> list[Candidate]:
    """A host never sampled whose /api/ps is not known yet, while another host is known to have
    the model loaded (its /api/ps says so, or it answered lately), is taken as not having it:
    the /api/ps cache fills in the background, and until it does a fresh host would look free
    of any load and take requests that pay one."""
    if now is None or not any(c.loaded is True or c.recent(now) for c in candidates):
        return list(candidates)
    return [replace(c, loaded=False) if c.loaded is None and c.known_ttft(now) is None else c
            for c in candidates]


def scores(candidates: Sequence[Candidate], now: float | None = None) -> dict[str, float]:
    """Every candidate's `score`, with the prior of this set of hosts."""
    candidates = assume_cold(candidates, now)
    guess = prior(candidates, now)
    return {c.key: score(c, guess, now) for c in candidates}


def pick(candidates: Sequence[Candidate], now: float, rng: random.Random | None = None,
         previous: str | None = None) -> list[Candidate]:
    """The candidates in the order to try them: the chosen host first, the rest by score.
    `previous`: the key of the host of the session's previous answer. Empty in, empty out."""
    if not candidates:
        return []
    rng = rng or random.Random()
    candidates = assume_cold(candidates, now)
    usable = [c for c in candidates if c.usable(now)]
    if not usable:  # every host cooling or busy: the one free soonest is still tried
        return sorted(candidates, key=lambda c: max(c.cooling_until or 0, c.busy_until or 0))
    scored = scores(candidates, now)
    ranked = sorted(usable, key=lambda c: (scored[c.key] * (NEAR if starts_load(c) else 1.0),
                                           -c.parallel))
    chosen = _choose(ranked, scored, rng, previous, now)
    rest = [c for c in ranked if c.key != chosen.key]
    resting = [c for c in candidates if not c.usable(now)]
    return [chosen, *rest, *resting]


def starts_load(candidate: Candidate) -> bool:
    """Whether a request sent there would start loading the model: it is not loaded there and
    nothing is in flight there (a request in flight is already loading it). A new load must be
    clearly (NEAR) sooner than waiting where the model is loaded or loading: it holds that host
    for seconds, and on a real box it may evict another model someone is using."""
    return candidate.loaded is False and candidate.in_flight == 0


def _choose(ranked: list[Candidate], scores: dict, rng: random.Random, previous: str | None,
            now: float) -> Candidate:
    best = scores[ranked[0].key]
    sticky = next((c for c in ranked if c.key == previous), None)
    if sticky is not None and scores[sticky.key] <= best * STICKY:
        return sticky
    unsampled = [c for c in ranked if not c.recent(now)]
    # the request that explores pays for it: never a load (that host gets the model when its
    # score, the load included, is the best), never a host predicted far slower (a burst
    # would send requests there while the others have free slots)
    # and never a host already being explored (a request in flight there): its sample is
    # coming, and a burst would otherwise explore it once per pick
    cheap = [c for c in unsampled
             if c.loaded is not False and c.in_flight == 0
             and scores[c.key] <= best * EXPLORE_WITHIN]
    if cheap and len(unsampled) < len(ranked) and rng.random() < EXPLORE:
        return rng.choice(cheap)
    # a load is seconds of one host's time: only the host ranked first pays one, not a host
    # drawn among those within NEAR (hosts equally good are hosts equally loaded)
    near = [c for c in ranked if scores[c.key] <= best * NEAR
            and (c.loaded is not False or c is ranked[0])]
    # at equal predicted cost a host that answered lately beats one never (or long not) seen:
    # the unknown one gets its requests by exploration, or when it is clearly the soonest
    near = [c for c in near if c.known_ttft(now) is not None] or near
    return near[0] if len(near) == 1 else rng.choice(near)


def lease_terms(candidates: Sequence[Candidate], now: float) -> list[tuple]:
    """Per candidate, what `score` needs besides the in-flight count, for the lease script
    that picks among them with the counts of the very moment (registry/fleet_state.py
    `take_soonest`): (warm TTFT ms, ms each request ahead holds a slot, parallel, load ms,
    usable). The script's score is then exactly `score`'s."""
    candidates = assume_cold(candidates, now)
    guess = prior(candidates, now)
    terms = []
    for c in candidates:
        warm, each = _warm_and_each(c, guess, now)
        terms.append((warm, each, max(1, c.parallel),
                      c.load_ms if c.loaded is False else 0.0, c.usable(now)))
    return terms


def margin(ordered: Sequence[Candidate], now: float) -> float:
    """How much sooner another host must be, at lease time, to take the request from the pick
    (`ordered[0]`): NEAR, times what the pick itself accepted over the best of the others (a
    session's host within STICKY, an explored host within EXPLORE_WITHIN), so the lease undoes
    only what others did since the pick, never the pick's own reasons."""
    scored = scores(ordered, now)
    others = [scored[c.key] for c in ordered[1:] if c.usable(now)]
    if not others or min(others) <= 0:
        return NEAR
    return NEAR * max(1.0, scored[ordered[0].key] / min(others))


def crowded(count: int, seen: int | None, parallel: int) -> bool:
    """Whether the lease just taken (`count` in flight there, this request included) shows that
    others picked the same host since this pick read its count (`seen`): in a burst, picks made
    in the same milliseconds read the same counts. When the pick's count is not known: more
    in flight than the host has slots."""
    if seen is None:
        return count > parallel
    return count > seen + 1


def reconsider(ours: Candidate, others: Sequence[Candidate], now: float,
               seen: int | None = None) -> Candidate | None:
    """The host to move a request to once its lease is counted, or None to stay. `ours`: its
    host with the real count (this request included: its place in the crowd); `others`: the
    model's other hosts as read now; `seen`: the count the pick read there.

    The requests that took `ours` since the pick (places `seen` + 1 to this one) all read the
    same other hosts at about the same moment; were each to compare only its own count, all
    but the first would move to the same other host and herd there in turn. So each replays
    the crowd in order, every place going where its first token is predicted soonest (clearly,
    by NEAR, to leave `ours`), and goes where its own place went: the crowd splits as one
    dispatcher would split it."""
    usable = [c for c in others if c.usable(now)]
    if not usable:
        return None
    first = ours.in_flight - 1 if seen is None else min(seen, ours.in_flight - 1)
    counts = {c.key: c.in_flight for c in usable}
    counts[ours.key] = first
    target = ours
    for _ in range(first, ours.in_flight):  # each place in the crowd, this request's last
        here = replace(ours, in_flight=counts[ours.key] + 1)
        moved = [replace(c, in_flight=counts[c.key] + 1) for c in usable]
        scored = scores([here, *moved], now)
        best = min(moved, key=lambda c: scored[c.key])
        target = best if scored[best.key] * NEAR < scored[here.key] else ours
        counts[target.key] += 1
    return None if target is ours else next(c for c in usable if c.key == target.key)


def decayed(average: float | None, weight: float, at: float | None, sample: float,
            now: float, half_life: float = HALF_LIFE) -> tuple[float, float]:
    """(average, weight) after one more sample: older samples count `0.5 ** (age / half_life)`."""
    old = current_weight(weight, at, now, half_life) if average is not None else 0.0
    total = old + 1.0
    return ((average or 0.0) * old + sample) / total, total


def current_weight(weight: float, at: float | None, now: float,
                   half_life: float = HALF_LIFE) -> float:
    """A stored sample weight, decayed to `now`."""
    if at is None or weight <= 0:
        return 0.0
    return weight * math.pow(0.5, max(0.0, now - at) / half_life)


def next_cooldown(previous_s: float) -> float:
    """Seconds of the next cooldown: COOL_FIRST, doubling each time, at most COOL_MOST."""
    return COOL_FIRST if previous_s <= 0 else min(COOL_MOST, previous_s * 2)


def may_cool(key: str, candidates: Sequence[Candidate], now: float) -> bool:
    """Whether the host `key` may be cooled down: not when every other host of the model is
    already cooling down or busy (the last candidate is never cooled down)."""
    return any(c.key != key and c.usable(now) for c in candidates)

"""`Balancer`: the router's side of load balancing — candidates from the shared fleet state
(registry/fleet_state.py) scored and picked by router/balance.py, leases around each attempt,
and what an attempt's end teaches (TTFT samples, cooldowns, busy hosts, the session's host).

Balancing applies to a model with two or more available replicas (hosts last seen available,
from the probe cache or the registry: nothing is probed to order them) unless it is turned off
(`routing.balance: false` in config.yaml, or `ai-cli model TYPE balance off`, which wins when
set). Off, or Redis unreadable: no order is given and the chain tries the active host first.

A driver that wants balancing builds the `Router` as agent/app.py does and calls
`router.stream(...)`, iterating the result: the stream asks the balancer for the order, holds a
lease while the request runs and reports its end.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, Iterable

from registry.fleet_state import LEASE_MARGIN, FleetState, FleetView, balance_on
from registry.model import ModelConfig
from registry.replicas import tagged_name
from router import balance
from router.balance import Candidate


PICK_FRESH = 1.0  # seconds a thread's last pick is taken as the one its next lease follows


class Balancer:
    def __init__(self, registry, enabled_by_default: bool = True, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time, state: FleetState | None = None):
        self.state = state or FleetState(registry, clock=clock)
        self.enabled_by_default = enabled_by_default
        self.rng = rng or random.Random()
        self.clock = clock
        # this thread's last pick: (when, in flight seen per entry, the hosts it chose among),
        # so the lease taken right after it can tell whether others picked the same host since
        self._last = threading.local()

    def enabled(self, model_type: str) -> bool:
        return balance_on(self.state.balance_setting(model_type), self.enabled_by_default)

    # --- choosing ----------------------------------------------------------------------------

    def order(self, hosts: Iterable[ModelConfig], session_id: str | None = None) -> tuple[str, ...]:
        """The entry ids of one model's hosts in the order to try them; () to leave the order
        to the chain (fewer than two hosts, balancing off, or no state readable)."""
        hosts = list(hosts)
        if len(hosts) < 2:
            return ()
        # the setting comes with the state, in the same round trip
        view = self.state.read(hosts, session_id, hosts[0].model_type, self.enabled_by_default)
        if view is None or not balance_on(view.balance, self.enabled_by_default):
            return ()
        found = candidates(hosts, view, self.clock())
        chosen = balance.pick(found, self.clock(), self.rng, view.previous)
        self._last.pick = (self.clock(), {c.key: c.in_flight for c in found}, hosts, found)
        return tuple(c.key for c in chosen)

    def last_pick(self, model: ModelConfig) -> tuple[int | None, list[ModelConfig] | None]:
        """What this thread's pick of a moment ago saw of `model`'s host: (in flight there, the
        hosts it chose among); (None, None) when it did not pick that host just now."""
        last = getattr(self._last, "pick", None)
        if last is None or self.clock() - last[0] > PICK_FRESH or model.model_id not in last[1]:
            return None, None
        return last[1][model.model_id], last[2]

    # --- around one attempt ------------------------------------------------------------------

    def take_soonest(self, model: ModelConfig, avoid: frozenset = frozenset()):
        """Pick and lease in one step, right after this thread's pick of `model`: the lease
        goes to `model` unless, with everyone's leases counted at that very moment, another of
        the hosts it was picked among is clearly sooner (registry/fleet_state.py
        `take_soonest`). (the entry leased, its lease), or None (no fresh pick, or no Redis)."""
        last = getattr(self._last, "pick", None)
        if last is None or self.clock() - last[0] > PICK_FRESH or model.model_id not in last[1]:
            return None
        found = [c for c in last[3] if c.key not in avoid or c.key == model.model_id]
        ordered = sorted(found, key=lambda c: c.key != model.model_id)  # the pick first
        if len(ordered) < 2:
            return None
        now = self.clock()
        terms = balance.lease_terms(ordered, now)
        got = self.state.take_soonest([c.key for c in ordered], terms,
                                      model.timeout + LEASE_MARGIN, balance.margin(ordered, now))
        if got is None:
            return None
        index, lease = got
        return ordered[index].entry, lease

    def take(self, model):
        """A lease on a slot of `model` (registered entries only), for its token deadline."""
        if not isinstance(model, ModelConfig):
            return None
        return self.state.take(model.model_id, model.timeout + LEASE_MARGIN)

    def crowded(self, model: ModelConfig, lease) -> bool:
        """Whether the lease just taken on `model` shows that others picked it since this
        thread's pick read its count (router/balance.py `crowded`)."""
        if lease is None:
            return False
        seen, _ = self.last_pick(model)
        return balance.crowded(lease.count, seen, model.parallel)

    def recheck(self, model: ModelConfig, lease, hosts: list[ModelConfig]) -> ModelConfig | None:
        """Another host to use instead of `model`, or None. Asked when the lease just taken
        found others picked the same host meanwhile (`crowded`): the host whose predicted first
        token is clearly sooner now (counting everyone's leases, this one moved there) takes
        the request; else it stays."""
        if lease is None or len(hosts) < 2 or not self.crowded(model, lease):
            return None
        if not self.enabled(model.model_type):
            return None
        view = self.state.read(hosts)
        if view is None:
            return None
        now = self.clock()
        found = candidates(hosts, view, now)
        ours = next((c for c in found if c.key == model.model_id), None)
        if ours is None:
            return None
        seen, _ = self.last_pick(model)
        best = balance.reconsider(ours, [c for c in found if c.key != model.model_id], now, seen)
        return None if best is None else best.entry

    def renew(self, lease) -> None:
        self.state.renew(lease)

    def ended(self, attempt, lease, session_id: str | None) -> None:
        """An attempt is over: release its slot; an answer teaches its warm TTFT (when it did
        not wait in the host's queue) and ends any cooldown."""
        self.state.release(lease)
        model = attempt.model
        if not isinstance(model, ModelConfig) or attempt.status != "ok":
            return
        queued = lease is not None and lease.count > model.parallel
        load_ms = (attempt.load_duration_ns or 0) / 1_000_000
        if load_ms >= balance.LOADED_MS:  # this request loaded the model there
            self.state.store_load(model.model_id, load_ms)
            self.state.mark_loaded(model.url.rstrip("/"), tagged_name(model.model_name))
        state = self.state.host(model.model_id)
        if state is not None and state.cool_s:
            self.state.recovered(model.model_id)
        warm = attempt.warm_ttft_ms
        if state is not None and warm is not None and not queued:
            now = self.clock()
            average, weight = balance.decayed(state.ttft_ms, state.weight, state.ttft_at, warm,
                                              now)
            self.state.store_ttft(model.model_id, average, weight, now)
            if attempt.total_ms is not None:  # how long it held the slot, its load left out
                held = max(float(warm), attempt.total_ms - load_ms)
                answer, answer_weight = balance.decayed(
                    state.answer_ms, state.answer_weight, state.ttft_at, held, now)
                self.state.store_answer(model.model_id, answer, answer_weight)
        self.state.remember_session(session_id, model.model_id)

    def failed(self, model, kind_name: str, hosts: Iterable[ModelConfig]) -> None:
        """A host failed before its first token: unreachable or timed out cools it down
        (doubling), unless it is the model's last usable host; busy passes it over briefly."""
        if not isinstance(model, ModelConfig):
            return
        if kind_name == "busy":
            self.state.busy(model.model_id, balance.BUSY_FOR)
            return
        if kind_name not in ("unreachable", "timed out"):
            return
        hosts = list(hosts)
        view = self.state.read(hosts) if hosts else None
        now = self.clock()
        if view is not None and not balance.may_cool(model.model_id,
                                                     candidates(hosts, view, now), now):
            return
        state = self.state.host(model.model_id)
        if state is not None:
            seconds = balance.next_cooldown(state.cool_s)
            self.state.store_cooldown(model.model_id, seconds, now + seconds)


def candidates(hosts: list[ModelConfig], view: FleetView, now: float) -> list[Candidate]:
    """The balancer's view of each host, from the shared state."""
    found = []
    for model in hosts:
        state = view.hosts.get(model.model_id)
        url = model.url.rstrip("/")
        loaded = view.loaded.get(url)
        offload = {tagged_name(name): share for name, share in view.offload.get(url, {}).items()}
        found.append(Candidate(
            model.model_id, model,
            ttft_ms=None if state is None else state.ttft_ms,
            weight=0.0 if state is None else balance.current_weight(state.weight, state.ttft_at,
                                                                    now),
            in_flight=0 if state is None else state.in_flight,
            sampled_at=None if state is None else state.ttft_at,
            parallel=model.parallel,
            loaded=None if loaded is None else tagged_name(model.model_name) in {
                tagged_name(name) for name in loaded},
            load_ms=balance.LOAD_MS if state is None or state.load_ms is None else state.load_ms,
            cooling_until=None if state is None else state.cool_until,
            busy_until=None if state is None else state.busy_until,
            answer_ms=None if state is None else state.answer_ms,
            offload=offload.get(tagged_name(model.model_name), 0.0),
        ))
    return found

"""`Router`: the right `ChatOllama` for every request, or a clear reason why there is none.

Every `route()` reads the registry afresh (one `list_models`: two pipelined Redis round trips,
measured in bench/router_bench.py), so a model added, removed or switched by another process is
used by the very next request without a restart and without a subscriber thread. Availability
comes from the `AvailabilityChecker`'s TTL cache, so a warm route costs no HTTP at all.
When Redis is down (`RegistryUnavailable`) the router routes on the tinyllama fallback alone,
saying so in the route's notice; it never raises for it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Callable

from registry.answer_log import AnswerLog
from registry.availability import AvailabilityChecker, ProbeResult
from registry.config import ConfigManager, FallbackModel
from registry.errors import RegistryUnavailable
from registry.model import ModelConfig, validate_model_type
from router.chain import REQUEST_TYPES, Route, Snapshot, choose
from router.fleet import Balancer
from router.features import Features, features_from_routes
from router.fitter import ContextFitter
from router.stream import RoutedStream

CHAT_MODEL_CACHE = 32


class Router:
    def __init__(self, registry, config: ConfigManager, checker: AvailabilityChecker, pinned=None):
        self.registry = registry
        self.config = config
        self.checker = checker
        self.pinned = dict(pinned or {})  # request_type -> model_id (a session's choice)
        self.fallback: FallbackModel = config.get_fallback_model()
        self.context = ContextFitter(registry, config, checker)  # num_ctx and trimming
        self.answers = AnswerLog(registry, store_text=config.log_store_text)  # log:answers
        # host choice between replicas, shared through Redis (router/fleet.py)
        self.balancer = Balancer(registry, enabled_by_default=config.routing_balance)
        self._chat_models: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._probing: set[str] = set()  # hosts being probed in the background

    # --- choosing ----------------------------------------------------------------------------

    def snapshot(self, request_type: str | None = None, pinned_model_id: str | None = None,
                 model_id: str | None = None):
        """`model_id`: a model asked for this one request (`-m`), of any type."""
        pinned = dict(self.pinned)
        if pinned_model_id is not None and request_type is not None:
            pinned[request_type] = pinned_model_id
        # A dead Redis fails a read in about 50 ms (one quick retry, registry/connection/), and
        # the program's ResilientRegistry answers from config.yaml meanwhile: no backoff here.
        try:
            # A corrupt entry is listed by `model list` but never routed to.
            models = tuple(m for m in self.registry.list_models() if not m.corrupt)
        except RegistryUnavailable as exc:
            return Snapshot((), self.fallback, registry_problem=str(exc).rstrip("."), pinned=pinned)
        return Snapshot(models, self.fallback, pinned=pinned, requested=model_id)

    def route(self, request_type: str, pinned_model_id: str | None = None,
              model_id: str | None = None, needs: tuple[str, ...] = (), *,
              balanced: bool = False, avoid: frozenset = frozenset(),
              session_id: str | None = None) -> Route:
        """`needs`: capabilities the request requires (router/requirements.py). `balanced`:
        order the first model's hosts by the balancer (a request about to be sent does; status
        and listings do not). `avoid`: entries this request already tried."""
        validate_model_type(request_type)
        snapshot = self.snapshot(request_type, pinned_model_id, model_id)
        if avoid:
            snapshot = replace(snapshot, avoid=frozenset(avoid))
        availability = self.checker.check
        if balanced:
            snapshot = self._balanced(request_type, snapshot, session_id)
            availability = self._known_for(frozenset(snapshot.order))
        if needs:
            from router.requirements import choose_capable

            return choose_capable(request_type, snapshot, availability, self.has, needs)
        return choose(request_type, snapshot, availability)

    def _known_for(self, balanced: frozenset):
        """Availability for a balanced request: the hosts the balancer ordered were chosen
        among those known available (probe cache, else the registry's stored availability), so
        they are not probed again on the request path; one whose cache ran out is re-probed in
        the background. A host that went down since fails at once and the request moves to
        another host of the model (failover). Everything else is checked as usual."""
        if not balanced:
            return self.checker.check

        def availability(model) -> ProbeResult:
            if not isinstance(model, ModelConfig) or model.model_id not in balanced:
                return self.checker.check(model)
            cached = self.checker.cached(model)
            if cached is not None:
                return cached
            self._probe_later(model)
            return self.known(model)

        return availability

    def has(self, model, capability: str) -> bool:
        """Whether `model` has the capability (the user's override applied); the tinyllama
        fallback, whose capabilities nobody set, has none that a request needs."""
        if not isinstance(model, ModelConfig):
            return False
        return capability in (self.checker.capabilities(model) or ())

    def _balanced(self, request_type: str, snapshot: Snapshot, session_id: str | None):
        """The snapshot with the balancer's order of the first model's usable hosts; a host
        pinned with `name@host` is never balanced away."""
        chosen = snapshot.active(request_type)
        if (chosen is None or snapshot.host_pinned or snapshot.entry_named
                or snapshot.registry_problem):
            return snapshot
        hosts = []
        for model in snapshot.first_hosts(chosen):
            if model.model_id in snapshot.avoid:
                continue
            if self.known(model).is_available:
                hosts.append(model)
            elif self.checker.cached(model) is None:  # down when last seen, long enough ago
                self._probe_later(model)  # so a host that came back wins traffic back
        try:
            order = self.balancer.order(hosts, session_id)
        except Exception:  # noqa: BLE001 - balancing never breaks a request: active host first
            return snapshot
        return replace(snapshot, order=order) if order else snapshot

    def _probe_later(self, model) -> None:
        """Probe a host last seen down in a background thread (never on the request path): once
        it answers, the next request counts it among the model's hosts again."""
        with self._lock:
            if model.model_id in self._probing:
                return
            self._probing.add(model.model_id)

        def probe() -> None:
            try:
                self.checker.check(model, force=True)
            except Exception:  # noqa: BLE001 - a probe that fails changes nothing
                pass
            finally:
                with self._lock:
                    self._probing.discard(model.model_id)

        from registry import background

        background.start(probe, name="probe-later")

    def take_soonest(self, model, avoid: frozenset = frozenset()):
        """(the entry, its lease): the request's host picked and leased in one step with the
        counts of that moment (router/fleet.py `Balancer.take_soonest`); None to take a plain
        lease on `model` (not balanced, or no Redis)."""
        if not isinstance(model, ModelConfig):
            return None
        try:
            return self.balancer.take_soonest(model, avoid)
        except Exception:  # noqa: BLE001 - balancing never breaks a request
            return None

    def recheck(self, model, lease, avoid: frozenset = frozenset()):
        """Another host of `model` when the lease just taken shows others picked it since this
        request's pick read its count (several processes picking at once: router/fleet.py
        `Balancer.recheck`); None to keep it."""
        if not isinstance(model, ModelConfig) or lease is None:
            return None
        try:
            if not self.balancer.crowded(model, lease):
                return None
            _, hosts = self.balancer.last_pick(model)  # the hosts this request was picked among
            if hosts is None:
                hosts = [m for m in self.snapshot().first_hosts(model)
                         if self.known(m).is_available]
            return self.balancer.recheck(model, lease,
                                         [m for m in hosts if m.model_id not in avoid])
        except Exception:  # noqa: BLE001 - balancing never breaks a request
            return None

    def routes(self, probe: bool = True) -> dict[str, Route]:
        """Both routes from one registry read. `probe=False`: from what is known already (the
        probe cache, else the registry's stored availability), asking no server."""
        snapshot = self.snapshot()
        availability = self.checker.check if probe else self.known
        return {t: choose(t, snapshot, availability) for t in REQUEST_TYPES}

    def known(self, model) -> ProbeResult:
        """A model's availability without asking its server: the probe cache, else the stored
        `is_available`; never checked reads as available (the next request would try it)."""
        cached = self.checker.cached(model)
        if cached is not None:
            return cached
        if isinstance(model, ModelConfig) and model.is_available is False:
            return ProbeResult(model.model_id, False, "unreachable when last checked", None)
        return ProbeResult(model.model_id, True, None, None)

    # --- reporting ---------------------------------------------------------------------------

    def features(self, routes: dict[str, Route] | None = None, probe: bool = True) -> Features:
        routes = routes or self.routes(probe)
        coder = routes["coder"]
        if probe:
            tools = coder.available and self.checker.supports_tools(coder.model)
        else:
            facts = self.checker.shown(coder.model) if coder.available else None
            tools = facts is not None and facts.tools
        return features_from_routes(routes["general"], coder, tools)

    def off_reason(self, feature: str) -> str | None:
        """Why `feature` (a `Features` field) is off right now, or None when it is on.

        Chat needs the general route only: asking for both routes would probe the coder's
        server too, and one that hangs would hold every message for a probe timeout.
        """
        if feature == "chat":
            general = self.route("general")
            return None if general.available else general.notice
        features = self.features()
        if getattr(features, feature, False):
            return None
        return features.reasons.get(feature) or f"The {feature} feature is off."

    def status(self, probe: bool = True) -> dict:
        """The status JSON (docs/ARCHITECTURE.md, "JSON shapes"): routes, the fallback (with its
        availability), features. `probe=False` asks no server and writes nothing (the web's
        `GET /models/status`); the fallback then reads `null` until something probed it."""
        routes = self.routes(probe)
        if probe:
            result = self.checker.check(self.fallback)
        else:
            result = self.checker.cached(self.fallback) or ProbeResult(
                None, None, "not checked yet: POST /models/check probes it", None)
        fallback = {**self.fallback.to_json(), "is_available": result.is_available,
                    "reason": result.reason}
        return {
            "routes": {t: r.to_json() for t, r in routes.items()},
            "fallback": fallback,
            "features": self.features(routes, probe).to_json(),
        }

    # --- talking to the model ----------------------------------------------------------------

    def chat_model(self, model):
        """The `ChatOllama` for a model, reused while its URL, name and timeout are unchanged."""
        key = (model.url, model.model_name, model.timeout)
        with self._lock:
            cached = self._chat_models.get(key)
        if cached is not None:
            return cached
        from router.lazy_langsmith import defer_langsmith_types

        defer_langsmith_types()  # before LangChain's first import (router/lazy_langsmith.py)
        from langchain_ollama import ChatOllama

        from router.deadline_transport import deadline_transport

        built = ChatOllama(
            base_url=model.url,
            model=model.model_name,
            # ChatOllama has no timeout field; without this it waits forever (router/failures.py).
            client_kwargs={"timeout": model.timeout},
            # Reads end by the token deadline (router/deadline.py). With a transport of its own,
            # httpx ignores proxy variables: requests go where the URL says, as probes do.
            sync_client_kwargs={"transport": deadline_transport()},
        )
        with self._lock:
            if len(self._chat_models) >= CHAT_MODEL_CACHE:
                self._chat_models.clear()
            return self._chat_models.setdefault(key, built)

    def stream(self, request_type: str, messages: list, tools: list | None = None,
               pinned_model_id: str | None = None, on_notice=None,
               options: dict | None = None, *, model_id: str | None = None,
               session_id: str | None = None, on_trim=None, on_route=None,
               face: str | None = None, needs: tuple[str, ...] = ()) -> RoutedStream:
        """Iterate the result for `AIMessageChunk`s; see `RoutedStream` for failover.

        `options`: Ollama options for this request (router/options.py), passed to `ChatOllama`.
        `model_id`: a model asked for this request only (`-m`); it comes first, ahead of the
        pinned and the active model, with the same failover (and notices) when it cannot answer.
        `session_id` goes into the answer log; `on_trim` (default `on_notice`) gets the one line
        saying what was left out to fit the model's window; `on_route` the route chosen (again
        after a failover); `face` names where the request came from in the log ("api").
        `needs`: the capabilities every model tried must have (images: vision;
        router/requirements.py).
        """
        return RoutedStream(self, request_type, messages, tools, pinned_model_id, on_notice,
                            options=options, model_id=model_id, session_id=session_id,
                            on_trim=on_trim, on_route=on_route, face=face, needs=needs)

    def finish(self, attempt, session_id: str | None = None,
               exchange: Callable[[], dict] | None = None, face: str | None = None) -> None:
        """An attempt ended: calibrate the model's token estimate, log the answer. Best effort.
        `exchange` gives the log entry's pointer and text (message_id, prompt, response)."""
        try:
            self.balancer.ended(attempt, attempt.lease, session_id)
        except Exception:  # noqa: BLE001 - accounting never breaks an answer
            pass
        try:
            if attempt.status == "ok":
                self.checker.answered(attempt.model)  # no probe before the next message
            if attempt.fit is not None and attempt.status == "ok" and attempt.input_tokens:
                self.context.observe(attempt.model, attempt.fit, attempt.input_tokens)
            record = replace(attempt.record(session_id), face=face)
            if exchange is not None:
                record = replace(record, **exchange())
            self.answers.append(record)
        except Exception:  # noqa: BLE001 - accounting never breaks an answer
            pass

"""`RoutedStream`: one streamed request through the fallback chain, with failover.

- The route is chosen when the stream is created, so its notice can be shown before any output;
  `on_route` gets it then, and again after a failover.
- Before the first chunk, a failure that means "this model is not usable" (connection refused or
  timed out connecting, HTTP 404 for the model) marks the model unavailable and retries on the
  next route down the chain: the same model on another host as often as it has hosts, another
  model ONCE; never past a host pinned with `name@host` (router/chain.py). `on_notice` receives
  one line per retry, naming the host that takes over, and `.route` becomes the route used.
- A model served by several hosts is balanced (router/fleet.py): the route's host is the
  balancer's pick, a lease counts the request in flight there from before it is sent until it
  ends (renewed as tokens come), and a 503 "server busy" tries another host without marking the
  busy one unavailable. A 400 is never retried.
- After output began, any failure raises `StreamBroken`: retrying would repeat text already shown.
- The model's timeout is a deadline for each token (router/deadline.py): the first must come
  within it, and each next one within it of the last, however the server drips its bytes. No
  first token in time is a failure like a refused connection (failover); a gap after output
  began ends the answer with "stopped: no token for N s". Other failures raise their class's
  error (router/failures.py).
- Each request to a model is first fitted into its window (router/fitter.py: the entry's fixed
  `num_ctx` in the options, earlier turns left out, `on_trim` told once), and measured as an
  `Attempt` (router/usage.py); the router logs every attempt when it ends (`.attempts`,
  `.answer`). An input too big for the window raises `InputTooBig` before anything is sent or
  logged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from router.usage import Attempt

from registry.availability import model_key
from router.errors import NoModelAvailable
from router.chain import ANY_HOST, PINNED, Route, describe
from router.deadline import token_wait
from router.failures import BUSY, EMPTY_REPLY, MODEL_MISSING, classify, to_error

MAX_FAILOVERS = 1


class RoutedStream:
    def __init__(self, router, request_type: str, messages: list, tools: list | None,
                 pinned_model_id: str | None, on_notice: Callable[[str], None] | None = None,
                 options: dict | None = None, *, model_id: str | None = None,
                 session_id: str | None = None, on_trim: Callable[[str], None] | None = None,
                 on_route: Callable[[Route], None] | None = None, face: str | None = None,
                 needs: tuple[str, ...] = ()):
        self.router = router
        self.request_type = request_type
        self.messages = messages
        self.tools = tools
        self.pinned_model_id = pinned_model_id
        self.on_notice = on_notice
        self.options = dict(options or {})  # Ollama options for the request (`-o KEY VALUE`)
        self.model_id = model_id
        self.session_id = session_id  # for the answer log
        self.face = face  # for the answer log: "api" through the gateway
        self.exchange: Callable[[], dict] | None = None  # the log's message_id, prompt, response
        self.on_trim = on_trim or on_notice
        self.attempts: list[Attempt] = []  # one per model asked, in order
        self._trim_told = False
        self.on_route = on_route
        self.needs = tuple(needs)  # capabilities every model tried must have (images: vision)
        self.route: Route = router.route(request_type, pinned_model_id, model_id, self.needs,
                                         balanced=True, session_id=session_id)
        if on_route is not None:
            on_route(self.route)
        self.failovers: list[str] = []  # the notice of each failover, in order
        self.uses_tools = False  # whether the model got the tools (else: plain-text answers)
        self._started = False

    def __iter__(self) -> Iterator:
        if self._started:
            raise RuntimeError("a RoutedStream can be iterated once")
        self._started = True
        return self._chunks()

    def _chunks(self) -> Iterator:
        failovers = 0  # moves to another model (another host of the same one is not counted)
        tried: set = set()
        avoid: set = set()  # entry ids tried: the next route leaves them out (a busy one too)
        while True:
            if not self.route.available:
                raise NoModelAvailable(self.request_type, self.route.notice)
            lease = self._claim(frozenset(avoid) - {None})  # may move to a freer host
            model = self.route.model
            try:
                fitted = self._fit(model)  # InputTooBig here: nothing sent, nothing logged
            except BaseException:
                self.router.balancer.state.release(lease)
                raise
            with _Measured(self, model, lease) as attempt:
                output_began = False
                try:
                    for chunk in _each_within(self._open(model, attempt, fitted),
                                              model.timeout):
                        output_began = True
                        attempt.see(chunk)
                        self.router.balancer.renew(attempt.lease)  # a long stream keeps its slot
                        yield chunk
                except Exception as exc:  # noqa: BLE001 - classified below; unknown ones re-raised
                    kind = classify(exc)
                    if kind is None:
                        raise
                    attempt.failure = kind.name
                    error = to_error(kind, model, describe(model), exc, output_began)
                    if output_began or not kind.fail_over:
                        raise error from exc
                    reason = kind.explain(model.model_name, exc)
                    self._learn(model, kind, reason)
                    tried.add(model_key(model))
                    avoid.add(model.model_id)
                    self.route = self.router.route(self.request_type, self.pinned_model_id,
                                                   self.model_id, self.needs, balanced=True,
                                                   avoid=frozenset(avoid) - {None},
                                                   session_id=self.session_id)
                    if not self.route.available and _host_pinned(self.model_id):
                        raise NoModelAvailable(self.request_type, self.route.notice) from exc
                    if not self.route.available or model_key(self.route.model) in tried:
                        raise error from exc
                    # Another host of the same model is not a move down the chain: every host
                    # of it is tried before another model (router/chain.py).
                    same = _same_model(self.route.model, model)
                    if not same:
                        if failovers >= MAX_FAILOVERS:
                            raise error from exc
                        failovers += 1
                    attempt.end("failed_over")
                    self._tell(f"ℹ {describe(model)} failed ({reason}); retrying with "
                               + (f"the same model on {self.route.model.host} "
                                  f"({self.route.model.model_id})." if same
                                  else f"{describe(self.route.model)}."))
                    if self.on_route is not None:
                        self.on_route(self.route)
                else:
                    if not output_began:
                        raise to_error(EMPTY_REPLY, model, describe(model), ValueError(), False)
                    return

    @property
    def answer(self):
        """The answer-log record of the attempt that answered (the last), or None."""
        return self.attempts[-1].record(self.session_id) if self.attempts else None

    def _claim(self, avoid: frozenset):
        """Count the request in flight on the route's host (a lease) before it is sent; when
        that shows the host oversubscribed by processes that picked it at the same moment, and
        the request was balanced (not pinned, not named by its id), move to a host predicted
        clearly sooner. Returns the lease (None without Redis)."""
        balancer = self.router.balancer
        if not (_host_pinned(self.model_id) or _entry_named(self.model_id)):
            taken = self.router.take_soonest(self.route.model, avoid)  # pick and lease at once
            if taken is not None:
                chosen, lease = taken
                if chosen.model_id != self.route.model.model_id:
                    self.route = replace(self.route, model=chosen)
                    if self.on_route is not None:
                        self.on_route(self.route)
                return lease
        lease = balancer.take(self.route.model)
        if _host_pinned(self.model_id) or _entry_named(self.model_id):
            return lease
        other = self.router.recheck(self.route.model, lease, avoid)
        if other is None:
            return lease
        balancer.state.release(lease)
        self.route = replace(self.route, model=other)
        if self.on_route is not None:
            self.on_route(self.route)
        return balancer.take(other)

    def _learn(self, model, kind, reason: str) -> None:
        """What a failure before the first token says about that host: busy (503) passes it
        over for a moment and is no failure; a model missing there re-reads its /api/tags;
        refused or timed out cools it down (router/fleet.py); all but busy mark it unavailable."""
        if kind is not BUSY:
            if kind is MODEL_MISSING:
                self.router.checker.check(model, force=True)
            self.router.checker.mark_unavailable(model, reason)
        try:
            hosts = self.router.snapshot().first_hosts(model) if _registered(model) else []
            self.router.balancer.failed(model, kind.name, hosts)
        except Exception:  # noqa: BLE001 - balancing never breaks a request
            pass

    def _fit(self, model):
        self.uses_tools = bool(self.tools) and self.router.checker.supports_tools(model)
        return self.router.context.fit(model, self.messages, self.options,
                                       tool_chars=_schema_chars(self.tools if self.uses_tools
                                                                else None))

    def _open(self, model, attempt: Attempt, fitted):
        chat = self.router.chat_model(model)
        if self.uses_tools:
            chat = chat.bind_tools(self.tools)
        attempt.fit = fitted
        notice = fitted.notice(model.model_name)
        if notice and not self._trim_told and self.on_trim is not None:
            self._trim_told = True
            self.on_trim(notice)
        attempt.request_sent()
        # ChatOllama sends `options` as given, in place of its own fields (none are set here);
        # `keep_alive` and `think` are the request's own fields (router/options.py).
        from router.options import request_fields

        model_options, fields = request_fields(self.options)
        fields = self._think(model, fields)
        return chat.stream(fitted.messages, options={**model_options, "num_ctx": fitted.num_ctx},
                           **fields)

    def _think(self, model, fields: dict) -> dict:
        """`think` goes only to a model with the thinking capability (another answers it with
        HTTP 400), and always to one that has it: the request's choice, else `defaults.think`,
        so the server never decides silently (and ChatOllama keeps the thinking apart only when
        asked to think)."""
        fields = dict(fields)
        if not self.router.has(model, "thinking"):
            fields.pop("reasoning", None)
        elif "reasoning" not in fields:
            fields["reasoning"] = self.router.config.default_think
        return fields

    def _tell(self, notice: str) -> None:
        self.failovers.append(notice)
        if self.on_notice is not None:
            self.on_notice(notice)


def _registered(model) -> bool:
    from registry.model import ModelConfig

    return isinstance(model, ModelConfig)


def _entry_named(requested: str | None) -> bool:
    """`-m` gave an entry's id: that host is asked first, never balanced away."""
    return requested is not None and not requested.endswith((PINNED, ANY_HOST))


def _host_pinned(requested: str | None) -> bool:
    return requested is not None and requested.endswith(PINNED)


def _same_model(a, b) -> bool:
    from registry.model import ModelConfig
    from registry.replicas import same_model

    return isinstance(a, ModelConfig) and isinstance(b, ModelConfig) and same_model(a, b)


class _Measured:
    """An `Attempt` for the length of one request: how it ended, then handed to the router."""

    def __init__(self, stream: RoutedStream, model, lease=None):
        self.stream = stream
        self.attempt = Attempt(model, stream.route.via)
        self.attempt.lease = lease  # taken when the host was picked (`RoutedStream._claim`)

    def __enter__(self) -> Attempt:
        self.stream.attempts.append(self.attempt)
        return self.attempt

    def __exit__(self, kind, exc, tb) -> None:
        stopped = kind is not None and issubclass(kind, (KeyboardInterrupt, GeneratorExit))
        self.attempt.end("ok" if kind is None else "stopped" if stopped else "broken")
        self.stream.router.finish(self.attempt, self.stream.session_id, self.stream.exchange,
                                  self.stream.face)


def _each_within(chunks, seconds: float) -> Iterator:
    """The chunks, each waited for under its own token deadline of `seconds` (only the wait for
    the next chunk counts, not the time the caller spends on the last one)."""
    iterator = iter(chunks)
    while True:
        with token_wait(seconds):
            chunk = next(iterator, _END)
        if chunk is _END:
            return
        yield chunk


_END = object()


def _schema_chars(tools: list | None) -> int:
    """About how many characters the tool schemas add to the prompt."""
    return sum(len(str(getattr(t, "name", ""))) + len(str(getattr(t, "description", "")))
               + len(str(getattr(t, "args", ""))) for t in tools or ())

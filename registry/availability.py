"""Is a model usable right now? Probing Ollama servers, with a short timeout and a TTL cache.

"Available" means the server at the model's URL answers `GET /api/tags` AND lists the model
(`llama3` and `llama3:latest` are the same model). Every unavailable result carries a reason the
user can act on. Probes of many models run concurrently, one `/api/tags` request per server, so
checking 50 models of which 10 never answer takes about one probe timeout. Fresh results are
written back to the registry (`update_availability`); tool support (`POST /api/show`,
`capabilities` contains `tools`) and the context window (`model_info["<arch>.context_length"]`,
`<arch>` being `model_info["general.architecture"]`) are read once per model, from one
`/api/show`, and kept for the life of the process.

The seed's `get_available_llm()` / `get_available_model(model_type)` are `Router` methods
(router/router.py): choosing a model is the router's one job, availability is this module's.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Iterator

from registry import capabilities as caps
from registry.config import FallbackModel
from registry.errors import AiCliError, OllamaUnreachable, RegistryRefusesWrites, say_once
from registry.model import ModelConfig, mask_url

MAX_PARALLEL_PROBES = 64


@dataclass(frozen=True)
class ProbeResult:
    model_id: str | None  # None for the tinyllama fallback
    is_available: bool
    reason: str | None  # user-ready; None when available
    latency_ms: int | None  # None when the server never answered

    def to_json(self) -> dict:
        return {
            "model_id": self.model_id,
            "is_available": self.is_available,
            "reason": self.reason,
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True)
class ShowFacts:
    """What `POST /api/show` says about a model that ai-cli uses."""

    tools: bool
    context_length: int | None  # None: the server did not say
    capabilities: tuple[str, ...] = ()
    source: str = "server"  # "guessed": the server did not report capabilities


def show_facts(body) -> ShowFacts | None:
    """The facts in an `/api/show` answer; None when it is not one (nothing to cache). A server
    that reports no `capabilities` has them guessed (registry/capabilities.py)."""
    found = caps.from_show(body)
    if found is None:
        return None
    info = body.get("model_info") if isinstance(body.get("model_info"), dict) else {}
    length = info.get(f"{info.get('general.architecture')}.context_length")
    valid = isinstance(length, int) and not isinstance(length, bool) and length > 0
    return ShowFacts("tools" in found[0], length if valid else None, found[0], found[1])


@dataclass(frozen=True)
class _TagsAnswer:
    """What one `GET /api/tags` said: the model names, or why there are none."""

    names: frozenset[str] | None
    problem: str | None
    latency_ms: int | None
    digests: tuple[tuple[str, str], ...] = ()  # (normalised name, digest) the server reported


def normalize_model_name(name: str) -> str:
    """Ollama's rule: a name without a tag means the `latest` tag (`ns/m` -> `ns/m:latest`)."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def model_key(model: ModelConfig | FallbackModel) -> tuple[str, str]:
    """What identifies a model on the wire: its server and its normalised name."""
    return (model.url.rstrip("/"), normalize_model_name(model.model_name))


class AvailabilityChecker:
    """Probes models and remembers the answers for `ttl` seconds (thread-safe)."""

    def __init__(self, registry, probe_timeout: float = 2.0, ttl: float = 30.0, clock=time.monotonic):
        self.registry = registry
        self.probe_timeout = probe_timeout
        self.ttl = ttl
        self.clock = clock
        self._results: dict[tuple[str, str], tuple[float, ProbeResult]] = {}
        self._shown: dict[tuple, ShowFacts] = {}  # (url, name, digest): a new pull, a new read
        self._showing: set[tuple] = set()  # (url, name) read in the background now
        # A server's answer serves every model on it: a hung server costs one probe timeout for
        # all its models, not one each as the fallback chain walks them.
        self._servers: dict[str, tuple[float, _TagsAnswer]] = {}
        self._lock = threading.Lock()
        self._http = None
        self._said: set[str] = set()  # refusals already told (say_once)

    # --- public ------------------------------------------------------------------------------

    def check(self, model: ModelConfig | FallbackModel, force: bool = False) -> ProbeResult:
        return self.check_many([model], force=force)[0]

    def check_many(self, models, force: bool = False,
                   on_result: Callable[[int, ProbeResult], None] | None = None) -> list[ProbeResult]:
        """One result per model, in order; servers not cached are probed concurrently, one
        request per server. `on_result(index, result)` hears each as it is known."""
        models = list(models)
        results: dict[int, ProbeResult] = {}

        def settle(i: int, result: ProbeResult) -> None:
            results[i] = result
            if on_result is not None:
                on_result(i, result)

        for i, model in enumerate(models):
            cached = None if force else self.cached(model)
            if cached is not None:
                settle(i, cached)
        waiting: dict[str, list[int]] = {}
        for i, model in enumerate(models):
            if i not in results:
                waiting.setdefault(model_key(model)[0], []).append(i)

        def answered(url: str, answer: _TagsAnswer) -> None:
            for i in waiting[url]:
                settle(i, self._remember(models[i], _judge(models[i], answer)))

        self._server_answers(sorted(waiting), force, answered)
        return [results[i] for i in range(len(models))]

    def cached(self, model) -> ProbeResult | None:
        """The remembered result if it is younger than the TTL, else None."""
        with self._lock:
            entry = self._results.get(model_key(model))
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return None
        return _for_model(entry[1], model)

    def mark_unavailable(self, model, reason: str) -> ProbeResult:
        """Record what a real request found (refused, 404): trusted like a probe, for the TTL."""
        return self._remember(model, ProbeResult(model.model_id, False, reason, None))

    def answered(self, model) -> None:
        """A real request to `model` was just answered in full: as good as a probe saying it is
        available, for the TTL. So a conversation whose messages come within the TTL of the
        last answer probes no more before each one (a round trip to the model's server)."""
        key = model_key(model)
        with self._lock:
            entry = self._results.get(key)
            if entry is not None and entry[1].is_available:
                self._results[key] = (self.clock(), entry[1])  # keeps the probe's latency
                return
        self._remember(model, ProbeResult(model.model_id, True, None, None))

    def discover(self, url: str) -> list[str]:
        """The model names the Ollama server at `url` has (`GET /api/tags`), sorted."""
        url = url.rstrip("/")
        answer = self._probe(url)
        if answer.names is None:
            raise OllamaUnreachable(f"Cannot list the models at {mask_url(url)}: {answer.problem}.")
        return sorted(answer.names)

    def supports_tools(self, model) -> bool:
        """Whether the model can call tools (its capabilities, the user's override included);
        False if unknown."""
        return "tools" in (self.capabilities(model) or ())

    def capabilities(self, model) -> tuple[str, ...] | None:
        """What the model can do, the user's override applied; None when unknown.

        A registry entry keeps what its server said with the digest it was about: that is
        trusted while the host reports the same digest (or none is known yet), so the server is
        asked (`/api/show`) at most once per digest, in any process. Fresh answers are written
        back to the entry."""
        if isinstance(model, ModelConfig):
            digest = self.digest(model)
            stored = model.server_capabilities is not None and (
                digest is None or digest == model.capabilities_digest)
            if stored:
                return model.capabilities
            facts = self.show(model)
            if facts is None:
                return model.capabilities  # the override alone, or what was known before
            return caps.apply_override(facts.capabilities, model.capabilities_user)
        facts = self.show(model)
        return None if facts is None else facts.capabilities

    def learn_capabilities(self, models) -> None:
        """Read the capabilities of every model not known for its current digest (`check`),
        concurrently; each answer is written onto its entry."""
        models = list(models)
        if not models:
            return
        with ThreadPoolExecutor(max_workers=min(len(models), MAX_PARALLEL_PROBES),
                                thread_name_prefix="show") as pool:
            list(pool.map(self.capabilities, models))

    def digest(self, model) -> str | None:
        """The digest the model's host last reported for it (`/api/tags`); None if unknown."""
        url, name = model_key(model)
        with self._lock:
            entry = self._servers.get(url)
        return None if entry is None else dict(entry[1].digests).get(name)

    def context_length(self, model) -> int | None:
        """The model's context window from `/api/show`; None when the server does not say."""
        facts = self.show(model)
        return None if facts is None else facts.context_length

    def shown(self, model) -> ShowFacts | None:
        """The `/api/show` facts already read, without asking the server (None: not read yet)."""
        key = (*model_key(model), self.digest(model))  # digest() takes the lock itself
        with self._lock:
            return self._shown.get(key)

    def show(self, model) -> ShowFacts | None:
        """The model's `/api/show` facts, read once per model and digest (the one its host last
        reported); None (not cached) if unknown."""
        key = (*model_key(model), self.digest(model))
        with self._lock:
            if key in self._shown:
                return self._shown[key]
            twin = _twin(self._shown, key)
        if twin is not None:  # the same model read on another host: its facts are these
            self._show_later(model)
            return twin
        return self._read_show(model, key)

    def _show_later(self, model) -> None:
        """Read the model's own `/api/show` in the background (once at a time per host)."""
        key = model_key(model)
        with self._lock:
            if key in self._showing:
                return
            self._showing.add(key)

        def read() -> None:
            try:
                self._read_show(model, (*key, self.digest(model)))
            finally:
                with self._lock:
                    self._showing.discard(key)

        from registry import background

        background.start(read, name="show-later")

    def _read_show(self, model, key: tuple) -> ShowFacts | None:
        try:
            response = self._client().post(key[0] + "/api/show", json={"model": model.model_name})
            facts = show_facts(response.json()) if response.status_code == 200 else None
        except Exception:  # noqa: BLE001 - any failure means "unknown", which is not cached
            return None
        if facts is not None:
            with self._lock:
                self._shown[key] = facts
            self._keep_capabilities(model, facts)
        return facts

    def _keep_capabilities(self, model, facts: ShowFacts) -> None:
        """Write a fresh `/api/show` answer onto the entry, when it says something new."""
        if not isinstance(model, ModelConfig):
            return
        digest = self.digest(model) or ""
        if (model.server_capabilities == facts.capabilities and model.capabilities_digest == digest
                and model.server_capabilities_source == facts.source):
            return
        kept = model.with_changes(server_capabilities=facts.capabilities,
                                  server_capabilities_source=facts.source,
                                  capabilities_digest=digest)
        fields = kept.capability_fields()
        fields.pop("capabilities_user")  # the user's, never the probe's to write
        try:
            self.registry.update_capabilities(model.model_id, fields)
        except RegistryRefusesWrites as refused:
            say_once(self.registry, refused, self._said)
        except AiCliError:
            pass  # Redis down or read-only: the answer still holds in this process

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # --- plumbing ----------------------------------------------------------------------------

    def _remember(self, model, result: ProbeResult) -> ProbeResult:
        with self._lock:
            self._results[model_key(model)] = (self.clock(), result)
        if isinstance(model, ModelConfig):
            try:
                self.registry.update_availability(model.model_id, result.is_available)
            except RegistryRefusesWrites as refused:  # the result still holds in this process
                say_once(self.registry, refused, self._said)
            except AiCliError:
                pass  # Redis down or read-only: the result still holds in this process
        return result

    def _server_answers(self, urls: list[str], force: bool,
                        on_answer: Callable[[str, _TagsAnswer], None]) -> None:
        """Each server's `/api/tags` answer, to `on_answer` as it comes: remembered for the TTL,
        else probed now (concurrently; the answers arrive in this thread)."""
        now = self.clock()
        with self._lock:
            remembered = {url: self._servers[url][1] for url in urls if url in self._servers
                          and not force and now - self._servers[url][0] < self.ttl}
        for url, answer in remembered.items():
            on_answer(url, answer)
        fresh = [url for url in urls if url not in remembered]
        for url, answer in self._probe_servers(fresh):
            with self._lock:
                self._servers[url] = (self.clock(), answer)
            on_answer(url, answer)

    def _probe_servers(self, urls: list[str]) -> Iterator[tuple[str, _TagsAnswer]]:
        """(url, answer) as each server answers; one server is asked in this thread."""
        if len(urls) <= 1:
            yield from ((url, self._probe(url)) for url in urls)
            return
        workers = min(len(urls), MAX_PARALLEL_PROBES)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
            futures = {pool.submit(self._probe, url): url for url in urls}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def _probe(self, url: str) -> _TagsAnswer:
        """GET /api/tags; a problem names the server by its URL with any password masked."""
        import httpx

        shown = mask_url(url)
        started = time.perf_counter()
        try:
            response = self._client().get(url + "/api/tags")
        except httpx.ConnectTimeout:
            return _TagsAnswer(None, f"no answer from {shown} within {self.probe_timeout:g} s "
                                     "(timed out connecting)", None)
        except httpx.TimeoutException:
            return _TagsAnswer(None, f"timed out: {shown} did not answer within "
                                     f"{self.probe_timeout:g} s", None)
        except httpx.ConnectError as exc:
            return _TagsAnswer(None, _connect_problem(shown, exc), None)
        except httpx.HTTPError as exc:
            return _TagsAnswer(None, f"{shown} broke off the answer ({type(exc).__name__})", None)
        latency = round((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return _TagsAnswer(None, f"HTTP {response.status_code} from {shown}/api/tags: "
                                     "check the Ollama server's log", latency)
        try:
            entries = response.json()["models"]
            named = [(normalize_model_name(e.get("model") or e["name"]), e) for e in entries]
        except (ValueError, KeyError, TypeError, AttributeError):
            return _TagsAnswer(None, f"{shown} answered, but not like an Ollama server: "
                                     "check the URL", latency)
        digests = tuple((n, e["digest"][:200]) for n, e in named
                        if isinstance(e.get("digest"), str) and e["digest"])
        return _TagsAnswer(frozenset(n for n, _ in named), None, latency, digests)

    def _client(self):
        if self._http is None:
            import httpx

            with self._lock:
                if self._http is None:
                    self._http = httpx.Client(
                        timeout=self.probe_timeout,
                        limits=httpx.Limits(max_connections=MAX_PARALLEL_PROBES * 2),
                        trust_env=False,  # probes go where the URL says, never through a proxy
                    )
        return self._http


def _judge(model, answer: _TagsAnswer) -> ProbeResult:
    model_id = model.model_id
    if answer.names is None:
        return ProbeResult(model_id, False, answer.problem, answer.latency_ms)
    url, name = model_key(model)
    if name not in answer.names:
        host = mask_url(url).split("://", 1)[-1]
        return ProbeResult(
            model_id, False, f"model not pulled: run 'ollama pull {model.model_name}' on {host}",
            answer.latency_ms,
        )
    return ProbeResult(model_id, True, None, answer.latency_ms)


def _for_model(result: ProbeResult, model) -> ProbeResult:
    """A cached result keyed by URL and name, labelled with this model's id."""
    model_id = model.model_id
    if result.model_id == model_id:
        return result
    return ProbeResult(model_id, result.is_available, result.reason, result.latency_ms)


def _connect_problem(url: str, exc: BaseException) -> str:
    if is_refused(exc):
        return f"connection refused at {url}: is Ollama running there? ('ollama serve')"
    return f"cannot connect to {url} ({exc or type(exc).__name__}): check the URL and network"


def is_refused(exc: BaseException | None) -> bool:
    """Whether a connect error was a refused connection (nothing listens on that port)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ConnectionRefusedError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _twin(shown: dict, key: tuple) -> ShowFacts | None:
    """The `/api/show` facts already read for the same model on another host: the same name,
    and the same digest where both are known (a replica: the same weights, the same window and
    capabilities). None when there is none."""
    url, name, digest = key
    for (other_url, other_name, other_digest), facts in shown.items():
        if (other_url != url and other_name == name
                and (digest is None or other_digest is None or digest == other_digest)):
            return facts
    return None

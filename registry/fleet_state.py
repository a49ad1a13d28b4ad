"""What every ai-cli process knows about the hosts of the registry's models, shared in Redis.

Beside the registry, under the same key prefix (so, on a Redis Cluster, the same hash tag and
slot as every registry key). Keys (docs/ARCHITECTURE.md, "Redis keys"), `{id}` a model entry:

    fleet:{id}:leases        sorted set  one member per request in flight there, scored by the
                                         unix time its lease expires
    fleet:{id}               hash        ttft_ms weight ttft_at (decayed warm TTFT), answer_ms
                                         answer_weight (decayed time of a whole answer), cool_s
                                         cool_until (cooldown), busy_until (503 "server busy"),
                                         load_ms (what loading the model there last cost);
                                         expires KEEP_S after its last write
    fleet:ps:{host:port}     string      JSON {"at": unix s, "models": [names /api/ps lists]
                                         (null: asked, did not say), "offload": {name: share
                                         of it in system memory}}
    fleet:ps:{host:port}:lock string     set while one process refreshes that cache (15 s)
    fleet:balance:{type}     string      "on" | "off": `ai-cli model TYPE balance on|off`
    fleet:session:{session}  string      the entry that gave the session's last answer (1 h)

A lease is taken when a host is picked (`take_soonest`: one server-side script that counts every
candidate's leases and leases the pick unless another is clearly sooner at that moment, so picks
of several processes at once are placed one after the other) and released when the attempt ends; a stream renews it
as its tokens come; an expired member counts for nothing (members past their score are dropped
whenever the count is read), so a process killed mid-request leaves no count stuck.

A host's /api/ps is never read on the request path, but once: the first time a process meets a
host whose /api/ps nobody has cached, its request waits for that read, `COLD_WAIT` at most (all
such hosts at once). Without it the first requests of a fresh fleet would see every host alike,
and one of them would pay seconds of model load to save milliseconds.

Everything here is best effort: a Redis that is down, refuses or holds something else under a
key makes reads return "nothing known" and writes do nothing; balancing then falls back to
"active host first". Nothing here ever raises into a request.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

import redis

from registry import background
from registry.model import ModelConfig

PS_FRESH = 15.0  # seconds an /api/ps answer is trusted; also the refresh lock's life
SESSION_S = 3600  # how long a session's last host is remembered
LEASE_MARGIN = 5.0  # seconds a lease outlives the model's token deadline
KEEP_S = 86400  # an entry's hash and a host's /api/ps cache expire a day after their last write
REST_S = 5.0  # after a Redis failure, seconds the fleet state answers "nothing known" at once
COLD_WAIT = 0.5  # seconds a request waits for the first /api/ps of hosts nobody has read yet


@dataclass(frozen=True)
class HostState:
    """One entry's shared numbers (absent ones are None / 0)."""

    in_flight: int = 0
    ttft_ms: float | None = None
    weight: float = 0.0
    ttft_at: float | None = None
    cool_s: float = 0.0
    cool_until: float | None = None
    busy_until: float | None = None
    load_ms: float | None = None
    answer_ms: float | None = None  # decayed time of a whole (warm) answer there
    answer_weight: float = 0.0


@dataclass(frozen=True)
class FleetView:
    """What one pipelined read found: per entry id, per URL (models loaded: None = unknown;
    the share of each loaded model in system memory), and the entry of the session's previous
    answer."""

    hosts: dict = field(default_factory=dict)
    loaded: dict = field(default_factory=dict)
    previous: str | None = None
    offload: dict = field(default_factory=dict)
    balance: bool | None = None  # `model TYPE balance on|off` as stored, when asked for


@dataclass
class Lease:
    model_id: str
    lease_id: str
    seconds: float
    renewed: float
    count: int = 1  # requests in flight there once this one was counted (it included)


class FleetState:
    """The shared fleet state over a registry's Redis (`registry.redis`, `registry.keys.prefix`).
    `clock` gives unix seconds (every process compares lease expiries on one scale)."""

    def __init__(self, registry, clock: Callable[[], float] = time.time,
                 fetch_ps: Callable[[str], dict | list | None] | None = None):
        self.registry = registry
        self.clock = clock
        self.fetch_ps = fetch_ps or fetch_loaded_models
        self._refreshing: set[str] = set()
        self._first_reads: dict[str, threading.Event] = {}  # url -> its first /api/ps read, done
        self._first_found: dict[str, dict] = {}  # url -> what that read found
        self._lock = threading.Lock()
        self._resting_until = 0.0  # monotonic time: Redis is not asked before it

    # --- keys --------------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return f"{self.registry.keys.prefix}fleet:"

    def leases_key(self, model_id: str) -> str:
        return f"{self.prefix}{model_id}:leases"

    def host_key(self, model_id: str) -> str:
        return f"{self.prefix}{model_id}"

    def ps_key(self, url: str) -> str:
        return f"{self.prefix}ps:{_host_port(url)}"

    def balance_key(self, model_type: str) -> str:
        return f"{self.prefix}balance:{model_type}"

    def session_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_id}"

    # --- reads -------------------------------------------------------------------------------

    def read(self, entries: Iterable[ModelConfig], session_id: str | None = None,
             model_type: str | None = None, default: bool = True) -> FleetView | None:
        """Everything the balancer needs about `entries`, in one round trip; None when Redis
        could not be read. Kicks off a background /api/ps refresh for stale hosts. With
        `model_type`, the view carries that type's balance setting too; when it is off (or
        unset and `default` is False) nothing else is done: no /api/ps is read or refreshed."""
        entries = list(entries)
        urls = sorted({m.url.rstrip("/") for m in entries})
        now = self.clock()
        try:
            pipe = self._redis().pipeline(transaction=False)
            if model_type is not None:
                pipe.get(self.balance_key(model_type))
            for m in entries:
                pipe.zremrangebyscore(self.leases_key(m.model_id), "-inf", now)
                pipe.zcard(self.leases_key(m.model_id))
                pipe.hgetall(self.host_key(m.model_id))
            for url in urls:
                pipe.get(self.ps_key(url))
            if session_id:
                pipe.get(self.session_key(session_id))
            # a damaged key (another type) answers an error in its place, read as "nothing"
            replies = [None if isinstance(r, redis.ResponseError) else r
                       for r in pipe.execute(raise_on_error=False)]
        except Exception as exc:  # noqa: BLE001 - best effort: no state is "nothing known"
            self._failed(exc)
            return None
        balance = None
        if model_type is not None:
            balance = _switch(replies.pop(0))
            if not balance_on(balance, default):
                return FleetView(balance=balance)
        hosts = {}
        for i, m in enumerate(entries):
            count, fields = replies[3 * i + 1], replies[3 * i + 2]
            hosts[m.model_id] = _host_state(int(count or 0), fields)
        loaded, offload, stale, never = {}, {}, [], []
        for url, raw in zip(urls, replies[3 * len(entries):]):
            loaded[url], at, offload[url] = _ps_entry(raw)
            if at is None or now - at >= PS_FRESH:
                stale.append(url)
            if at is None:  # nobody has tried (a try that failed leaves its time)
                never.append(url)
        first = self._read_first(never)
        for url, found in first.items():
            loaded[url], offload[url] = frozenset(found), _shares(found)
        previous = _text(replies[-1]) if session_id else None
        self._refresh_later([url for url in stale if url not in first])
        return FleetView(hosts, loaded, previous, offload, balance)

    def _read_first(self, urls: list[str]) -> dict[str, dict]:
        """The /api/ps of hosts nobody has cached, read now (all at once, COLD_WAIT at most),
        once per host in this process: url -> {name: share in system memory}, for those read in
        time. Requests of other threads that need the same host meanwhile wait for the same read."""
        if not urls:
            return {}
        deadline = time.monotonic() + COLD_WAIT
        reads = []
        with self._lock:
            for url in urls:
                done = self._first_reads.get(url)
                if done is None:
                    done = self._first_reads[url] = threading.Event()
                    background.start(lambda url=url, done=done: self._first_read(url, done),
                                     name="fleet-ps")
                reads.append((url, done))
        found = {}
        for url, done in reads:
            if done.wait(max(0.0, deadline - time.monotonic())) and url in self._first_found:
                found[url] = self._first_found[url]
        return found

    def _first_read(self, url: str, done: threading.Event) -> None:
        try:
            # read whether or not another process is at it (this request waits for it), but
            # hold the refresh lock as a background read does: nobody reads it again for 15 s
            self._write(lambda r: r.set(f"{self.ps_key(url)}:lock", "1", nx=True,
                                        ex=int(PS_FRESH)))
            got = self.fetch_ps(url)
            if got is not None:
                self._first_found[url] = got if isinstance(got, dict) else dict.fromkeys(got, 0.0)
            # a failed read is kept too ("models": null), so that no other process waits for
            # that host again: its /api/ps is then read in the background only
            self.store_ps(url, got)
        finally:
            done.set()

    def in_flight(self, model_id: str) -> int | None:
        """Requests in flight on that entry now (expired leases not counted); None: unknown."""
        key = self.leases_key(model_id)
        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.zremrangebyscore(key, "-inf", self.clock())
            pipe.zcard(key)
            return int(pipe.execute()[1])
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None

    def loads(self, model_ids: Iterable[str]) -> dict | None:
        """model id -> (in flight now, cooling until as unix seconds or None), in one round
        trip, for `model stats` and `model list`; None when Redis could not be read."""
        model_ids = list(model_ids)
        now = self.clock()
        try:
            pipe = self._redis().pipeline(transaction=False)
            for model_id in model_ids:
                pipe.zcount(self.leases_key(model_id), now, "+inf")
                pipe.hget(self.host_key(model_id), "cool_until")
            replies = pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None
        return {model_id: (int(replies[2 * i] or 0), _number(_text(replies[2 * i + 1])))
                for i, model_id in enumerate(model_ids)}

    def balance_setting(self, model_type: str) -> bool | None:
        """`model TYPE balance on|off` as stored; None when never set (or unreadable)."""
        try:
            return _switch(self._redis().get(self.balance_key(model_type)))
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None

    # --- writes ------------------------------------------------------------------------------

    def take(self, model_id: str, seconds: float) -> Lease | None:
        """A lease on one slot of that entry for `seconds` (renew it to keep it)."""
        lease = Lease(model_id, uuid.uuid4().hex, seconds, self.clock())
        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.zadd(self.leases_key(model_id), {lease.lease_id: lease.renewed + seconds})
            pipe.zcount(self.leases_key(model_id), lease.renewed, "+inf")
            lease.count = int(pipe.execute()[1])
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None
        return lease

    def take_soonest(self, model_ids: list[str], terms: list[tuple], seconds: float,
                     near: float) -> tuple[int, Lease] | None:
        """Pick and lease in one step: a lease on the first entry of `model_ids` (the pick),
        unless, with the counts as they are at this very moment, another is predicted clearly
        (`near`) sooner: then on that one. `terms` per entry: (warm TTFT ms, ms each request
        ahead holds a slot, parallel, load ms, usable), the pick's view (router/balance.py
        `lease_terms`). One server-side script,
        so picks from every process are placed one after the other, never on the same stale
        counts; its keys share the prefix's hash tag (one slot on a Redis Cluster). Returns
        (the index leased, the lease), or None when Redis could not run it."""
        lease = Lease(model_ids[0], uuid.uuid4().hex, seconds, self.clock())
        args = [f"{lease.renewed:.3f}", f"{seconds:g}", lease.lease_id, f"{near:g}"]
        for warm, each, parallel, load, usable in terms:
            args += [f"{warm:.3f}", f"{each:.3f}", str(max(1, int(parallel))), f"{load:.3f}",
                     "1" if usable else "0"]
        try:
            index, count = self._redis().eval(_TAKE_SOONEST, len(model_ids),
                                              *[self.leases_key(i) for i in model_ids], *args)
        except Exception:  # noqa: BLE001 - the caller takes a plain lease instead
            return None
        lease.model_id, lease.count = model_ids[int(index)], int(count)
        return int(index), lease

    def renew(self, lease: Lease | None) -> None:
        """Push the lease's expiry on, at most every third of its length (one write then)."""
        if lease is None:
            return
        now = self.clock()
        if now - lease.renewed < lease.seconds / 3:
            return
        lease.renewed = now
        try:
            self._redis().zadd(self.leases_key(lease.model_id),
                                     {lease.lease_id: now + lease.seconds}, xx=True)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            pass

    def release(self, lease: Lease | None) -> None:
        if lease is None:
            return
        self._write(lambda r: r.zrem(self.leases_key(lease.model_id), lease.lease_id))

    def store_ttft(self, model_id: str, average: float, weight: float, at: float) -> None:
        """The entry's decaying TTFT average (router/balance.py `decayed` computes it)."""
        self._hset(model_id, {"ttft_ms": f"{average:.1f}", "weight": f"{weight:.4f}",
                              "ttft_at": f"{at:.3f}"})

    def store_answer(self, model_id: str, average: float, weight: float) -> None:
        """The entry's decaying time of a whole answer (how long a request holds a slot)."""
        self._hset(model_id, {"answer_ms": f"{average:.1f}", "answer_weight": f"{weight:.4f}"})

    def store_cooldown(self, model_id: str, seconds: float, until: float) -> bool:
        """The entry's cooldown (`router/balance.py` `next_cooldown` gives its length)."""
        return self._hset(model_id, {"cool_s": f"{seconds:g}", "cool_until": f"{until:.3f}"})

    def store_load(self, model_id: str, load_ms: float) -> None:
        """What loading the model on that entry's host just cost (Ollama's load_duration)."""
        self._hset(model_id, {"load_ms": f"{load_ms:.0f}"})

    def mark_loaded(self, url: str, name: str) -> None:
        """A request just loaded `name` there: the cached /api/ps says so until its next read
        (else the host would be charged a load it no longer needs for up to 15 s)."""
        try:
            names, at, offload = _ps_entry(self._redis().get(self.ps_key(url)))
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return
        if names is not None and name not in names:
            payload = _ps_payload(at, {**dict.fromkeys(names, 0.0), **offload, name: 0.0})
            self._write(lambda r: r.set(self.ps_key(url), payload, ex=KEEP_S))

    def recovered(self, model_id: str) -> None:
        """The entry answered: its cooldown (and the doubling) starts over."""
        self._write(lambda r: r.hdel(self.host_key(model_id), "cool_s", "cool_until"))

    def busy(self, model_id: str, seconds: float) -> None:
        until = self.clock() + seconds
        self._hset(model_id, {"busy_until": f"{until:.3f}"})

    def remember_session(self, session_id: str | None, model_id: str) -> None:
        if session_id:
            self._write(lambda r: r.set(self.session_key(session_id), model_id, ex=SESSION_S))

    def set_balance(self, model_type: str, on: bool) -> None:
        """Raises the registry's error when Redis will not take it (the command says so)."""
        self.registry.redis.set(self.balance_key(model_type), "on" if on else "off")

    def store_ps(self, url: str, found: dict | list | None) -> None:
        """One host's /api/ps: the names loaded there, or name -> share in system memory;
        None: it was asked and did not say (nothing known, but asked)."""
        payload = _ps_payload(self.clock(), found if isinstance(found, dict) or found is None
                              else dict.fromkeys(found, 0.0))
        self._write(lambda r: r.set(self.ps_key(url), payload, ex=KEEP_S))

    # --- plumbing ----------------------------------------------------------------------------

    def _redis(self):
        """The registry's client, unless Redis failed in the last REST_S seconds: then every
        call fails at once (a dead Redis must not cost each request its connect timeouts)."""
        if time.monotonic() < self._resting_until:
            raise ConnectionError("fleet state resting after a Redis failure")
        return self.registry.redis

    def _failed(self, exc: BaseException) -> None:
        """Redis did not answer: rest REST_S. A reply error (a damaged key of the wrong type,
        WRONGTYPE) is that key's problem, not the server's: the rest of the state still works."""
        if isinstance(exc, redis.ResponseError):
            return
        self._resting_until = time.monotonic() + REST_S

    def host(self, model_id: str) -> HostState | None:
        """One entry's shared numbers (in-flight not counted); None when unreadable."""
        try:
            return _host_state(0, self._redis().hgetall(self.host_key(model_id)))
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return None

    def _hset(self, model_id: str, mapping: dict) -> bool:
        """Set fields of an entry's hash, which lives KEEP_S after its last write (so a removed
        entry leaves nothing behind for long)."""
        key = self.host_key(model_id)

        def write(client) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, KEEP_S)
            pipe.execute()

        return self._write(write)

    def _write(self, operation) -> bool:
        try:
            operation(self._redis())
        except Exception as exc:  # noqa: BLE001 - best effort
            self._failed(exc)
            return False
        return True

    def _refresh_later(self, urls: list[str]) -> None:
        """A background /api/ps read for each stale host (never on the request path): one
        thread per host in this process, one process per host fleet-wide (a 15 s lock)."""
        for url in urls:
            with self._lock:
                if url in self._refreshing:
                    continue
                self._refreshing.add(url)
            background.start(lambda url=url: self._refresh(url), name="fleet-ps")

    def refresh_now(self, url: str) -> None:
        """Read one host's /api/ps into the shared cache (the background job; tests call it)."""
        try:
            got = self._redis().set(f"{self.ps_key(url)}:lock", "1", nx=True,
                                          ex=int(PS_FRESH))
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return
        if not got:
            return  # another process is at it
        names = self.fetch_ps(url)
        if names is not None:
            self.store_ps(url, names)

    def _refresh(self, url: str) -> None:
        try:
            self.refresh_now(url)
        finally:
            with self._lock:
                self._refreshing.discard(url)


# KEYS: the leases of each entry, the pick first. ARGV: now, seconds, lease id, near, then per
# entry warm, each, parallel, load, usable. Score as router/balance.py's `score`: warm + each ×
# in flight / parallel + load, in flight counted now, and × near where it would start a load
# (`starts_load`); the pick stays unless another is clearly sooner.
_TAKE_SOONEST = """
local now, secs, id, near = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local chosen, first, best = 1, nil, nil
for i = 1, #KEYS do
  local at = 4 + (i - 1) * 5
  local busy = redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[1], '+inf')
  local load = tonumber(ARGV[at + 4])
  local score = tonumber(ARGV[at + 1]) + tonumber(ARGV[at + 2]) * busy / tonumber(ARGV[at + 3])
    + load
  if load > 0 and busy == 0 then score = score * near end  -- it would start a load
  if i == 1 then
    first, best = score, score
  elseif ARGV[at + 5] == '1' and score * near < first and score < best then
    chosen, best = i, score
  end
end
redis.call('ZADD', KEYS[chosen], now + secs, id)
return {chosen - 1, redis.call('ZCOUNT', KEYS[chosen], '(' .. ARGV[1], '+inf')}
"""


def fetch_loaded_models(url: str, timeout: float = 2.0) -> dict[str, float] | None:
    """The models `GET /api/ps` says are loaded there (names with tags), each with the share of
    it in system memory rather than on a GPU (1 - size_vram / size: `ollama ps` shows it as
    "48%/52% CPU/GPU"); None if it did not say."""
    try:
        response = _ps_client().get(url.rstrip("/") + "/api/ps", timeout=timeout)
        if response.status_code != 200:
            return None
        return loaded_models(response.json())
    except Exception:  # noqa: BLE001 - unknown is fine: no load cost is assumed
        return None


_http = None
_http_lock = threading.Lock()


def _ps_client():
    """One HTTP client per process for every /api/ps read: a client of its own per read would
    build a TLS context each time (tens of ms, on the first request of a fresh fleet)."""
    global _http
    if _http is None:
        import httpx

        with _http_lock:
            if _http is None:
                # /api/ps goes where the URL says, never through a proxy (as probes do)
                _http = httpx.Client(trust_env=False)
    return _http


def loaded_models(body) -> dict[str, float]:
    """name -> share in system memory, from an /api/ps body (a server's: checked, not trusted).
    Raises ValueError/KeyError/TypeError on a body that is not /api/ps's shape."""
    from registry.availability import normalize_model_name

    found = {}
    for model in body["models"]:
        name = normalize_model_name(str(model.get("model") or model["name"]))
        found[name] = offload_share(model.get("size"), model.get("size_vram"))
    return found


def offload_share(size, size_vram) -> float:
    """The share of a loaded model not in GPU memory: 0 when the sizes are missing or odd."""
    if isinstance(size, bool) or isinstance(size_vram, bool):
        return 0.0
    if not isinstance(size, (int, float)) or not isinstance(size_vram, (int, float)) or size <= 0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - size_vram / size))


def _host_state(in_flight: int, fields) -> HostState:
    fields = {_text(k): _text(v) for k, v in (fields or {}).items()} if isinstance(fields, dict) \
        else {}
    return HostState(in_flight, _number(fields.get("ttft_ms")),
                     _number(fields.get("weight")) or 0.0, _number(fields.get("ttft_at")),
                     _number(fields.get("cool_s")) or 0.0, _number(fields.get("cool_until")),
                     _number(fields.get("busy_until")), _number(fields.get("load_ms")),
                     _number(fields.get("answer_ms")), _number(fields.get("answer_weight")) or 0.0)


def _ps_payload(at, found: dict | None) -> str:
    if found is None:
        return json.dumps({"at": at, "models": None})
    offload = {name: round(share, 3) for name, share in found.items() if share >= 0.005}
    return json.dumps({"at": at, "models": sorted(found), "offload": offload})


def _ps_entry(raw) -> tuple[frozenset | None, float | None, dict]:
    """(names loaded, when read, name -> share in system memory) from the cache; (None, None,
    {}) when absent or damaged; (None, when asked, {}) when that host's /api/ps did not say."""
    try:
        data = json.loads(_text(raw))
        at = float(data["at"])
    except (TypeError, ValueError, KeyError, OverflowError):
        return None, None, {}
    if not math.isfinite(at):
        return None, None, {}
    try:
        names = frozenset(str(n) for n in data["models"])
    except (TypeError, KeyError):
        return None, at, {}
    shares = data.get("offload")
    return names, at, _shares(shares if isinstance(shares, dict) else {})


def _shares(found: dict) -> dict[str, float]:
    """name -> share in system memory, only the sound ones (0 to 1)."""
    return {str(name): float(share) for name, share in found.items()
            if isinstance(share, (int, float)) and not isinstance(share, bool)
            and 0.0 < share <= 1.0}


def balance_on(stored: bool | None, default: bool) -> bool:
    """Whether balancing is on: `model TYPE balance on|off` as stored, else the default
    (`routing.balance` in config.yaml)."""
    return default if stored is None else stored


def _switch(raw) -> bool | None:
    """A stored "on" | "off"; None for anything else (unset, or damaged)."""
    return {"on": True, "off": False}.get(_text(raw) or "") if isinstance(raw, (str, bytes)) \
        else None


def _number(text) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _host_port(url: str) -> str:
    return url.rstrip("/").split("://", 1)[-1]

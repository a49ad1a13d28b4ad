"""Live registry changes for every `/events` client from ONE Redis subscription.

A thread of its own reads `models:events` on its own connection (a pub/sub connection is held by
its subscriber) and fans each event out to one asyncio queue per client. So an idle client costs
a queue, not a worker thread nor a Redis connection: before, each client polled Redis from the
request thread pool, and a few dozen idle pages left no thread for any other route.

`Fanout` is the pure part (clients, the cap, delivery); `LiveEvents` adds the thread and Redis.
At most `MAX_CLIENTS` clients: one more is `TooManyLiveClients` (503), said plainly. A client
that does not read (its queue full) is dropped with an error event rather than letting the
queue grow. When Redis goes away every client gets an error event and its stream ends; the
page reconnects (`retry:`), and the next client subscribes afresh.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field

from ui.errors import TooManyLiveClients

MAX_CLIENTS = 64
QUEUE_SIZE = 256  # events a client may fall behind by before it is dropped
POLL = 1.0  # seconds one read of the subscription waits (how soon a stop is seen)
GONE = "gone"  # the last item of a client's queue: ("gone", why)


@dataclass(eq=False)
class Client:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    ended: bool = False  # GONE was put: nothing more is (only touched in its loop)


def model_event(message) -> dict | None:
    """The `{"op", "model_id", "model_type"}` of a pub/sub message (a preset's change:
    `{"event", "name"}`); None for anything else (a subscribe confirmation, text that is not
    such an object)."""
    if not message or message.get("type") != "message":
        return None
    data = message.get("data")
    try:
        event = json.loads(data.decode() if isinstance(data, bytes) else data)
    except (ValueError, AttributeError, TypeError):
        return None
    if not isinstance(event, dict):
        return None
    if str(event.get("event", "")).startswith("preset_"):
        return {"event": str(event["event"]), "name": str(event.get("name", ""))}
    return {key: event.get(key) for key in ("op", "model_id", "model_type")}


class Fanout:
    """The clients and what each is sent; thread-safe (the reader thread delivers)."""

    def __init__(self, max_clients: int = MAX_CLIENTS):
        self.max_clients = max_clients
        self._clients: set[Client] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)

    def join(self, loop: asyncio.AbstractEventLoop) -> Client:
        with self._lock:
            if len(self._clients) >= self.max_clients:
                raise TooManyLiveClients(self.max_clients)
            client = Client(loop)
            self._clients.add(client)
            return client

    def leave(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)

    def deliver(self, item: tuple[str, object]) -> None:
        """Put `item` on every client's queue (from any thread)."""
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            self._put(client, item)

    def end_all(self, why: str) -> None:
        with self._lock:
            clients, self._clients = list(self._clients), set()
        for client in clients:
            self._put(client, (GONE, why))

    def _put(self, client: Client, item) -> None:
        def put() -> None:
            if client.ended:
                return
            if item[0] == GONE:
                client.ended = True
            if client.queue.full():
                self.leave(client)
                client.ended = True
                client.queue.get_nowait()  # room for the last word
                item_now = item if item[0] == GONE else (
                    GONE, "This page fell too far behind the registry's changes; reconnecting.")
                client.queue.put_nowait(item_now)
                return
            client.queue.put_nowait(item)

        try:
            client.loop.call_soon_threadsafe(put)
        except RuntimeError:
            self.leave(client)  # its loop is closed: the server is stopping


class LiveEvents:
    """One subscriber thread for the whole server, started by the first client."""

    def __init__(self, open_registry, max_clients: int = MAX_CLIENTS):
        self.open_registry = open_registry  # called in the first client's thread: no I/O before
        self.fanout = Fanout(max_clients)
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()

    def join(self, loop: asyncio.AbstractEventLoop) -> Client:
        """A new client, once the subscription is in place (blocking: call it in a thread).
        `TooManyLiveClients` beyond the cap; `RegistryUnavailable` when Redis cannot subscribe."""
        client = self.fanout.join(loop)
        try:
            self._ensure_reader()
        except BaseException:
            self.fanout.leave(client)
            raise
        return client

    def leave(self, client: Client) -> None:
        self.fanout.leave(client)

    def stop(self) -> None:
        self._stopping.set()

    def _ensure_reader(self) -> None:
        with self._lock:
            if self._reader is not None and self._reader.is_alive():
                return
            pubsub = self._subscribe()
            self._reader = threading.Thread(target=self._read, args=(pubsub,),
                                            name="ai-cli-live-events", daemon=True)
            self._reader.start()

    def _subscribe(self):
        from registry.connection.failures import FAILURES
        from registry.errors import RegistryUnavailable

        try:
            registry = self.open_registry()
            pubsub = registry.redis.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(registry.keys.events)
            return pubsub
        except FAILURES as exc:  # on a Redis Cluster too
            raise RegistryUnavailable(
                f"The model registry's Redis is unreachable ({exc}); live updates need it. "
                "Start it, or point AI_CLI_REDIS_URL at a running server.") from exc

    def _read(self, pubsub) -> None:
        from registry.connection.failures import FAILURES

        try:
            while not self._stopping.is_set():
                event = model_event(pubsub.get_message(timeout=POLL))
                if event is not None:
                    self.fanout.deliver(("models", event))
        except FAILURES:
            with self._lock:
                self._reader = None  # the next client subscribes afresh
            self.fanout.end_all("The registry's Redis went away; reconnecting.")
        finally:
            try:
                pubsub.close()
            except FAILURES:
                pass

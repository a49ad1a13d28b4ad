"""A fleet of Ollama-protocol servers on 127.0.0.1 that model real boxes, for the balancing bench.

Each box (`Box`) serves the Ollama HTTP API the way a real one behaves under load:

- `parallel` slots (OLLAMA_NUM_PARALLEL): a chat takes a free slot or waits in the box's queue
  for one (first come, first served); with `max_queue` set, a chat finding the queue full gets
  Ollama's 503 "server busy";
- a time to first token (`ttft`, the prompt's evaluation) and a token rate (`tok_rate`) per slot;
- a load time paid by the first chat of a model that is not loaded (`GET /api/ps` lists the
  loaded ones, with `size_vram` short of `size` by the box's `offload`: the share of the model
  its GPU cannot hold); the chats behind it wait for the load;
- `slow(factor)` multiplies every time of the box (the box drifts), `kill()` stops listening and
  cuts every open connection (the next connect is refused), `revive()` listens again on the same
  port;
- GET /api/tags (with digests: the same model has the same digest on every box), POST /api/show,
  GET /api/version, GET /api/ps, GET / and POST /api/chat (streamed NDJSON in Ollama's shape,
  or one JSON object with `"stream": false`).

Every chat is recorded (`Fleet.records`): the box that served it, the tag found in its messages
(`[bench:ID]`, how the bench matches a client's request to the server's record), when it arrived,
got a slot and wrote its first token (the TTFT seen by the server), whether it paid a load, and
the free slots of every box at its arrival (for the "no herding" check). Other requests are
kept with their time, box and path (`Fleet.other_requests`).

Simplifications, on purpose: a slot runs at the full token rate whatever the others do (a real
GPU shares its compute between parallel requests), and a loaded model is never evicted.

Stdlib only; the servers are threads of the calling process. `python bench/fleet.py` starts
the bench's three-box fleet and prints its URLs, for trying a client against it by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAG = re.compile(r"\[bench:([^\]]+)\]")
CONTEXT_LENGTH = 8192
NS = 1_000_000_000
MODEL_SIZE = 4_920_753_328  # bytes: llama3.1:8b Q4_K_M, as /api/tags and /api/ps report it


@dataclass
class BoxSpec:
    name: str
    ttft: float  # seconds from a slot to the first token (prompt evaluation), loaded model
    tok_rate: float  # tokens per second once the answer streams
    parallel: int = 1
    load_time: float = 0.0  # seconds to load a model that is not loaded
    loaded: bool = True  # whether the fleet's models start loaded on this box
    max_queue: int | None = None  # None: no limit (Ollama's default is 512)
    # share of a loaded model /api/ps reports in system memory (1 - size_vram / size): a box
    # slow because its GPU holds only part of the model says so there
    offload: float = 0.0


@dataclass
class ChatRecord:
    box: str
    model: str
    tag: str | None
    arrived: float  # time.monotonic(), comparable across the processes of one machine
    slot_at: float | None = None
    first_token_at: float | None = None
    ended: float | None = None
    loaded_here: bool = False  # this chat paid the model's load
    status: str = "open"  # ok | cut (killed mid-way) | busy (503) | missing (404)
    free_slots: dict = field(default_factory=dict)  # box name -> free slots when it arrived
    queued: dict = field(default_factory=dict)  # box name -> chats waiting when it arrived

    @property
    def server_ttft(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.arrived


class BoxKilled(Exception):
    """The box was killed while this chat waited or streamed."""


class Slots:
    """`parallel` slots and a first-come-first-served queue for them."""

    def __init__(self, parallel: int):
        self.parallel = parallel
        self.in_use = 0
        self.waiting = 0
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0  # the ticket whose turn it is to take a slot
        self._given_up: set[int] = set()

    def acquire(self, alive=lambda: True) -> None:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            self.waiting += 1
            try:
                while ticket != self._serving or self.in_use >= self.parallel:
                    if not alive():
                        raise BoxKilled()
                    self._cond.wait(0.05)
            except BoxKilled:
                self._skip(ticket)
                raise
            finally:
                self.waiting -= 1
            self._serving += 1
            self.in_use += 1
            self._cond.notify_all()

    def _skip(self, ticket: int) -> None:
        """A waiter that gives up: its turn passes (killed boxes drop their whole queue)."""
        self._given_up.add(ticket)
        while self._serving in self._given_up:
            self._given_up.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self.in_use -= 1
            self._cond.notify_all()

    @property
    def free(self) -> int:
        return max(0, self.parallel - self.in_use)


def digest_of(model: str) -> str:
    return "sha256:" + hashlib.sha256(model.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class Box:
    def __init__(self, spec: BoxSpec, fleet: "Fleet", models: list[str]):
        self.spec = spec
        self.fleet = fleet
        self.models = list(models)
        self.loaded: set[str] = set(models) if spec.loaded else set()
        self.factor = 1.0
        self.alive = False
        self.port = 0
        self.slots = Slots(spec.parallel)
        self._load_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the runtime switches ---------------------------------------------------------------

    def start(self) -> "Box":
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.box = self
        self.port = server.server_address[1]
        self._server = server
        self.alive = True
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"box-{self.name}", daemon=True)
        self._thread.start()
        return self

    def kill(self) -> None:
        """Stop listening and cut every connection: the next connect is refused."""
        self.alive = False
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def revive(self) -> None:
        if not self.alive:
            self.slots = Slots(self.spec.parallel)
            self.start()

    def slow(self, factor: float) -> None:
        self.factor = factor

    def unload(self, model: str) -> None:
        self.loaded.discard(model)

    # --- what a chat costs --------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` × the box's factor, in steps, ending early (raising) if killed."""
        end = time.monotonic() + seconds * self.factor
        while True:
            left = end - time.monotonic()
            if not self.alive:
                raise BoxKilled()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def ensure_loaded(self, model: str) -> bool:
        """Load `model` if it is not loaded (the caller holds a slot); True if this call paid."""
        if model in self.loaded:
            return False
        with self._load_lock:
            if model in self.loaded:
                return False
            self.sleep(self.spec.load_time)
            self.loaded.add(model)
            return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    box: Box


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        box = self.server.box
        with box._conn_lock:
            box._connections.add(self.connection)

    def finish(self) -> None:
        box = self.server.box
        with box._conn_lock:
            box._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        box = self.server.box
        path = self.path.split("?")[0]
        body = self._read_body()
        if not box.alive:
            self.close_connection = True
            return
        if path != "/api/chat":
            box.fleet._count(box.name, path)
        handler = {
            ("GET", "/"): self._root,
            ("GET", "/api/version"): self._version,
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/show"): self._show,
            ("POST", "/api/chat"): self._chat,
        }.get((method, path))
        if handler is None:
            return self._json(404, {"error": "404 page not found"})
        handler(body if isinstance(body, dict) else {})

    # --- the API ------------------------------------------------------------------------------

    def _root(self, body) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self, body) -> None:
        self._json(200, {"version": "0.12.3"})

    def _tags(self, body) -> None:
        box = self.server.box
        self._json(200, {"models": [_model_entry(m) for m in box.models]})

    def _ps(self, body) -> None:
        box = self.server.box
        expires = datetime.fromtimestamp(time.time() + 300, timezone.utc).isoformat()
        self._json(200, {"models": [{**_model_entry(m), "expires_at": expires,
                                     "size_vram": int(MODEL_SIZE * (1 - box.spec.offload))}
                                    for m in box.models if m in box.loaded]})

    def _show(self, body) -> None:
        name = _known(self.server.box, body.get("model") or body.get("name") or "")
        if name is None:
            return self._json(404, {"error": f"model '{body.get('model')}' not found"})
        self._json(200, {
            "modelfile": f"FROM {name}",
            "parameters": "stop \"<|eot_id|>\"",
            "template": "{{ .Prompt }}",
            "details": _details(),
            "model_info": {"general.architecture": "llama",
                           "llama.context_length": CONTEXT_LENGTH},
            "capabilities": ["completion", "tools"],
            "modified_at": _now(),
        })

    def _chat(self, body) -> None:
        box = self.server.box
        fleet = box.fleet
        name = _known(box, body.get("model") or "")
        record = fleet._arrive(box, body.get("model") or "", _tag_of(body))
        if name is None:
            record.status = "missing"
            return self._json(404, {"error": f"model '{body.get('model')}' not found"})
        limit = box.spec.max_queue
        if limit is not None and box.slots.in_use >= box.slots.parallel \
                and box.slots.waiting >= limit:
            record.status = "busy"
            return self._json(503, {"error": "server busy, please try again.  maximum pending "
                                             "requests exceeded"})
        tokens = _answer_tokens(body, fleet.answer_tokens)
        try:
            box.slots.acquire(lambda: box.alive)
        except BoxKilled:
            record.status = "cut"
            self.close_connection = True
            return
        try:
            record.slot_at = time.monotonic()
            self._answer(box, record, name, body, tokens)
        finally:
            box.slots.release()
            record.ended = time.monotonic()

    def _answer(self, box: Box, record: ChatRecord, name: str, body: dict, tokens: int) -> None:
        started = time.monotonic()
        stream = body.get("stream", True) is not False
        try:
            record.loaded_here = box.ensure_loaded(name)
            loaded_at = time.monotonic()
            box.sleep(box.spec.ttft)
            prompt_done = time.monotonic()
            words = []
            for i in range(tokens):
                if i:
                    box.sleep(1.0 / box.spec.tok_rate)
                word = f"w{i} "
                words.append(word)
                if stream:
                    if i == 0:  # as Ollama does: the status line comes with the first chunk
                        self.send_response(200)
                        self.send_header("Content-Type", "application/x-ndjson")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                    self._chunk({"model": name, "created_at": _now(),
                                 "message": {"role": "assistant", "content": word},
                                 "done": False})
                if i == 0:
                    record.first_token_at = time.monotonic()
            ended = time.monotonic()
            final = {
                "model": name, "created_at": _now(),
                "message": {"role": "assistant", "content": "" if stream else "".join(words)},
                "done": True, "done_reason": "stop",
                "total_duration": int((ended - record.arrived) * NS),
                "load_duration": int((loaded_at - started) * NS),
                "prompt_eval_count": _prompt_tokens(body),
                "prompt_eval_duration": int((prompt_done - loaded_at) * NS),
                "eval_count": tokens,
                "eval_duration": int((ended - prompt_done) * NS),
            }
            if stream:
                self._chunk(final)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            else:
                self._json(200, final)
            record.status = "ok"
        except (BoxKilled, BrokenPipeError, ConnectionResetError, OSError):
            record.status = "cut"
            self.close_connection = True

    # --- plumbing -------------------------------------------------------------------------

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _chunk(self, payload: dict) -> None:
        data = json.dumps(payload).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _known(box: Box, name: str) -> str | None:
    for model in box.models:
        if name == model or (":" not in name and model == name + ":latest"):
            return model
    return None


def _model_entry(model: str) -> dict:
    return {"name": model, "model": model, "modified_at": _now(), "size": MODEL_SIZE,
            "digest": digest_of(model).removeprefix("sha256:"), "details": _details()}


def _details() -> dict:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "8.0B", "quantization_level": "Q4_K_M"}


def _tag_of(body: dict) -> str | None:
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            found = TAG.search(content)
            if found:
                return found.group(1)
    return None


def _answer_tokens(body: dict, default: int) -> int:
    options = body.get("options") or {}
    asked = options.get("num_predict") if isinstance(options, dict) else None
    return asked if isinstance(asked, int) and 0 < asked < default else default


def _prompt_tokens(body: dict) -> int:
    chars = sum(len(m.get("content") or "") for m in body.get("messages") or ()
                if isinstance(m, dict) and isinstance(m.get("content"), str))
    return max(1, chars // 4)


class Fleet:
    """The boxes, and the record of every chat they served."""

    def __init__(self, specs: list[BoxSpec], models=("llama3.1:8b",), answer_tokens: int = 10):
        self.answer_tokens = answer_tokens
        self.boxes = {spec.name: Box(spec, self, list(models)) for spec in specs}
        self.records: list[ChatRecord] = []
        self.other_requests: list[tuple[float, str, str]] = []  # (time.monotonic(), box, path)
        self._lock = threading.Lock()

    def start(self) -> "Fleet":
        for box in self.boxes.values():
            box.start()
        return self

    def stop(self) -> None:
        for box in self.boxes.values():
            box.kill()

    def __enter__(self) -> "Fleet":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Box:
        return self.boxes[name]

    def by_tag(self) -> dict[str, ChatRecord]:
        with self._lock:
            return {r.tag: r for r in self.records if r.tag is not None}

    def _arrive(self, box: Box, model: str, tag: str | None) -> ChatRecord:
        with self._lock:
            record = ChatRecord(box.name, model, tag, time.monotonic(),
                                free_slots={b.name: b.slots.free if b.alive else 0
                                            for b in self.boxes.values()},
                                queued={b.name: b.slots.waiting for b in self.boxes.values()})
            self.records.append(record)
        return record

    def _count(self, box: str, path: str) -> None:
        with self._lock:
            self.other_requests.append((time.monotonic(), box, path))


def standard_specs() -> list[BoxSpec]:
    """The bench's three boxes: A and B fast, C slow (T1's fleet, used by every scenario)."""
    return [
        BoxSpec("A", ttft=0.3, tok_rate=50, parallel=2, load_time=3.0),
        BoxSpec("B", ttft=0.3, tok_rate=50, parallel=2, load_time=3.0),
        # 44% of the model in system memory: 1 + 9 × 0.44 ≈ 5× slower, as its TTFT and rate are
        BoxSpec("C", ttft=1.5, tok_rate=10, parallel=1, load_time=6.0, offload=0.44),
    ]


def main() -> None:
    fleet = Fleet(standard_specs()).start()
    for box in fleet.boxes.values():
        spec = box.spec
        print(f"{box.name}: {box.url}  ttft {spec.ttft} s, {spec.tok_rate} tok/s, "
              f"parallel {spec.parallel}, load {spec.load_time} s, "
              f"{spec.offload:.0%} in system memory")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fleet.stop()


if __name__ == "__main__":
    main()

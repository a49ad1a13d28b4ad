"""An Ollama-protocol test server: real HTTP on 127.0.0.1, scripted per test.

Reach it through the real clients (`ChatOllama`, `ollama.Client`, httpx) exactly as a real Ollama
server would be reached. It speaks the parts of the Ollama API ai-cli uses:

    GET/HEAD /          "Ollama is running"
    GET  /api/version   {"version": "..."}
    GET  /api/tags      {"models": [{"name": "llama3:latest", "model": ..., "details": ...}]}
    POST /api/show      {"capabilities": [...], "details": ..., ...}   404 for unknown models
    POST /api/embed     {"embeddings": [[...], ...]}: `embedding_of(text)` per input; 400 for a
                        model without `embedding`
    POST /api/chat      no messages: the model is loaded (`done_reason` "load"; "unload" with
                        keep_alive 0), as Ollama does;
                        else NDJSON stream (default) or one JSON object ("stream": false);
                        tool calls in message.tool_calls; 404 {"error": ...} for unknown models

Names follow Ollama: `llama3` and `llama3:latest` are the same model.

Scripting (all thread-safe; change anything at any time, also while a request is running):

    server = OllamaTestServer().start()         # or use the fixtures in tests/ollama_fixtures.py
    server.url                                  # "http://127.0.0.1:PORT"
    server.add_model("llama3")                  # capabilities default to ("completion", "tools")
    server.add_model("tiny", capabilities=("completion",))
    server.add_model("old", capabilities=None)  # an old server: /api/show has no capabilities
    server.add_model("m", digest="sha256:…")    # /api/tags' digest (default: from the name)
    server.show_info = {"clip.vision.image_size": 336}  # extra model_info keys on /api/show
    server.reply_thinking("hmm", "answer")      # message.thinking pieces, then the answer; only
                                                # when the request asks to think, and a `think`
                                                # to a model without `thinking` is a 400

    server.remove_model("llama3")
    server.reply("Hello there")                 # queued; the next /api/chat answers with it
    server.reply("a", "b", "c")                 # one reply streamed as exactly these chunks
    server.reply_tool_call("read_file", {"path": "a.py"})   # next reply is a tool call
    server.reply_raw_tool_call("read_file", "{not json")    # arguments sent as given (broken)
    server.default_reply = "ok"                 # used when the queue is empty
    server.mode = "hang"            # every endpoint: accept, then never answer (until stop/reset)
    server.mode = "error_500"       # every endpoint: 500 {"error": "..."}
    server.mode = "slow"            # every answer waits `server.delay` s; a chat stream sends its
                                    # first chunk at once, then waits `delay` before each next one
    server.mode = "down"            # stop listening: connections are refused; "normal" to return
    server.chat_mode = "die_mid_stream"   # only /api/chat: send `server.die_after` chunks, then
                                          # drop the connection (chunked body never terminated)
    server.chat_mode = "garbage"          # only /api/chat: `die_after` chunks, then the line
                                          # `server.garbage` (not JSON), then the end
    server.chat_mode = "trickle"          # only /api/chat: `server.trickle_after` chunks at once,
                                          # then the rest of the body one byte every
                                          # `server.trickle_interval` s (each byte well within
                                          # any socket timeout, the whole far slower)
    server.chat_mode = "hang_mid_stream"  # only /api/chat: `die_after` chunks, then silence with
                                          # the connection open (until the mode changes or stop)
    server.chat_mode = "hang" | "error_500" | "slow" | "empty_stream" | None (follow `mode`)
    server.trickled                 # bytes sent one at a time so far, over all trickles
    server.context_length = 1024    # /api/show reports this window (model_info) when not None
    server.streams_cut              # chat streams the client closed before their end
    server.counts                   # [{"prompt_eval_count", "eval_count"}, ...] each final chunk:
                                    # prompt tokens = message characters / 3 (+ 4 per message),
                                    # answer tokens = chunks sent
    server.requests                 # [ReceivedRequest(method, path, body), ...] every request
    server.chat_requests            # only POST /api/chat, e.g. [r.body["model"] for r in ...]
    server.clear_requests()
    server.stop()

Slots and load, as a real box has them (for balancing):

    server.parallel = 2             # chat requests served at once (OLLAMA_NUM_PARALLEL); more
                                    # wait in a queue for a free slot. None (default): no limit
    server.max_queue = 0            # waiting requests beyond this get 503 "server busy" (as
                                    # OLLAMA_MAX_QUEUE); None (default): the queue is unbounded
    server.first_token_delay = 0.05 # seconds a chat request waits in its slot before its first
                                    # chunk (a box's time to first token; default 0)
    server.held = True              # chat requests take their slot, then wait before their
                                    # first chunk until `held` is False (or the server stops)
    server.in_slots / server.queued # chat requests in a slot / waiting for one, right now
    server.chat_mode = "busy"       # only /api/chat: 503 {"error": "server busy, ..."}
    server.chat_mode = "bad_request"  # only /api/chat: 400 {"error": ...}
    server.loaded = {"llama3:latest"}  # GET /api/ps lists these; None (default): every model
    server.offload = 0.5            # GET /api/ps: this share of each model not in VRAM
                                    # (size_vram = size x (1 - offload); default 0: all on GPU)
    server.load_time = 0.5          # a chat for a model not in `loaded` (a set) waits this long
                                    # first, adds it to `loaded`, and reports it as load_duration
    server.add_model("llama3", digest="ab12...")  # /api/tags digest (default: one per name)

`refused_url()` gives a loopback URL where nothing listens (connection refused).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROMPT_CHARS_PER_TOKEN = 3  # the test server's "tokenizer" for prompt_eval_count
MESSAGE_TOKENS = 4  # and the template tokens it adds per message
MODES = ("normal", "hang", "error_500", "slow", "down", "die_mid_stream", "empty_stream",
         "garbage", "trickle", "hang_mid_stream", "busy", "bad_request")
BUSY_ERROR = "server busy, please try again.  maximum pending requests exceeded"  # Ollama's
HANG_LIMIT = 120.0  # a hung request is released at the latest after this, so nothing leaks


# A tool as the OpenAI/Ollama schema describes it, for tests that bind tools to ChatOllama.
READ_FILE_TOOL = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
}


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    body: Any  # parsed JSON, or None

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


@dataclass
class ScriptedReply:
    chunks: list[str] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)  # message.thinking pieces, sent first


def normalize_name(name: str) -> str:
    """Ollama's rule: a name without a tag means the `latest` tag."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def refused_url() -> str:
    """A loopback URL where nothing listens: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class OllamaTestServer:
    """One scripted Ollama server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, version: str = "0.12.3"):
        self.host = host
        self.port = port
        self.version = version
        self.default_reply = "Hello from the test server."
        self.delay = 0.2
        self.die_after = 2
        self.trickle_after = 0
        self.trickle_interval = 0.05
        self.trickled = 0
        self.garbage = b"<html><body>502 Bad Gateway</body></html>"
        self.context_length: int | None = None
        self.counts: list[dict] = []
        self.streams_cut = 0  # chat streams whose client closed the connection before the end
        self._mode = "normal"
        self.chat_mode: str | None = None
        self.parallel: int | None = None  # slots (see "Slots and load" above)
        self.max_queue: int | None = None
        self.held = False
        self.first_token_delay = 0.0
        self.load_time = 0.0
        self.loaded: set | None = None
        self.offload = 0.0
        self.in_slots = 0
        self.queued = 0
        self.digests: dict[str, str] = {}  # name -> digest on /api/tags
        self.show_info: dict = {}  # extra model_info keys on /api/show (a vision projector...)
        self._slot_free = threading.Condition()
        self._models: dict[str, tuple[str, ...] | None] = {}
        self._replies: deque[ScriptedReply] = deque()
        self._requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "OllamaTestServer":
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = _QuietServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._release.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # hung requests end now
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None
        with self._lock:
            open_connections, self._connections = list(self._connections), set()
        for conn in open_connections:  # keep-alive connections die with the server, as in life
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "OllamaTestServer":
        return self if self._httpd is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- scripting ---------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; use one of {MODES}")
        was = self._mode
        self._mode = value
        if value == "down" and self._httpd is not None:
            self.stop()
        elif was == "down" and value != "down" and self._httpd is None:
            self.start()  # same port again

    def add_model(self, name: str, capabilities=("completion", "tools"),
                  digest: str | None = None) -> str:
        """`capabilities=None`: an old server's /api/show, without the field. `digest`: what
        /api/tags reports (default: one derived from the name)."""
        full = normalize_name(name)
        with self._lock:
            self._models[full] = None if capabilities is None else tuple(capabilities)
            self.digests[full] = digest or _digest_of(full)
        return full

    def remove_model(self, name: str) -> None:
        with self._lock:
            self._models.pop(normalize_name(name), None)

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def reply(self, *chunks: str) -> None:
        """Queue one reply. One argument is split into word chunks; several are sent as given."""
        parts = list(chunks) if len(chunks) != 1 else _split_words(chunks[0])
        with self._lock:
            self._replies.append(ScriptedReply(chunks=parts))

    def reply_thinking(self, thinking: str, answer: str) -> None:
        """Queue one reply that thinks first (word pieces in `message.thinking`, sent only when
        the request asked to think, as Ollama does), then answers."""
        with self._lock:
            self._replies.append(ScriptedReply(chunks=_split_words(answer),
                                               thinking=_split_words(thinking)))

    def reply_tool_call(self, name: str, arguments: dict | None = None, text: str = "") -> None:
        """Queue one reply that calls a tool (several calls: call `reply_tool_calls`)."""
        self.reply_tool_calls([(name, arguments or {})], text=text)

    def reply_raw_tool_call(self, name: str, raw_arguments) -> None:
        """Queue a tool call whose `arguments` are sent exactly as given (e.g. a string that is
        not the JSON object Ollama's API promises): a server or model gone wrong."""
        with self._lock:
            self._replies.append(ScriptedReply(
                chunks=[], tool_calls=[{"function": {"name": name, "arguments": raw_arguments}}]))

    def reply_tool_calls(self, calls, text: str = "") -> None:
        tool_calls = [{"function": {"name": n, "arguments": dict(a)}} for n, a in calls]
        with self._lock:
            self._replies.append(
                ScriptedReply(chunks=_split_words(text) if text else [], tool_calls=tool_calls)
            )

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path == "/api/chat"]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- used by the handler -----------------------------------------------------------------

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _capabilities(self, name: str) -> tuple[str, ...] | None:
        """The model's capabilities (() for one served without the field); None: unknown."""
        with self._lock:
            full = normalize_name(name)
            return None if full not in self._models else (self._models[full] or ())

    def _next_reply(self) -> ScriptedReply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return ScriptedReply(chunks=_split_words(self.default_reply))

    def _take_slot(self) -> bool:
        """Wait for a free chat slot (False: the queue is full, answer 503)."""
        with self._slot_free:
            if self.parallel is not None and self.in_slots >= self.parallel:
                if self.max_queue is not None and self.queued >= self.max_queue:
                    return False
                self.queued += 1
                deadline = time.monotonic() + HANG_LIMIT
                while self.in_slots >= self.parallel and time.monotonic() < deadline:
                    self._slot_free.wait(0.05)
                self.queued -= 1
            self.in_slots += 1
        return True

    def _free_slot(self) -> None:
        with self._slot_free:
            self.in_slots -= 1
            self._slot_free.notify_all()

    def _load(self, name: str) -> int:
        """Load the model when `loaded` is a set without it: wait `load_time`, then it is
        loaded. The nanoseconds it took (Ollama's load_duration), 0 when it was loaded."""
        full = normalize_name(name)
        with self._lock:
            cold = self.loaded is not None and full not in {normalize_name(n) for n in self.loaded}
        if not cold or not self.load_time:
            return 0
        self._release.wait(self.load_time)
        with self._lock:
            self.loaded = {*self.loaded, full}
        return int(self.load_time * 1e9)

    def _wait_while_held(self) -> None:
        deadline = time.monotonic() + HANG_LIMIT
        while self.held and time.monotonic() < deadline:
            if self._release.wait(0.02):
                return

    def _mode_for(self, path: str) -> str:
        if path == "/api/chat" and self.chat_mode is not None:
            return self.chat_mode
        return self._mode


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # clients that give up (timeouts, dropped streams) are part of the script


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked streaming, like Ollama
    server_state: OllamaTestServer
    _loaded_ns = 0  # what loading the model cost this request (load_time), in nanoseconds

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        # Like Ollama (Go sets it by default): without it each chunk waits ~40 ms for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server_state._lock:
            self.server_state._connections.add(self.connection)

    def finish(self) -> None:
        with self.server_state._lock:
            self.server_state._connections.discard(self.connection)
        super().finish()

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- dispatch ----------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        state = self.server_state
        path = self.path.split("?", 1)[0]
        body = self._body = self._read_body()
        state._record(ReceivedRequest(method, path, body))
        mode = state._mode_for(path)
        if mode == "hang":
            return self._hang(path)
        if mode == "error_500":
            return self._json(500, {"error": "the test server was told to fail (error_500)"})
        if mode == "slow" and path != "/api/chat":  # a chat stream is slow between its chunks
            time.sleep(state.delay)
        route = {
            ("GET", "/"): self._root,
            ("HEAD", "/"): self._root,
            ("GET", "/api/version"): self._version,
            ("GET", "/api/tags"): self._tags,
            ("POST", "/api/show"): self._show,
            ("POST", "/api/chat"): self._chat,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/embed"): self._embed,
        }.get((method, path))
        if route is None:
            return self._text(404, "404 page not found")
        route(body if isinstance(body, dict) else {}, mode)

    def _root(self, body, mode) -> None:
        self._text(200, "Ollama is running")

    def _version(self, body, mode) -> None:
        self._json(200, {"version": self.server_state.version})

    def _tags(self, body, mode) -> None:
        state = self.server_state
        with state._lock:
            digests = dict(state.digests)
        self._json(200, {"models": [_tag_entry(n, digests.get(n)) for n in state.models]})

    def _ps(self, body, mode) -> None:
        state = self.server_state
        loaded = state.models if state.loaded is None else [normalize_name(n)
                                                            for n in state.loaded]
        size = 4661224676
        vram = int(size * (1 - state.offload))
        self._json(200, {"models": [{"name": n, "model": n, "size": size,
                                     "digest": _digest_of(n), "details": _details(),
                                     "expires_at": _now(), "size_vram": vram}
                                    for n in loaded]})

    def _show(self, body, mode) -> None:
        name = body.get("model") or body.get("name") or ""
        capabilities = self.server_state._capabilities(name)
        if capabilities is None:
            return self._not_found(name)
        state = self.server_state
        answer = {
            "modelfile": f"FROM {normalize_name(name)}",
            "parameters": "stop \"<|eot_id|>\"",
            "template": "{{ .Prompt }}",
            "details": _details(),
            "model_info": {**_model_info(state.context_length), **state.show_info},
            "capabilities": list(capabilities),
            "modified_at": _now(),
        }
        with state._lock:
            if state._models.get(normalize_name(name)) is None:  # an old server: no field
                del answer["capabilities"]
        self._json(200, answer)

    def _chat(self, body, mode) -> None:
        name = body.get("model") or ""
        capabilities = self.server_state._capabilities(name)
        if capabilities is None:
            return self._not_found(name)
        if not body.get("messages"):  # Ollama: no messages loads the model (or unloads it)
            unload = body.get("keep_alive") in (0, "0", "0s")
            self.server_state._load(name)
            return self._json(200, {"model": name, "created_at": _now(), "done": True,
                                    "message": {"role": "assistant", "content": ""},
                                    "done_reason": "unload" if unload else "load"})
        if body.get("think") not in (None, False) and "thinking" not in capabilities:
            return self._json(400, {"error": f'"{name}" does not support thinking'})  # as Ollama
        if mode == "busy":
            return self._json(503, {"error": BUSY_ERROR})
        if mode == "bad_request":
            return self._json(400, {"error": "the test server was told to refuse (bad_request)"})
        state = self.server_state
        if not state._take_slot():
            return self._json(503, {"error": BUSY_ERROR})
        try:
            state._wait_while_held()
            self._loaded_ns = state._load(name)
            if state.first_token_delay:
                state._release.wait(state.first_token_delay)
            reply = state._next_reply()
            if body.get("think") in (None, False):
                reply = ScriptedReply(reply.chunks, reply.tool_calls)  # no thinking unless asked
            if body.get("stream", True) is False:
                return self._chat_whole(name, reply, mode)
            self._chat_stream(name, reply, mode)
        finally:
            state._free_slot()

    def _embed(self, body, mode) -> None:
        """Ollama's /api/embed: one vector per input (derived from the text), for a model with
        the embedding capability; 400 for one without, as Ollama answers."""
        name = body.get("model") or ""
        capabilities = self.server_state._capabilities(name)
        if capabilities is None:
            return self._not_found(name)
        if "embedding" not in capabilities:
            return self._json(400, {"error": f'"{name}" does not support embeddings'})
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else []
        self._json(200, {"model": name, "embeddings": [embedding_of(t) for t in texts]})

    # --- /api/chat ---------------------------------------------------------------------------

    def _chat_whole(self, name: str, reply: ScriptedReply, mode: str) -> None:
        message = {"role": "assistant", "content": "".join(reply.chunks)}
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        data = json.dumps(self._final(name, message, len(reply.chunks))).encode()
        if mode == "slow":
            time.sleep(self.server_state.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "die_mid_stream":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            return self._drop()
        self.wfile.write(data)

    def _chat_stream(self, name: str, reply: ScriptedReply, mode: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if mode == "empty_stream":
            return self._end_chunks()
        state = self.server_state
        parts = [
            {"model": name, "created_at": _now(),
             "message": {"role": "assistant", "content": "", "thinking": t}, "done": False}
            for t in reply.thinking
        ] + [
            {"model": name, "created_at": _now(),
             "message": {"role": "assistant", "content": c}, "done": False}
            for c in reply.chunks
        ]
        if reply.tool_calls:
            parts.append({"model": name, "created_at": _now(),
                          "message": {"role": "assistant", "content": "",
                                      "tool_calls": reply.tool_calls}, "done": False})
        parts.append(self._final(name, {"role": "assistant", "content": ""}, len(parts)))
        try:
            for i, part in enumerate(parts):
                if mode == "die_mid_stream" and i >= state.die_after:
                    return self._drop()
                if mode == "garbage" and i >= state.die_after:
                    self._chunk(state.garbage + b"\n")
                    return self._end_chunks()
                if mode == "slow" and i:
                    time.sleep(state.delay)
                if mode == "hang_mid_stream" and i >= state.die_after:
                    return self._hang("/api/chat", "hang_mid_stream")
                if mode == "trickle" and i >= state.trickle_after:
                    return self._trickle(parts[i:])
                self._chunk(json.dumps(part).encode() + b"\n")
            self._end_chunks()
        except (BrokenPipeError, ConnectionResetError):  # the client went away mid-answer
            with state._lock:
                state.streams_cut += 1
            self.close_connection = True

    def _trickle(self, parts: list[dict]) -> None:
        """The rest of the body (chunk framing and all), one byte per `trickle_interval`."""
        state = self.server_state
        body = b"".join(_chunked(json.dumps(part).encode() + b"\n") for part in parts)
        deadline = time.monotonic() + HANG_LIMIT
        for byte in body + b"0\r\n\r\n":
            if state._release.wait(state.trickle_interval) or time.monotonic() > deadline:
                self.close_connection = True
                return
            self.wfile.write(bytes((byte,)))
            self.wfile.flush()
            with state._lock:
                state.trickled += 1

    def _final(self, name: str, message: dict, answer_tokens: int) -> dict:
        counts = {"prompt_eval_count": _prompt_tokens(self._body), "eval_count": answer_tokens}
        with self.server_state._lock:
            self.server_state.counts.append(counts)
        loaded = {"load_duration": self._loaded_ns} if self._loaded_ns else {}
        return {**_final(name, message), **counts, **loaded}

    # --- plumbing ----------------------------------------------------------------------------

    def _hang(self, path: str, mode: str = "hang") -> None:
        """Answer nothing more until the mode changes, the server stops, or HANG_LIMIT passes."""
        state = self.server_state
        deadline = time.monotonic() + HANG_LIMIT
        while state._mode_for(path) == mode and time.monotonic() < deadline:
            if state._release.wait(0.05):
                break
        self.close_connection = True

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _not_found(self, name: str) -> None:
        self._json(404, {"error": f"model '{name}' not found"})

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(_chunked(data))
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection abruptly, as a crashed server would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def embedding_of(text) -> list[float]:
    """The test server's vector for a text: four numbers, the same for the same text."""
    digest = hashlib.sha256(str(text).encode()).digest()
    return [round(b / 255, 4) for b in digest[:4]]


def _chunked(data: bytes) -> bytes:
    """`data` as one chunk of a chunked HTTP body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def _split_words(text: str) -> list[str]:
    """'a b c' -> ['a ', 'b ', 'c']: chunks that join back to the text."""
    words = text.split(" ")
    chunks = [w + " " for w in words[:-1]] + [words[-1]]
    return [c for c in chunks if c]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _details() -> dict:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "8.0B", "quantization_level": "Q4_0"}


def _model_info(context_length: int | None) -> dict:
    info = {"general.architecture": "llama"}
    if context_length is not None:
        info["llama.context_length"] = context_length  # Ollama: "<architecture>.context_length"
    return info


def _prompt_tokens(body) -> int:
    messages = body.get("messages") or [] if isinstance(body, dict) else []
    chars = sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    return -(-chars // PROMPT_CHARS_PER_TOKEN) + MESSAGE_TOKENS * len(messages)


def _tag_entry(name: str, digest: str | None = None) -> dict:
    return {"name": name, "model": name, "modified_at": _now(), "size": 4661224676,
            "digest": digest or _digest_of(name), "details": _details()}


def _digest_of(name: str) -> str:
    """A stable sha256-looking digest per model name (the same name: the same digest)."""
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()


def _final(name: str, message: dict) -> dict:
    return {"model": name, "created_at": _now(), "message": message, "done": True,
            "done_reason": "stop", "total_duration": 1_000_000, "load_duration": 100_000,
            "prompt_eval_count": 5, "prompt_eval_duration": 200_000, "eval_count": 7,
            "eval_duration": 700_000}

"""Ollama's API shapes (docs/api.md of Ollama), read and written. Pure: no I/O.

Requests are checked here, so a malformed one is a 400 with one line, before any model is asked.
Answers are built exactly as Ollama sends them: a streamed chat is NDJSON chunks
`{"model", "created_at", "message": {"role": "assistant", "content"}, "done": false}` ending with a
chunk that has `"done": true`, `done_reason` and the durations and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from agent.relay import RelayedMessage, checked_image
from registry.errors import InvalidInput
from ui.gateway.tools import checked_tool_calls, checked_tools, object_arguments

# The request fields that are Ollama options or request fields of the router (router/options.py).
REQUEST_FIELDS = ("format", "keep_alive", "think")


@dataclass(frozen=True)
class OllamaCall:
    """A checked `/api/chat` or `/api/generate` body."""

    model: str
    messages: tuple[RelayedMessage, ...]
    tools: tuple[dict, ...]
    options: dict
    stream: bool

    @property
    def loads_only(self) -> bool:
        """Nothing to answer (no message with text, images or tool calls): as Ollama reads an
        empty `messages` or `prompt`, a request to load the model (or, `keep_alive: 0`, to
        unload it)."""
        return not any(m.content or m.images or m.tool_calls
                       for m in self.messages if m.role != "system")


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _object(body, where: str = "The request body") -> dict:
    if not isinstance(body, dict):
        raise InvalidInput(f"{where} is not a JSON object.")
    return body


def _text(value, where: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string.")
    return value


def _options(body: dict) -> dict:
    options = body.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise InvalidInput("\"options\" must be an object of Ollama options, e.g. "
                           "{\"temperature\": 0.2}.")
    merged = dict(options)
    for name in REQUEST_FIELDS:
        if body.get(name) is not None:
            merged[name] = body[name]
    if "think" in merged and not isinstance(merged["think"], (bool, str)):
        raise InvalidInput("\"think\" must be true, false, or \"low\", \"medium\", \"high\".")
    return merged


def _message(value, index: int) -> RelayedMessage:
    where = f"messages[{index}]"
    message = _object(value, where)
    role = message.get("role")
    if role not in ("system", "user", "assistant", "tool"):
        raise InvalidInput(f"{where}.role must be system, user, assistant or tool.")
    images = message.get("images") or []
    if not isinstance(images, list):
        raise InvalidInput(f"{where}.images must be a list of base64 images.")
    return RelayedMessage(
        role, _text(message.get("content"), f"{where}.content"),
        tuple(checked_image(image, f"{where}.images[{i}]") for i, image in enumerate(images)),
        checked_tool_calls(message.get("tool_calls"), f"{where}.tool_calls", object_arguments),
        _text(message.get("tool_call_id"), f"{where}.tool_call_id") or None,
    )


def chat_call(body) -> OllamaCall:
    body = _object(body)
    messages = body.get("messages")
    if messages is None:
        messages = []
    if not isinstance(messages, list):
        raise InvalidInput("\"messages\" must be a list of {\"role\", \"content\"}.")
    return OllamaCall(_text(body.get("model"), "\"model\""),
                      tuple(_message(m, i) for i, m in enumerate(messages)), checked_tools(body.get("tools")),
                      _options(body), body.get("stream") is not False)


def generate_call(body) -> OllamaCall:
    """`/api/generate` as one chat turn: `system` then the `prompt` (with its `images`)."""
    body = _object(body)
    prompt = _text(body.get("prompt"), "\"prompt\"")
    system = _text(body.get("system"), "\"system\"")
    images = body.get("images") or []
    if not isinstance(images, list):
        raise InvalidInput("\"images\" must be a list of base64 images.")
    messages = ([RelayedMessage("system", system)] if system else []) + [RelayedMessage(
        "user", prompt, tuple(checked_image(im, f"images[{i}]") for i, im in enumerate(images)))]
    return OllamaCall(_text(body.get("model"), "\"model\""), tuple(messages), (),
                      _options(body), body.get("stream") is not False)


def wire_tool_calls(calls) -> list[dict]:
    """LangChain tool calls as Ollama sends them."""
    return [{"function": {"name": c.get("name", ""), "arguments": c.get("args") or {}}}
            for c in calls]


def chat_chunk(model: str, text: str = "", thinking: str = "", tool_calls=()) -> dict:
    message = {"role": "assistant", "content": text}
    if thinking:
        message["thinking"] = thinking
    if tool_calls:
        message["tool_calls"] = wire_tool_calls(tool_calls)
    return {"model": model, "created_at": now_text(), "message": message, "done": False}


def generate_chunk(model: str, text: str = "", thinking: str = "") -> dict:
    chunk = {"model": model, "created_at": now_text(), "response": text, "done": False}
    if thinking:
        chunk["thinking"] = thinking
    return chunk


def final_numbers(final: dict, record) -> dict:
    """The last chunk's numbers: the model server's when it sent them, else what ai-cli
    measured (the answer log's record), so a client always gets them."""
    numbers = {"done_reason": final.get("done_reason") or "stop"}
    total = final.get("total_duration")
    if total is None and record is not None and record.total_ms is not None:
        total = record.total_ms * 1_000_000
    numbers["total_duration"] = total or 0
    numbers["load_duration"] = final.get("load_duration") or 0
    numbers["prompt_eval_count"] = final.get("prompt_eval_count",
                                             getattr(record, "input_tokens", None) or 0)
    numbers["prompt_eval_duration"] = final.get("prompt_eval_duration") or 0
    numbers["eval_count"] = final.get("eval_count", getattr(record, "output_tokens", None) or 0)
    numbers["eval_duration"] = final.get("eval_duration") or 0
    return numbers


def chat_done(model: str, relayed, record, whole: bool) -> dict:
    """The final chunk; `whole` (stream false): the one object, with the whole answer in it."""
    message = {"role": "assistant", "content": relayed.text if whole else ""}
    if whole and relayed.thinking:
        message["thinking"] = relayed.thinking
    if whole and relayed.tool_calls:
        message["tool_calls"] = wire_tool_calls(relayed.tool_calls)
    return {"model": model, "created_at": now_text(), "message": message, "done": True,
            **final_numbers(relayed.final, record)}


def generate_done(model: str, relayed, record, whole: bool) -> dict:
    done = {"model": model, "created_at": now_text(), "response": relayed.text if whole else "",
            "done": True, **final_numbers(relayed.final, record)}
    if whole and relayed.thinking:
        done["thinking"] = relayed.thinking
    return done


def loaded(model: str, kind: str, keep_alive) -> dict:
    """Ollama's answer to a load (or unload) request, in chat's or generate's shape."""
    unloading = keep_alive in (0, "0", "0s", "0m")
    answer = {"model": model, "created_at": now_text()}
    if kind == "chat":
        answer["message"] = {"role": "assistant", "content": ""}
    else:
        answer["response"] = ""
    return {**answer, "done_reason": "unload" if unloading else "load", "done": True}


def error_body(message: str) -> dict:
    return {"error": message}


def not_found(name: str) -> dict:
    """Ollama's own words for a model it does not have."""
    return {"error": f"model \"{name}\" not found, try pulling it first"}

"""OpenAI's chat-completions shapes, read and written. Pure: no I/O.

Read: `model`, `messages` (content as text or as parts: `text`, `image_url` with a data URL),
`tools`, assistant `tool_calls` (arguments as a JSON string), `tool` messages with
`tool_call_id`, and `temperature`, `top_p`, `max_tokens` (or `max_completion_tokens`), `stop`,
`seed`, `response_format` (`json_object`, or `json_schema`'s schema), `stream`. Written: a
`chat.completion`, or `chat.completion.chunk`s as Server-Sent Events ending with `data: [DONE]`;
errors as `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from agent.relay import RelayedMessage, checked_image
from registry.errors import InvalidInput
from ui.gateway.tools import checked_tool_calls, checked_tools, json_arguments


@dataclass(frozen=True)
class OpenAICall:
    model: str
    messages: tuple[RelayedMessage, ...]
    tools: tuple[dict, ...]
    options: dict
    stream: bool
    include_usage: bool = False


def _text_of(content, where: str) -> tuple[str, tuple[str, ...]]:
    """(text, base64 images) of a message's content."""
    if content is None:
        return "", ()
    if isinstance(content, str):
        return content, ()
    if not isinstance(content, list):
        raise InvalidInput(f"{where} must be text or a list of parts.")
    texts, images = [], []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str) or not url.startswith("data:"):
                raise InvalidInput(f"{where}[{index}]: send images as data URLs "
                                   "(data:image/png;base64,...); ai-cli fetches no image URLs "
                                   "for other programs.")
            images.append(checked_image(url, f"{where}[{index}]"))
        else:
            raise InvalidInput(f"{where}[{index}] is not a text or image_url part.")
    return "".join(texts), tuple(images)


def _message(value, index: int) -> RelayedMessage:
    where = f"messages[{index}]"
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} is not an object.")
    role = value.get("role")
    if role == "developer":
        role = "system"
    if role not in ("system", "user", "assistant", "tool"):
        raise InvalidInput(f"{where}.role must be system, developer, user, assistant or tool.")
    text, images = _text_of(value.get("content"), f"{where}.content")
    call_id = value.get("tool_call_id")
    return RelayedMessage(role, text, images,
                          checked_tool_calls(value.get("tool_calls"), f"{where}.tool_calls",
                                             json_arguments),
                          call_id if isinstance(call_id, str) else None)


def _number(body: dict, key: str, kind=float):
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            kind is int and not float(value).is_integer()):
        raise InvalidInput(f"\"{key}\" must be a number.")
    return kind(value)


def _options(body: dict) -> dict:
    options: dict = {}
    for key, name, kind in (("temperature", "temperature", float), ("top_p", "top_p", float),
                            ("seed", "seed", int), ("max_tokens", "num_predict", int),
                            ("max_completion_tokens", "num_predict", int),
                            ("frequency_penalty", "frequency_penalty", float),
                            ("presence_penalty", "presence_penalty", float)):
        value = _number(body, key, kind)
        if value is not None:
            options[name] = value
    stop = body.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        options["stop"] = list(stop)
    elif stop is not None:
        raise InvalidInput("\"stop\" must be a string or a list of strings.")
    shape = body.get("response_format")
    if isinstance(shape, dict):
        if shape.get("type") == "json_object":
            options["format"] = "json"
        elif shape.get("type") == "json_schema":
            schema = (shape.get("json_schema") or {}).get("schema")
            if not isinstance(schema, dict):
                raise InvalidInput("\"response_format.json_schema.schema\" must be an object.")
            options["format"] = schema
    return options


def completion_call(body) -> OpenAICall:
    if not isinstance(body, dict):
        raise InvalidInput("The request body is not a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("\"model\" is required: a model's name, an id, or 'general' / 'coder'.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("\"messages\" must be a non-empty list of {\"role\", \"content\"}.")
    tools = checked_tools(body.get("tools"))
    usage = body.get("stream_options") or {}
    return OpenAICall(model, tuple(_message(m, i) for i, m in enumerate(messages)), tools,
                      _options(body), body.get("stream") is True,
                      isinstance(usage, dict) and usage.get("include_usage") is True)


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def wire_tool_calls(calls) -> list[dict]:
    return [{"id": c.get("id") or f"call_{uuid.uuid4().hex[:12]}", "type": "function",
             "function": {"name": c.get("name", ""),
                          "arguments": json.dumps(c.get("args") or {}, ensure_ascii=False)}}
            for c in calls]


def _usage(relayed) -> dict:
    record, final = relayed.record, relayed.final
    prompt = final.get("prompt_eval_count", getattr(record, "input_tokens", None)) or 0
    answer = final.get("eval_count", getattr(record, "output_tokens", None)) or 0
    return {"prompt_tokens": prompt, "completion_tokens": answer,
            "total_tokens": prompt + answer}


def _finish_reason(relayed) -> str:
    if relayed.tool_calls:
        return "tool_calls"
    return "length" if relayed.final.get("done_reason") == "length" else "stop"


def completion(ident: str, model: str, relayed) -> dict:
    message = {"role": "assistant", "content": relayed.text}
    if relayed.tool_calls:
        message["tool_calls"] = wire_tool_calls(relayed.tool_calls)
    return {"id": ident, "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": _finish_reason(relayed)}],
            "usage": _usage(relayed)}


def chunk(ident: str, model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None,
                         "finish_reason": finish_reason}]}


def last_chunks(ident: str, model: str, relayed, include_usage: bool) -> list[dict]:
    """After the text: the tool calls (each with its index), the finish reason, the usage."""
    chunks = []
    if relayed.tool_calls:
        calls = [{"index": i, **call} for i, call in enumerate(wire_tool_calls(relayed.tool_calls))]
        chunks.append(chunk(ident, model, {"tool_calls": calls}))
    chunks.append(chunk(ident, model, {}, _finish_reason(relayed)))
    if include_usage:
        chunks.append({**chunk(ident, model, {}), "choices": [], "usage": _usage(relayed)})
    return chunks


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def model_not_found(name: str) -> dict:
    return error_body(f"The model `{name}` does not exist or you do not have access to it.",
                      code="model_not_found", param="model")

"""One request from another program (the gateway's `/api/chat`, `/v1/chat/completions`), relayed
through the router: its model named in any form `-m` takes, or a request type; its own messages,
tools and options; the answer reported piece by piece as the chat exchange reports it
(agent/events.py), and the numbers of the final chunk kept for the client.

Unlike a chat exchange it keeps no session (the client holds its history) and takes the client's
options as given: Ollama itself decides about a key it does not know, as it would without ai-cli
in between. Every attempt goes into the answer log with face `api`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Callable

from agent.chat import AnswerReader
from agent.events import Broken, Done, Event, Notice, RouteChosen, Stopped, Trimmed
from registry.errors import InvalidInput
from router.chain import REQUEST_TYPES
from router.errors import StreamBroken

Report = Callable[[Event], None]
ROLES = ("system", "user", "assistant", "tool")
FACE = "api"  # how the answer log names requests that came through the gateway


@dataclass(frozen=True)
class Target:
    """What a request's `model` field means: a request type's route, a model `-m` would name
    (`model_key` as the router takes it, router/chain.py `request_key`), or a preset (its model,
    system prompt and options, under the request's own)."""

    request_type: str
    model_key: str | None = None
    name: str = ""  # as the client wrote it, which its answer echoes
    preset: Any = None  # registry.presets.Preset


@dataclass(frozen=True)
class RelayedMessage:
    """A message as both APIs carry it: text, base64 images, tool calls (name + arguments as a
    dict), and for a tool's result the id of the call it answers."""

    role: str
    content: str = ""
    images: tuple[str, ...] = ()
    tool_calls: tuple[dict, ...] = ()  # [{"id", "name", "args"}]
    tool_call_id: str | None = None


@dataclass(frozen=True)
class RelayRequest:
    target: Target
    messages: tuple[RelayedMessage, ...]
    tools: tuple[dict, ...] = ()  # OpenAI-style function tools (both APIs send that shape)
    options: dict = field(default_factory=dict)  # Ollama options and request fields


@dataclass
class Relayed:
    """The answer: its text, thinking, tool calls, the route that answered and the numbers of
    Ollama's final chunk (`done_reason`, durations in ns, `prompt_eval_count`, `eval_count`)."""

    text: str = ""
    thinking: str = ""
    tool_calls: list = field(default_factory=list)
    route: Any = None
    final: dict = field(default_factory=dict)
    stopped: bool = False
    record: Any = None  # the answer log's record of the attempt that answered


def resolve_target(models, text: str) -> Target:
    """A `model` field: a request type (`general`, `coder`), else a model named as `-m` names
    one (id, prefix, name, `name@host`, tagless name). UnknownModel when nothing has the name:
    the client gets a 404, never another model answering under that name."""
    from registry.lookup import resolve
    from router.chain import request_key

    wanted = (text or "").strip()
    if not wanted:
        raise InvalidInput("The request names no model: set \"model\" to a model's name, an id, "
                           "or 'general' / 'coder'.")
    if wanted.lower() in (*REQUEST_TYPES, "embedding"):
        return Target(wanted.lower(), None, wanted)
    named = resolve(models, wanted, prefer="general")
    return Target(named.model.model_type, request_key(named.model.model_id, named.pinned), wanted)


def target_for(app, text: str, registry=None) -> Target:
    """`resolve_target`, and a preset's name too (`fast`, or `fast:latest` as Ollama clients
    tag every name): its model as `chat -p` takes it (agent/preset_request.py). A model's name
    wins over a preset's (a preset is never saved under a registered model's name)."""
    from registry.errors import UnknownModel

    registry = registry or app.registry
    try:
        return resolve_target(registry.list_models(), text)
    except UnknownModel:
        preset = _preset_named(app, text)
        if preset is None:
            raise
    from agent.preset_request import plan_request

    planned = plan_request(app, preset, "general", [])
    return Target(planned.request_type, planned.model_id, text.strip(), preset)


def _preset_named(app, text: str):
    from agent.commands.preset import preset_store
    from registry.errors import AiCliError

    name = text.strip().removesuffix(":latest")
    try:
        preset = preset_store(app).get(name)
    except AiCliError:  # no such preset, or a name no preset could have
        return None
    return None if preset.corrupt else preset


def with_preset(request: RelayRequest) -> RelayRequest:
    """The request with its preset applied as the command line applies one: the preset's
    options under the request's, key by key; its system prompt when the client sent none."""
    preset = request.target.preset
    if preset is None:
        return request
    messages = request.messages
    if preset.system and not any(m.role == "system" for m in messages):
        messages = (RelayedMessage("system", preset.system), *messages)
    return RelayRequest(request.target, messages, request.tools,
                        {**preset.options, **request.options})


def relay(router, request: RelayRequest, report: Report) -> Relayed:
    """Ask the target's route with the client's messages; report the route, notices and each
    piece; return the whole answer. A failure before the first piece raises (the gateway turns
    it into the API's error); `StreamBroken` after it reports `Broken`, then raises."""
    request = with_preset(request)
    target = request.target
    stream = router.stream(
        target.request_type, to_langchain(request.messages), tools=list(request.tools) or None,
        options=request.options or None, model_id=target.model_key, needs=needs_of(request),
        on_notice=lambda text: report(Notice(text)),
        on_trim=lambda text: report(Trimmed(text)),
        on_route=lambda route: report(RouteChosen(route)), face=FACE,
    )
    preset = None if target.preset is None else target.preset.name
    stream.exchange = lambda: {"preset": preset}  # the answer log names the preset used
    reader = _FinalKeepingReader(stream, report)
    try:
        reader.read()
    except StreamBroken as exc:
        report(Broken(reader.text, exc.message))
        raise
    result = Relayed(reader.text, reader.thinking, list(reader.tool_calls),
                     stream.route, reader.final, reader.interrupted, stream.answer)
    report(Stopped(reader.text) if reader.interrupted else Done(reader.text))
    return result


def needs_of(request: RelayRequest) -> tuple[str, ...]:
    """What the models asked must be able to do, as for a chat (agent/chat.py): see the
    images the messages carry, think when the request asks it to, and what a preset requires."""
    needs = ["vision"] if any(m.images for m in request.messages) else []
    if request.options.get("think") not in (None, False):
        needs.append("thinking")
    preset = request.target.preset
    needs += [c for c in (preset.requires if preset else ()) if c not in needs
              and c != "completion"]
    return tuple(needs)


def embed_texts(router, target: Target, texts: list, report: Report):
    """Vectors for a gateway's embedding request (router/embed.py): the target's model when it
    names one, else the embedding route."""
    from router.embed import embed

    if not texts or not all(isinstance(t, str) for t in texts):
        raise InvalidInput("\"input\" must be a string or a list of strings.")
    return embed(router, texts, target.model_key, on_notice=lambda text: report(Notice(text)))


class _FinalKeepingReader(AnswerReader):
    """The chat exchange's reader, also keeping the numbers of Ollama's final chunk."""

    def __init__(self, stream, report: Report):
        super().__init__(stream, report)
        self.final: dict = {}

    def _see(self, chunk) -> None:
        meta = getattr(chunk, "response_metadata", None) or {}
        if meta.get("done"):
            self.final = {key: meta[key] for key in FINAL_FIELDS if key in meta}
        super()._see(chunk)


FINAL_FIELDS = ("done_reason", "total_duration", "load_duration", "prompt_eval_count",
                "prompt_eval_duration", "eval_count", "eval_duration")


def to_langchain(messages) -> list:
    """The relayed messages as LangChain messages for ChatOllama (images as data-URL parts,
    which it sends as the message's `images`; tool calls with their ids)."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    built = []
    for message in messages:
        content = _content(message)
        if message.role == "system":
            built.append(SystemMessage(content))
        elif message.role == "user":
            built.append(HumanMessage(content))
        elif message.role == "assistant":
            calls = [{"name": c["name"], "args": c.get("args") or {}, "id": c.get("id") or f"call_{i}",
                      "type": "tool_call"} for i, c in enumerate(message.tool_calls)]
            built.append(AIMessage(content, tool_calls=calls))
        else:
            built.append(ToolMessage(content, tool_call_id=message.tool_call_id or "call_0"))
    return built


def _content(message: RelayedMessage):
    if not message.images:
        return message.content
    parts: list = [{"type": "text", "text": message.content}] if message.content else []
    parts += [{"type": "image_url", "image_url": f"data:image;base64,{image}"}
              for image in message.images]
    return parts


def checked_image(value, where: str) -> str:
    """An image as both APIs send it: base64 text (a data URL's payload is taken as such).
    InvalidInput when it is not base64, so a bad image is a 400, not a model server's error."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where} is not an image: send it as base64 text.")
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{where} is not valid base64: send the image's bytes base64-encoded."
                           ) from None
    return payload


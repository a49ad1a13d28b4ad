"""Tools and tool calls as both APIs carry them (the OpenAI function shape), checked. Pure.

The APIs differ only in a call's arguments: Ollama sends them as an object, OpenAI as a JSON
string; `arguments` turns what came into a dict (or raises InvalidInput).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from registry.errors import InvalidInput


def checked_tools(value) -> tuple[dict, ...]:
    tools = value or []
    if not isinstance(tools, list) or not all(
            isinstance(t, dict) and isinstance(t.get("function"), dict)
            and isinstance(t["function"].get("name"), str) for t in tools):
        raise InvalidInput("\"tools\" must be a list of {\"type\": \"function\", \"function\": "
                           "{\"name\", \"description\", \"parameters\"}}.")
    return tuple(tools)


def object_arguments(raw: Any, where: str) -> dict:
    """Ollama's: an object."""
    args = raw or {}
    if not isinstance(args, dict):
        raise InvalidInput(f"{where} must be an object.")
    return args


def json_arguments(raw: Any, where: str) -> dict:
    """OpenAI's: a JSON string holding an object (an object itself is taken too)."""
    try:
        args = json.loads(raw or "{}") if isinstance(raw, str) else raw
    except ValueError:
        raise InvalidInput(f"{where} is not JSON.") from None
    if not isinstance(args, dict):
        raise InvalidInput(f"{where} must be a JSON object.")
    return args


def checked_tool_calls(value, where: str,
                       arguments: Callable[[Any, str], dict]) -> tuple[dict, ...]:
    """An assistant message's tool calls as `{"id", "name", "args"}`."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list.")
    calls = []
    for index, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InvalidInput(f"{where}[{index}] has no function name.")
        args = arguments(function.get("arguments"), f"{where}[{index}].function.arguments")
        calls.append({"id": call.get("id"), "name": function["name"], "args": args})
    return tuple(calls)

"""What one request sends, from its layers, lowest to highest. Pure: no I/O.

    the model entry's own settings  <  the preset  <  the session  <  the command line

Options merge key by key: each key comes from the highest layer that sets it (a `stop` list is
replaced whole, as `-o stop` replaces a session's). The model and the system prompt each come
whole from the highest layer that gives one: `-m` replaces the preset's model, `-s` its system
prompt. Each value keeps the name of the layer it came from, for `chat --explain` and
`preset show --resolved`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

MODEL_ENTRY = "model entry"
SESSION = "session"
COMMAND_LINE = "command line"


def preset_source(name: str) -> str:
    return f"preset {name}"


@dataclass(frozen=True)
class Layer:
    """One layer's settings; None (or a missing key) leaves the lower layers' value."""

    source: str
    model: str | None = None
    system: str | None = None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sourced:
    value: Any
    source: str

    def to_json(self) -> dict:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Resolved:
    model: Sourced | None
    system: Sourced | None
    options: dict[str, Sourced]

    @property
    def option_values(self) -> dict:
        return {key: sourced.value for key, sourced in self.options.items()}

    def to_json(self) -> dict:
        return {"model": self.model.to_json() if self.model else None,
                "system": self.system.to_json() if self.system else None,
                "options": {k: v.to_json() for k, v in self.options.items()}}


def resolve_layers(layers: Iterable[Layer]) -> Resolved:
    """The request's model, system prompt and options from `layers`, lowest first."""
    model = system = None
    options: dict[str, Sourced] = {}
    for layer in layers:
        if layer.model:
            model = Sourced(layer.model, layer.source)
        if layer.system is not None:
            system = Sourced(layer.system, layer.source) if layer.system else None
        for key, value in (layer.options or {}).items():
            options[key] = Sourced(list(value) if isinstance(value, list) else value,
                                   layer.source)
    return Resolved(model, system, options)


def session_layer(system: str, options: dict) -> Layer:
    """A session's settings: its stored system prompt ("" is none: the preset's stays)."""
    return Layer(SESSION, system=system or None, options=dict(options or {}))

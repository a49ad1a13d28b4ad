"""Ollama's per-request options (`-o KEY VALUE`): names, types and checking. Pure: no I/O.

Most names are the model parameters Ollama documents (docs/modelfile.md, "Valid Parameters and
Values"); they go with the request as Ollama's `options` (router/stream.py). `stop` may be given
more than once; its values collect into a list. Two are fields of the chat request itself, beside
`options` (docs/api.md, "Generate a chat completion"), and are sent there (`request_fields`):

- `keep_alive`: how long the model stays loaded after the request: a duration (`5m`, `1h`,
  `30s`) or a number of seconds; negative keeps it loaded, `0` unloads it at once;
- `think`: whether a thinking model thinks first: `true` / `false`, or `low` / `medium` / `high`
  for the models that take a level (gpt-oss);
- `format`: the answer's shape: `json`, or a JSON schema (an object) the answer must follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from registry.errors import InvalidInput


@dataclass(frozen=True)
class OllamaOption:
    name: str
    kind: type | str  # int | float | str | "duration" | "think"
    help: str
    many: bool = False  # repeatable: the values form a list (stop)
    least: float | None = None  # smallest allowed value, for numbers
    field: str | None = None  # a field of the request beside `options`: its ChatOllama keyword

    def parse(self, text: str) -> Any:
        value = _PARSERS[self.kind](text)
        if value is None:
            raise InvalidInput(
                f"Option {self.name} takes {_KIND_WORDS[self.kind]}, not {text!r}. "
                f"Example: -o {self.name} {_EXAMPLES[self.kind]}"
            )
        if self.least is not None and not isinstance(value, bool) and value < self.least:
            raise InvalidInput(f"Option {self.name} must be at least {self.least:g}, not {text!r}.")
        return value


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


DURATION = re.compile(r"-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")  # Go's time.ParseDuration
THINK_LEVELS = ("low", "medium", "high")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _duration(text: str) -> int | float | str | None:
    """`5m` as it is; `300` as a number of seconds (Ollama takes both)."""
    text = text.strip()
    number = _int(text)
    if number is not None:
        return number
    number = _float(text)
    if number is not None:
        return number
    return text if DURATION.fullmatch(text) else None


def _format(text: str) -> str | dict | None:
    """`json`, or a JSON schema given as a JSON object."""
    import json

    text = text.strip()
    if text.lower() == "json":
        return "json"
    try:
        schema = json.loads(text)
    except ValueError:
        return None
    return schema if isinstance(schema, dict) else None


def _think(text: str) -> bool | str | None:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return word if word in THINK_LEVELS else None


_PARSERS: dict[type | str, Callable[[str], Any]] = {
    int: _int, float: _float, str: lambda t: t, "duration": _duration, "think": _think,
    "format": _format}
_KIND_WORDS = {int: "a whole number", float: "a number", str: "text",
               "duration": "a duration (5m, 1h, 30s) or seconds (-1 keeps the model loaded, 0 "
                           "unloads it)",
               "think": "true or false, or low, medium or high",
               "format": "json, or a JSON schema object"}
_EXAMPLES = {int: "42", float: "0.7", str: "'###'", "duration": "10m", "think": "false",
             "format": "json"}

OPTIONS: dict[str, OllamaOption] = {o.name: o for o in (
    OllamaOption("temperature", float, "randomness; higher is more creative (Ollama: 0.8)", least=0),
    OllamaOption("top_p", float, "nucleus sampling: keep the tokens of this probability mass",
                 least=0),
    OllamaOption("top_k", int, "sample from the k most likely tokens", least=0),
    OllamaOption("seed", int, "random seed; the same seed and prompt give the same answer"),
    OllamaOption("num_ctx", int, "context window in tokens", least=1),
    OllamaOption("num_predict", int, "most tokens to generate (-1: no limit)", least=-2),
    OllamaOption("stop", str, "stop generating at this text (repeatable)", many=True),
    OllamaOption("repeat_penalty", float, "how strongly to penalize repetition", least=0),
    OllamaOption("repeat_last_n", int, "how far back to look for repetition (-1: num_ctx)",
                 least=-1),
    OllamaOption("mirostat", int, "Mirostat sampling: 0 off, 1 Mirostat, 2 Mirostat 2.0", least=0),
    OllamaOption("mirostat_eta", float, "Mirostat learning rate", least=0),
    OllamaOption("mirostat_tau", float, "Mirostat balance of coherence and diversity", least=0),
    OllamaOption("tfs_z", float, "tail free sampling", least=0),
    OllamaOption("num_gpu", int, "layers to offload to the GPU", least=-1),
    OllamaOption("num_thread", int, "CPU threads to use", least=1),
    OllamaOption("min_p", float, "drop tokens less likely than this share of the likeliest",
                 least=0),
    OllamaOption("keep_alive", "duration", "how long the model stays loaded after the request "
                 "(5m, 1h, 30s, seconds; -1 keeps it, 0 unloads)", field="keep_alive"),
    OllamaOption("think", "think", "whether a thinking model thinks first (true, false; low, "
                 "medium, high for gpt-oss)", field="reasoning"),
    OllamaOption("format", "format", "the answer's shape: json, or a JSON schema object",
                 field="format"),
)}


def request_fields(options: dict | None) -> tuple[dict, dict]:
    """`options` split into Ollama's model `options` and the request's own fields, the latter
    keyed by ChatOllama's keyword (`keep_alive`, `reasoning` for `think`). Pure."""
    model_options: dict = {}
    fields: dict = {}
    for key, value in (options or {}).items():
        spec = OPTIONS.get(key)
        if spec is not None and spec.field is not None:
            fields[spec.field] = value
        else:
            model_options[key] = value
    return model_options, fields


def parse_options(pairs: list[tuple[str, str]] | None, base: dict | None = None) -> dict:
    """`[("temperature", "0.2"), ("stop", "###")]` -> `{"temperature": 0.2, "stop": ["###"]}`,
    on top of `base` (a session's defaults). Raises InvalidInput naming the bad key or value."""
    options = {k: (list(v) if isinstance(v, list) else v) for k, v in (base or {}).items()}
    fresh_lists: set[str] = set()
    for key, text in pairs or ():
        spec = OPTIONS.get(key.strip().lower().replace("-", "_"))
        if spec is None:
            raise InvalidInput(f"Unknown option {key!r}. Known options: {', '.join(OPTIONS)}.")
        value = spec.parse(text)
        if spec.many:
            if spec.name not in fresh_lists:  # given here: replaces the defaults' list
                options[spec.name] = []
                fresh_lists.add(spec.name)
            options[spec.name].append(value)
        else:
            options[spec.name] = value
    return options


def checked_options(data: Any) -> dict:
    """Options read back from storage (JSON), kept only where they are still valid."""
    if not isinstance(data, dict):
        return {}
    kept: dict = {}
    for key, value in data.items():
        spec = OPTIONS.get(key)
        if spec is None:
            continue
        values = value if isinstance(value, list) else [value]
        try:
            parsed = [spec.parse(str(v)) for v in values]
        except InvalidInput:
            continue
        kept[key] = parsed if spec.many else parsed[-1]
    return kept


def format_options(options: dict | None) -> str:
    """`temperature=0.2 stop=###` for people."""
    parts = []
    for key, value in (options or {}).items():
        for one in value if isinstance(value, list) else [value]:
            parts.append(f"{key}={one}")
    return " ".join(parts)


def options_from_mapping(data: Any) -> dict:
    """Options given as a mapping (YAML, JSON, a stored hash), checked by the `-o` rules:
    unknown keys and bad values are refused (InvalidInput naming them)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("options must be a mapping of Ollama options, e.g. "
                           "{temperature: 0.2}.")
    pairs = []
    for key, value in data.items():
        if not isinstance(key, str):
            raise InvalidInput(f"Unknown option {key!r}.")
        spec = OPTIONS.get(key.strip().lower().replace("-", "_"))
        if isinstance(value, list) and spec is not None and not spec.many:
            raise InvalidInput(f"Option {key} takes one value, not a list.")
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, (dict, list)) or one is None:
                raise InvalidInput(f"Option {key} takes a single value, not {one!r}.")
            pairs.append((key, "true" if one is True else "false" if one is False else str(one)))
    return parse_options(pairs)

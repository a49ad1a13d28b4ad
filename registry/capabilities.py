"""What a model can do: Ollama's capability names, the guess for servers that do not report them,
and the user's override. Pure: no I/O.

Ollama reports `capabilities` on `POST /api/show` (`completion`, `tools`, `insert`, `vision`,
`embedding`; `thinking` on newer servers). An older server does not: its answer is read for the
signs Ollama itself uses (a vision projector, an embedding architecture, a template that takes
tools or thinking), and the result is marked `guessed`. The user's `+vision -tools` override is
applied last and wins (`user`).
"""

from __future__ import annotations

import re

from registry.errors import InvalidInput

KNOWN = ("completion", "tools", "insert", "vision", "embedding", "thinking")
SOURCES = ("server", "guessed", "user")
SHORT = {"completion": "C", "tools": "T", "insert": "I", "vision": "V", "embedding": "E",
         "thinking": "R"}  # the compact column of `model list` (R: reasoning)
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")  # a capability a newer server may add
MAX_CAPABILITIES = 32
# Architectures of embedding-only models (Ollama's own list of embedding families).
EMBEDDING_ARCHITECTURES = ("bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "xlm-roberta",
                           "gte", "new")


def clean(values) -> tuple[str, ...]:
    """Capability names from anywhere (a server, Redis): lower-case words only, no repeats, in
    their order; anything else is dropped, never raised."""
    if not isinstance(values, (list, tuple)):
        return ()
    kept: list[str] = []
    for value in values[:MAX_CAPABILITIES]:
        if isinstance(value, str) and _NAME.match(value.strip().lower()):
            name = value.strip().lower()
            if name not in kept:
                kept.append(name)
    return tuple(kept)


def decode(text: str) -> tuple[str, ...]:
    """A stored comma-separated list (`completion,tools`)."""
    return clean(text.split(",")) if isinstance(text, str) and text else ()


def encode(values) -> str:
    return ",".join(clean(list(values)))


def from_show(body) -> tuple[tuple[str, ...], str] | None:
    """(capabilities, "server" | "guessed") from an `/api/show` answer; None when it is not
    one."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("capabilities"), list):
        return clean(body["capabilities"]), "server"
    if not any(isinstance(body.get(k), (dict, str)) for k in ("model_info", "template")):
        return None
    return guess(body), "guessed"


def guess(body: dict) -> tuple[str, ...]:
    """What an `/api/show` answer without `capabilities` suggests: a vision projector
    (`projector_info`, `clip.*` or `*.vision.*` model-info keys), an embedding architecture
    (no completion), a template that renders tools or thinking."""
    info = body.get("model_info") if isinstance(body.get("model_info"), dict) else {}
    keys = [k for k in info if isinstance(k, str)]
    arch = info.get("general.architecture")
    template = body.get("template") if isinstance(body.get("template"), str) else ""
    found: list[str] = []
    if arch in EMBEDDING_ARCHITECTURES or any(k.endswith(".pooling_type") for k in keys):
        found.append("embedding")
    else:
        found.append("completion")
    if ".Tools" in template:
        found.append("tools")
    if ".Suffix" in template:
        found.append("insert")
    if (isinstance(body.get("projector_info"), dict) and body["projector_info"]) or any(
            k.startswith("clip.") or ".vision." in k for k in keys):
        found.append("vision")
    if ".Thinking" in template or ".IsThinkSet" in template:
        found.append("thinking")
    return tuple(found)


def parse_override(words) -> tuple[str, ...]:
    """`["+vision", "-tools"]` -> `("+vision", "-tools")`; the last word about a name wins.
    Raises InvalidInput naming the bad word."""
    changes: dict[str, str] = {}
    for word in words or ():
        text = word.strip().lower() if isinstance(word, str) else ""
        sign, name = text[:1], text[1:]
        if sign not in ("+", "-") or not _NAME.match(name):
            raise InvalidInput(
                f"{word!r} is not a capability change: give +NAME to add or -NAME to remove, "
                f"for example +vision -tools (names: {', '.join(KNOWN)}).")
        changes.pop(name, None)
        changes[name] = sign
    if not changes:
        raise InvalidInput("Give at least one change (+vision, -tools), or --reset to drop the "
                           "override.")
    return tuple(sign + name for name, sign in changes.items())


def decode_override(text: str) -> tuple[str, ...]:
    """A stored override (`+vision,-tools`); bad words are dropped, never raised."""
    kept = []
    for word in (text.split(",") if isinstance(text, str) and text else ()):
        if word[:1] in ("+", "-") and _NAME.match(word[1:]):
            kept.append(word)
    return tuple(kept[:MAX_CAPABILITIES])


def apply_override(base, override) -> tuple[str, ...]:
    """`base` with the override's additions and removals."""
    result = list(clean(list(base or ())))
    for word in override or ():
        name = word[1:]
        if word[0] == "+" and name not in result:
            result.append(name)
        elif word[0] == "-" and name in result:
            result.remove(name)
    return tuple(result)


def compact(capabilities) -> str:
    """`CTV` for completion, tools, vision: one letter each, in a fixed order; `?` unknown."""
    if capabilities is None:
        return "?"
    letters = "".join(SHORT[c] for c in KNOWN if c in capabilities)
    extra = len([c for c in capabilities if c not in SHORT])
    return (letters or "-") + (f"+{extra}" if extra else "")


def check_name(name) -> str:
    """A capability name as typed (`--capability Vision`); raises InvalidInput otherwise."""
    text = name.strip().lower() if isinstance(name, str) else ""
    if not _NAME.match(text):
        raise InvalidInput(f"{name!r} is not a capability: use one of {', '.join(KNOWN)}.")
    return text


def having(models, name: str) -> list:
    """The entries whose capabilities (override applied) include `name`."""
    wanted = check_name(name)
    return [m for m in models if wanted in (m.capabilities or ())]


def merge_override(kept, changes) -> tuple[str, ...]:
    """A stored override with new changes on top: the newest word about a name wins."""
    merged: dict[str, str] = {}
    for word in (*(kept or ()), *(changes or ())):
        merged.pop(word[1:], None)
        merged[word[1:]] = word[0]
    return tuple(sign + name for name, sign in merged.items())

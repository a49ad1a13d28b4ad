"""The base of every error ai-cli shows, and the registry layer's own errors.

Every message is written for the person at the terminal: one line saying what is wrong and what
to do. Each layer defines its errors on `AiCliError` (this module; router/errors.py,
agent/errors.py, ui/errors.py), each face translates them in exactly one place, using `exit_code`
(subcommands: 1 failed operation, 2 bad usage) and `http_status` (the web API).
The Ollama errors are here because the registry's availability probe raises them too; the router
adds the ones a chat request can end in.
"""

from __future__ import annotations

import os


def debugging() -> bool:
    """AI_CLI_DEBUG is set: every face re-raises instead of showing one line, so a developer sees
    the traceback."""
    return os.environ.get("AI_CLI_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


class AiCliError(Exception):
    """Base of every error ai-cli shows to a user."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(AiCliError):
    """Input that can never succeed as given; nothing was changed."""

    exit_code = 2
    http_status = 400


class InvalidModelType(InvalidInput):
    pass


class InvalidUrl(InvalidInput):
    pass


class InvalidModelName(InvalidInput):
    pass


class InvalidTimeout(InvalidInput):
    pass


class InvalidModelId(InvalidInput):
    """Not `model_` + 8 hex digits: refused before Redis is asked."""


class UnknownModel(AiCliError):
    """No model with that id (or name) is registered."""

    http_status = 404

    def __init__(self, model_id: str, detail: str | None = None):
        super().__init__(
            f"No model with id or name {model_id!r}"
            + (f" ({detail})" if detail else "")
            + ". Run 'ai-cli model list' to see the registered ones."
        )
        self.model_id = model_id


class AmbiguousModel(InvalidInput):
    """A model name that more than one registered model has: the user must pick by id."""

    def __init__(self, name: str, candidates: list[str]):
        super().__init__(
            f"More than one model is named {name!r}: {'; '.join(candidates)}. "
            "Use its id, or NAME@HOST for one host."
        )
        self.name = name
        self.candidates = candidates


class WrongModelType(AiCliError):
    """An id of one type was used where the other type was asked for."""

    http_status = 409

    def __init__(self, model_id: str, actual: str, wanted: str):
        super().__init__(
            f"Model {model_id} is a {actual} model, not a {wanted} model. "
            f"Use '/model {actual} ...' for it, or pick an id from '/model {wanted} list'."
        )
        self.model_id = model_id
        self.actual = actual
        self.wanted = wanted


class CorruptModel(AiCliError):
    """A stored model hash is damaged; it can be removed or repaired, never used."""

    http_status = 409

    def __init__(self, model_id: str, problem: str, model_type: str = ""):
        kind = model_type if model_type in ("general", "coder") else "{general|coder}"
        super().__init__(
            f"Model {model_id} is corrupt in the registry ({problem}). Remove it with "
            f"'ai-cli model {kind} remove {model_id}', or run 'ai-cli model repair'."
        )
        self.model_id = model_id


class CorruptRegistryKey(AiCliError):
    """A registry key (a marker, an active pointer, a type's index, a session's keys) holds
    another Redis type than ai-cli writes there. With `found` and `expected` the message names
    both and `fix` (by default `model repair`, which deletes the key and writes again what
    belongs there)."""

    http_status = 409

    def __init__(self, key: str, found: str = "", expected: str = "", fix: str = ""):
        if found and expected:
            fix = fix or ("Run 'ai-cli model repair': it deletes the key and writes again what "
                          "belongs there.")
            message = (f"The registry key {key} holds a Redis {found}, where ai-cli keeps a "
                       f"{expected}. {fix}")
        else:
            message = (
                f"The registry key {key} holds another Redis type than ai-cli writes there. "
                f"Delete it (redis-cli DEL '{key}') and run 'ai-cli model repair'; ai-cli "
                "writes again what belongs there.")
        super().__init__(message)
        self.key = key
        self.found = found
        self.expected = expected


class RegistryUnavailable(AiCliError):
    """The Redis server behind the registry cannot be reached."""

    http_status = 503


class RegistryPoolExhausted(AiCliError):
    """Every connection of this process's Redis pool is in use: the server is up, this process
    is overloaded (not a reason to treat Redis as gone)."""

    http_status = 503


class RegistryAuthFailed(RegistryUnavailable):
    """Redis answered but refused the password (WRONGPASS, NOAUTH): a setting to fix, not a
    server to start."""


class RegistryRefusesWrites(AiCliError):
    """Redis answers but refuses to change anything: out of memory under `noeviction`
    (OOM), a read-only replica (READONLY), or a failed background save with
    `stop-writes-on-bgsave-error` (MISCONF). Reads still work; nothing was changed."""

    http_status = 503


def say_once(registry, refused: RegistryRefusesWrites, said: set) -> None:
    """Queue `refused` as a line for the faces (`registry.messages`) the first time a best-effort
    write (a probe result, the answer log) meets it; `said` is the writer's own memory."""
    line = f"Not recorded (ai-cli goes on without it): {refused.message}"
    if line in said:
        return
    said.add(line)
    if line not in registry.messages:
        registry.messages.append(line)


class RegistryBusy(RegistryUnavailable):
    """The embedded Redis runs but did not answer in time (busy, loading its file, stopped): it
    is waited for and reported, never replaced by a second server."""


class RegistryDataProblem(RegistryUnavailable):
    """The embedded Redis cannot run on its data dir or file as they are (read-only, damaged,
    a folder where a file belongs); the message names it and what to do."""


class RegistryReadOnly(AiCliError):
    """The registry cannot be changed right now (for example AI_CLI_FORCE_CONFIG_YAML)."""

    http_status = 409


class RegistryDiskFull(RegistryRefusesWrites):
    """The Redis server cannot save (MISCONF: disk full): it refuses changes, reads go on."""

    http_status = 503


class ConfigError(AiCliError):
    """config.yaml (or the environment) holds something ai-cli cannot use."""

    exit_code = 2
    http_status = 500


class OllamaError(AiCliError):
    """A call to an Ollama server failed; the message names the model, the server and the fix."""

    http_status = 502


class OllamaUnreachable(OllamaError):
    """The Ollama server refused the connection or cannot be reached at all."""

    http_status = 503

"""The one error hierarchy of ai-cli.

Every message is written for the person at the terminal: one line saying what is wrong and what
to do. Each face (REPL, subcommand, HTTP) translates these in exactly one place, using
`exit_code` (subcommands: 1 failed operation, 2 bad usage) and `http_status` (the web API).
"""

from __future__ import annotations


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

    def __init__(self, model_id: str):
        super().__init__(
            f"No model with id or name {model_id!r}. "
            "Run 'ai-cli model list' to see the registered ones."
        )
        self.model_id = model_id


class AmbiguousModel(InvalidInput):
    """A model name that more than one registered model has: the user must pick by id."""

    def __init__(self, name: str, candidates: list[str]):
        super().__init__(
            f"More than one model is named {name!r}: {'; '.join(candidates)}. Use its id."
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
    """A registry key the migration reads (a marker, an active pointer, a type's index) holds
    another Redis type than ai-cli writes there."""

    http_status = 409

    def __init__(self, key: str):
        super().__init__(
            f"The registry key {key} holds another Redis type than ai-cli writes there. Delete "
            f"it (redis-cli DEL '{key}') and run 'ai-cli model repair'; ai-cli writes again what "
            "belongs there."
        )
        self.key = key


class RegistryUnavailable(AiCliError):
    """The Redis server behind the registry cannot be reached."""

    http_status = 503


class RegistryAuthFailed(RegistryUnavailable):
    """Redis answered but refused the password (WRONGPASS, NOAUTH): a setting to fix, not a
    server to start."""


class RegistryReadOnly(AiCliError):
    """The registry cannot be changed right now (for example AI_CLI_FORCE_CONFIG_YAML)."""

    http_status = 409


class ConfigError(AiCliError):
    """config.yaml (or the environment) holds something ai-cli cannot use."""

    exit_code = 2
    http_status = 500


# --- the agent: sessions and /code (appended by the agent helper) ---------------------------


class SessionNotFound(AiCliError):
    """No saved session has that id."""

    http_status = 404

    def __init__(self, session_id: str):
        super().__init__(
            f"No session with id {session_id!r}. Run '/session list' to see the saved sessions."
        )
        self.session_id = session_id


class PathRefused(InvalidInput):
    """A /code tool was asked for a path outside the workspace; nothing was read or written.

    `reason` names the check that refused (`empty`, `nul`, `dotdot`, `outside`, `symlink`,
    `not_a_folder`), so a test can tell the checks apart whatever the message says.
    """

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.reason = reason


class EditFailed(AiCliError):
    """A planned file edit cannot be applied as given (text not found, not unique, not a file)."""

    http_status = 409


class NothingToUndo(AiCliError):
    """`/undo` found no /code change to restore."""

    http_status = 409


class UsageError(InvalidInput):
    """A command line that does not fit the command's grammar (CLI helper)."""


class UnknownCommand(InvalidInput):
    """A command word the command table does not know (CLI helper)."""


class FeatureOff(AiCliError):
    """A command needs a feature (chat, code) that no reachable model provides right now."""

    http_status = 503


class Cancelled(AiCliError):
    """The user stopped an interactive step (Ctrl-C, or answered no); nothing was changed."""

    exit_code = 1
    http_status = 400


class NeedsTerminal(InvalidInput):
    """An interactive command was run without a terminal."""


class AddRefused(AiCliError):
    """`add` refused a model whose server does not answer or lacks the model (CLI helper)."""

    http_status = 409


# --- the router: availability and calls to Ollama (appended by the router helper) -----------

NO_MODEL_WARNINGS = {
    "general": "⚠ No general model available. Use '/model general add' to configure a model.",
    "coder": "⚠ No coder model available. Use '/model coder add' to configure a model.",
}


class NoModelAvailable(FeatureOff):
    """The fallback chain ended at "none": that feature is off until a model is added or back.

    `message` is the route's notice when there is one: the seed's warning, plus why the
    configured model cannot serve when there is such a model.
    """

    def __init__(self, request_type: str, message: str | None = None):
        super().__init__(
            message or NO_MODEL_WARNINGS.get(request_type, NO_MODEL_WARNINGS["general"])
        )
        self.request_type = request_type


class OllamaError(AiCliError):
    """A call to an Ollama server failed; the message names the model, the server and the fix."""

    http_status = 502


class OllamaUnreachable(OllamaError):
    """The Ollama server refused the connection or cannot be reached at all."""

    http_status = 503


class ModelNotPulled(OllamaError):
    """The server answers but does not have the model (HTTP 404)."""


class ModelTimedOut(OllamaError):
    """The model did not answer within its timeout."""

    http_status = 504


class OllamaServerError(OllamaError):
    """The server answered with an HTTP error (5xx), nothing, or not like Ollama."""


class StreamBroken(OllamaError):
    """The answer broke off after part of it was shown; it was not retried (no duplicate text)."""


class UnreadableReply(OllamaError):
    """The server's answer does not follow the Ollama API (for example a tool call whose
    arguments are not a JSON object); /code sends this back to the model as an error."""



# --- the web API (ui/) ----------------------------------------------------------------------


class NoActiveModel(AiCliError):
    """`GET /models/{type}`: no model of that type is active."""

    http_status = 404

    def __init__(self, model_type: str):
        super().__init__(
            f"No {model_type} model is active. Add one with '/model {model_type} add <url> "
            f"<model_name>' or pick one with '/model {model_type} use <model_id>'."
        )


class ProposalNotFound(AiCliError):
    """`POST /code/{id}/apply` for an id this server does not hold (unknown, or already applied)."""

    http_status = 404

    def __init__(self, proposal_id: str):
        super().__init__(
            f"No /code proposal with id {proposal_id!r} is waiting (it was applied already, or "
            "the server restarted). Send the instruction to POST /code again."
        )

"""The router's errors: no model can serve a feature, and how a chat request to Ollama failed
(router/failures.py maps what ChatOllama raises onto these)."""

from __future__ import annotations

from registry.errors import AiCliError, InvalidInput, OllamaError


class FeatureOff(AiCliError):
    """A command needs a feature (chat, code) that no reachable model provides right now."""

    http_status = 503


NO_MODEL_WARNINGS = {
    "general": "⚠ No general model available. Use '/model general add' to configure a model.",
    "coder": "⚠ No coder model available. Use '/model coder add' to configure a model.",
    "embedding": "⚠ No embedding model available. Use '/model embedding add' to configure one "
                 "(for example nomic-embed-text, after 'ollama pull nomic-embed-text').",
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


class InputTooBig(InvalidInput):
    """Even the newest message (with the system prompt) does not fit the model's window, so the
    request was not sent: Ollama would have cut its start without a word."""

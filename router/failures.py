"""What `ChatOllama` raises, classified once (measured with langchain-ollama 1.1.0 / ollama 0.6.3
against tests/ollama_server.py). Without `client_kwargs={"timeout": ...}` it waits forever, so
every model's timeout is passed; `validate_model_on_init` is never used (it turns these same
failures into `ConnectionError` and pydantic errors):

    server down / refused        httpx.ConnectError                     -> unreachable (fail over)
    connect did not finish       httpx.ConnectTimeout                   -> unreachable (fail over)
    model not pulled             ollama.ResponseError, status_code 404  -> model missing (fail over)
    no token within the timeout  httpx.ReadTimeout (TimeoutException)   -> timed out (fail over)
    server busy (queue full)     ollama.ResponseError, status_code 503  -> busy (another host,
                                                                           no cooldown)
    request refused              ollama.ResponseError, status_code 400  -> bad request (no retry)
    HTTP 5xx (any other status)  ollama.ResponseError with that status  -> server error
    connection dropped mid-body  httpx.RemoteProtocolError / ReadError  -> dropped
    answer not in Ollama's shape pydantic ValidationError (ollama client), -> unreadable reply
                                 OutputParserException (langchain),
                                 json.JSONDecodeError (a line not JSON)
    empty stream                 ValueError                             -> empty reply

httpx's read timeout bounds each socket read only; the router makes the timeout a deadline for
each token (router/deadline.py), which ends a wait the same way, as `httpx.ReadTimeout`.
The router acts on the class, never on message text. After output began, every class becomes
"broken stream": retrying then would show the user the same text twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from registry.errors import AiCliError, OllamaUnreachable

from router.errors import ModelNotPulled, ModelTimedOut, OllamaServerError, StreamBroken, UnreadableReply


@dataclass(frozen=True)
class FailureKind:
    name: str
    fail_over: bool  # mark the model unavailable and retry once down the chain (before output)
    error: type[AiCliError]
    reason: str  # what went wrong, for notices and `check`; {name} {status} {detail} filled in

    def explain(self, model_name: str, exc: BaseException) -> str:
        return self.reason.format(
            name=model_name,
            status=getattr(exc, "status_code", "?"),
            detail=_detail(exc),
        )


def _detail(exc: BaseException) -> str:
    """One line about an exception: pydantic's first complaint, else its first line of text."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}".strip(": ")
    text = str(getattr(exc, "error", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


UNREACHABLE = FailureKind("unreachable", True, OllamaUnreachable,
                          "cannot connect ({detail}): is Ollama running there? ('ollama serve')")
CONNECT_TIMEOUT = FailureKind("unreachable", True, OllamaUnreachable,
                              "the connection timed out: check the URL and network")
MODEL_MISSING = FailureKind("model missing", True, ModelNotPulled,
                            "model not pulled (HTTP 404): run 'ollama pull {name}' on that server")
TIMED_OUT = FailureKind("timed out", True, ModelTimedOut, "no answer within its timeout")
BUSY = FailureKind("busy", True, OllamaServerError,
                  "the server is busy (HTTP 503: every slot and its queue are taken)")
BAD_REQUEST = FailureKind("bad request", False, OllamaServerError,
                          "the server refused the request (HTTP 400: {detail})")
SERVER_ERROR = FailureKind("server error", False, OllamaServerError,
                           "HTTP {status} from the server ({detail}): check the Ollama server's log")
DROPPED = FailureKind("dropped", False, OllamaServerError,
                      "the server closed the connection before the answer was complete")
UNREADABLE_REPLY = FailureKind("unreadable reply", False, UnreadableReply,
                               "the answer does not follow the Ollama API ({detail})")
EMPTY_REPLY = FailureKind("empty reply", False, OllamaServerError,
                          "the server sent an empty answer: check the Ollama server's log")


def classify(exc: BaseException) -> FailureKind | None:
    """The kind of an exception raised while talking to Ollama; None if it is not one (a bug)."""
    import httpx
    import ollama
    from langchain_core.exceptions import OutputParserException
    from pydantic import ValidationError

    if isinstance(exc, httpx.ConnectTimeout):  # before TimeoutException: it is one
        return CONNECT_TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        return UNREACHABLE
    if isinstance(exc, httpx.TimeoutException):
        return TIMED_OUT
    if isinstance(exc, ollama.ResponseError):
        return {404: MODEL_MISSING, 503: BUSY, 400: BAD_REQUEST}.get(exc.status_code,
                                                                    SERVER_ERROR)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return DROPPED
    if isinstance(exc, (ValidationError, OutputParserException, json.JSONDecodeError)):
        return UNREADABLE_REPLY
    if isinstance(exc, ValueError) and not isinstance(exc, AiCliError):
        return EMPTY_REPLY
    return None


def to_error(kind: FailureKind, model, label: str, exc: BaseException,
             output_began: bool) -> AiCliError:
    """The user-facing error for a failure that ends the request (`label`: how notices name it)."""
    if output_began and kind is TIMED_OUT:
        return StreamBroken(
            f"The answer from {label} stopped: no token for {model.timeout} s (its timeout); "
            "what was shown is incomplete. Ask again, or re-add the model with a longer --timeout."
        )
    if output_began:
        return StreamBroken(
            f"The answer from {label} broke off ({kind.name}); what was shown is incomplete. "
            "Ask again to retry."
        )
    if kind is TIMED_OUT:
        return ModelTimedOut(
            f"{label} did not answer within its timeout of {model.timeout} s. Check the server, "
            "or re-add the model with a longer --timeout."
        )
    return kind.error(f"{label}: {kind.explain(model.model_name, exc)}.")

"""Model, session and undo routes: each a few lines around the command handler the CLI runs.

The handlers (agent/commands/*.py) take the `App` and parsed `Args` and return a `Result`; the
answer is its `to_json()`, the same JSON as `--json`. Errors propagate as `AiCliError`s and are
translated once, in ui/app.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from agent.commands import code as code_commands
from agent.commands import model as model_commands
from agent.commands import session as session_commands
from agent.commands import stats as stats_commands
from agent.commands.base import Args
from ui.errors import NoActiveModel
from registry.model import validate_model_type

ERROR_TEXTS = {
    400: "Bad input", 404: "Not found", 409: "Conflict", 502: "The model's server failed",
    503: "No model, no Redis, or busy", 504: "The model's server timed out",
}


def errors(*statuses: int) -> dict:
    """The OpenAPI answers of a route: 400 and 503 (every route reads Redis or a model) and
    `statuses`. The safety refusals (401, 403, 413, 415) are added to every route by ui/app.py."""
    return {status: {"description": ERROR_TEXTS[status],
                     "content": {"application/json": {"example": {"error": "..."}}}}
            for status in sorted({400, 503, *statuses})}


ERRORS = errors(404, 409)

router = APIRouter()


class AddModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The Ollama server, e.g. http://localhost:11434 (http or https)")
    model_name: str = Field(description="The name Ollama knows it by, e.g. llama3.1:8b")
    timeout: int | None = Field(None, description="Request timeout in seconds (1-3600)")
    num_ctx: int | None = Field(None, description="Context size sent on every request, in "
                                "tokens (default: the model's window capped by max_context)")
    parallel: int | None = Field(None, description="Requests its server runs at once "
                                 "(OLLAMA_NUM_PARALLEL; default 1)")
    activate: bool = Field(True, description="Make it the active model of its type")


class DiscoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The Ollama server to ask, e.g. http://localhost:11434")


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str | None = Field(None, description="Probe only this model (default: all)")


def run(request: Request, handler, **args) -> Any:
    """Call a CLI command handler with this server's App and return its JSON."""
    return handler(request.app.state.app, Args(args)).to_json()


@router.get("/models", tags=["models"], responses=ERRORS)
def list_models(request: Request) -> list[dict]:
    """Every registered model (`ai-cli model list --json`)."""
    return run(request, model_commands.list_models, model_type=None)


@router.get("/models/status", tags=["models"], responses=errors())
def status(request: Request) -> dict:
    """The route of each request type, the fallback and the features, from what is known
    already: no model server is asked and nothing is written (a GET changes nothing). `POST
    /models/check` probes and updates what this shows."""
    return request.app.state.app.router.status(probe=False)


@router.get("/models/stats", tags=["models"], responses=errors())
def stats(request: Request) -> dict:
    """Per model and per host: requests, success rate, failures by kind, time to first token,
    tokens/s, from the answer log (`ai-cli model stats --json`)."""
    return run(request, stats_commands.stats)


@router.post("/models/discover", tags=["models"], responses=errors())
def discover(request: Request, body: DiscoverRequest) -> dict:
    """The models an Ollama server has (`model general discover URL --json`)."""
    return run(request, model_commands.discover, url=body.url)


@router.post("/models/check", tags=["models"], responses=ERRORS)
def check(request: Request, body: CheckRequest | None = None) -> list[dict]:
    """Probe every model and the fallback, or one model; records the result (`model check`)."""
    return run(request, model_commands.check, model_id=body.model_id if body else None)


@router.get("/models/{model_type}", tags=["models"], responses=ERRORS)
def active_model(request: Request, model_type: str) -> dict:
    """The active model of a type (404 when none is active)."""
    validate_model_type(model_type)
    model = request.app.state.app.read_registry(lambda r: r.get_active_model(model_type))
    if model is None:
        raise NoActiveModel(model_type)
    return model.to_json()


@router.post("/models/{model_type}", tags=["models"], status_code=201, responses=ERRORS)
def add_model(request: Request, model_type: str, body: AddModel,
              force: bool = Query(False, description="Add it even when the server does not "
                                                      "answer or lacks the model")) -> dict:
    """Register a model after checking its server, like `model TYPE add` (`--force`: ?force=true)."""
    validate_model_type(model_type)
    return run(request, model_commands.add, model_type=model_type, url=body.url,
               model_name=body.model_name, timeout=body.timeout,
               num_ctx=body.num_ctx, parallel=body.parallel, no_activate=not body.activate,
               force=force)


@router.delete("/models/{model_id}", tags=["models"], responses=ERRORS)
def remove_model(request: Request, model_id: str) -> dict:
    """Remove a model; the answer is the removed model."""
    return run(request, model_commands.remove, model_id=model_id, model_type=None)


@router.put("/models/{model_id}/activate", tags=["models"], responses=ERRORS)
def activate_model(request: Request, model_id: str) -> dict:
    """Make a model the active one of its type (`model TYPE use ID`)."""
    return run(request, model_commands.use, model_id=model_id, model_type=None)


@router.get("/sessions", tags=["sessions"], responses=ERRORS)
def list_sessions(request: Request) -> list[dict]:
    """Saved chat sessions, most recently used first (shared with `ai-cli --session ID`)."""
    return run(request, session_commands.list_sessions)


@router.get("/sessions/{session_id}", tags=["sessions"], responses=ERRORS)
def show_session(request: Request, session_id: str) -> dict:
    """A session and its messages."""
    return run(request, session_commands.show, session_id=session_id)


@router.post("/undo", tags=["code"], responses=ERRORS)
def undo(request: Request) -> dict:
    """Restore the files the last /code run (terminal or web) changed in the workspace."""
    return run(request, code_commands.undo)


class EmbedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str | list[str] = Field(description="A text, or several: one vector each, in order",
                                   max_length=1024)
    model_id: str | None = Field(None, description="Use this model (like -m): an id or a name")


@router.post("/embed", tags=["embed"], responses=errors(404, 502, 504))
def embed(request: Request, body: EmbedRequest) -> dict:
    """The vector of each text from the embedding route (`ai-cli embed --json`):
    `{"model_id", "model_name", "embeddings": [[...], ...]}`."""
    from registry.errors import InvalidInput
    from router.embed import embed as embed_texts

    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or not all(t.strip() for t in texts):
        raise InvalidInput('Nothing to embed: send {"input": "text"} or {"input": ["a", "b"]} '
                           "without empty texts.")
    app = request.app.state.app
    model_id = (None if body.model_id is None
                else model_commands.requested_model(app, body.model_id, "embedding"))
    return embed_texts(app.router, texts, model_id).to_json()

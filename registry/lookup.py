"""Finding a model by what a user typed: its id, or its name. Pure: no I/O.

Every command that takes a model id takes a name too (`/model general use mistral:7b`). A name
resolves within the model type asked for; `llama3` and `llama3:latest` are the same name, as
Ollama has it. A name two models share is refused with both candidates (exit 2).
"""

from __future__ import annotations

from typing import Iterable

from registry.errors import AmbiguousModel, UnknownModel, WrongModelType
from registry.model import ModelConfig

def same_name(a: str, b: str) -> bool:
    """Ollama's rule: a name without a tag means `:latest`."""
    return _tagged(a) == _tagged(b)


def _tagged(name: str) -> str:
    name = name.strip().lower()
    return name if ":" in name else name + ":latest"


def resolve_model(models: Iterable[ModelConfig], text: str, model_type: str | None = None,
                  prefer: str | None = None) -> ModelConfig:
    """The model `text` names (an id, else a model name), of `model_type` when given.

    `prefer`: with no type required, a type whose models win a name shared across types (chat's
    `-m` prefers general models). Raises UnknownModel, WrongModelType or AmbiguousModel.
    """
    models = list(models)
    wanted = text.strip()
    by_id = next((m for m in models if m.model_id == wanted.lower()), None)
    if by_id is not None:
        _check_type(by_id, model_type)
        return by_id
    named = [m for m in models if same_name(m.model_name, wanted)]
    if model_type is not None:
        of_type = [m for m in named if m.model_type == model_type]
        if not of_type and named:
            _check_type(named[0], model_type)
        named = of_type
    elif prefer is not None and any(m.model_type == prefer for m in named):
        named = [m for m in named if m.model_type == prefer]
    if not named:
        raise UnknownModel(wanted)
    if len(named) > 1:
        raise AmbiguousModel(wanted, [describe_candidate(m) for m in named])
    return named[0]


def describe_candidate(model: ModelConfig) -> str:
    return f"{model.model_id} ({model.model_type}, {model.model_name} @ {model.host})"


def _check_type(model: ModelConfig, wanted: str | None) -> None:
    # A corrupt entry's type may be anything ("weird"): it is found by id under either type, so
    # it can be removed, and no advice ever names "/model weird ...".
    if wanted is not None and model.model_type != wanted and not model.corrupt:
        raise WrongModelType(model.model_id, model.model_type, wanted)

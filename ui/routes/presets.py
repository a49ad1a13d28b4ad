"""Preset routes: `GET /presets`, `POST /presets`, `DELETE /presets/{name}`, each a few lines
around the handler `ai-cli preset list|add|remove` runs (agent/commands/preset.py); the answer is
the same JSON as `--json`. `POST /chat` and `POST /code` take `"preset"` (ui/routes/chat.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from agent.commands import preset as preset_commands
from ui.routes.commands import ERRORS, run

router = APIRouter()

Scalar = str | int | float | bool


class AddPreset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Letters, digits, '-' and '_'; not a registered model's name")
    model: str | None = Field(None, description="A model (id or name), 'general', 'coder', or "
                              "'fastest:general' / 'fastest:coder' (default: the route asked)")
    system: str | None = Field(None, description="The system prompt")
    options: dict[str, Scalar | list[Scalar]] | None = Field(
        None, description='Ollama options (the -o rules), e.g. {"temperature": 0.2}')
    requires: list[str] | None = Field(None, description="Capabilities, e.g. [\"tools\"]")
    description: str | None = Field(None, description="What it is for, in one line")


def option_pairs(options: dict | None) -> list[tuple[str, str]]:
    """A JSON options object as `-o KEY VALUE` pairs (true/false as the -o rules spell them)."""
    pairs = []
    for key, value in (options or {}).items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((key, ("true" if one else "false") if isinstance(one, bool)
                          else str(one)))
    return pairs


@router.get("/presets", tags=["presets"], responses=ERRORS)
def list_presets(request: Request) -> list[dict]:
    """Every preset, each with `"problem"` (null, or why it cannot be used as it is)."""
    return run(request, preset_commands.list_presets)


@router.post("/presets", tags=["presets"], status_code=201, responses=ERRORS)
def add_preset(request: Request, body: AddPreset) -> dict:
    """Save a preset, as `preset add` (a name that exists is replaced: `"replaced": true`)."""
    return run(request, preset_commands.add, name=body.name, model=body.model,
               system=body.system, option=option_pairs(body.options),
               requires=",".join(body.requires or []), description=body.description)


@router.delete("/presets/{name}", tags=["presets"], responses=ERRORS)
def remove_preset(request: Request, name: str) -> dict:
    """Remove a preset (a damaged one too); the answer is the removed preset."""
    return run(request, preset_commands.remove, name=name)

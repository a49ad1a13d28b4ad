"""The web API's own errors (the rest come from the layers below)."""

from __future__ import annotations

from registry.errors import AiCliError


class NoActiveModel(AiCliError):
    """`GET /models/{type}`: no model of that type is active."""

    http_status = 404

    def __init__(self, model_type: str):
        super().__init__(
            f"No {model_type} model is active. Add one with '/model {model_type} add <url> "
            f"<model_name>' or pick one with '/model {model_type} use <model_id>'."
        )

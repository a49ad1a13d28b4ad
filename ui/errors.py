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


class TooManyLiveClients(AiCliError):
    """`GET /events` beyond the cap of live-update clients (ui/live.py)."""

    http_status = 503

    def __init__(self, limit: int):
        super().__init__(
            f"Busy: {limit} pages already follow live updates (GET /events), the most this "
            "server serves. Close some pages or tabs, then retry.")


class ModelSlotsBusy(AiCliError):
    """`POST /chat` or `POST /code` while every model slot is taken (ui/limits.py)."""

    http_status = 503

    def __init__(self, limit: int):
        super().__init__(
            f"Busy: {limit} model requests are already running on this server, the most it "
            "runs at once (a model that hangs holds one until its timeout). Retry when one ends.")

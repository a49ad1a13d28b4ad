"""Per-model characters-per-token ratios, kept in Redis beside the registry (best effort).

Key (docs/REGISTRY.md; `redis.key_prefix` prepends to it):

    models:calibration   hash   "<url, password masked> <model name:tag>" -> chars per token

The ratio is what router/context.py estimates tokens with; each answer's `prompt_eval_count`
moves it (`router.context.calibrated`). Every process shares it through Redis; while Redis is
away (or the key holds something else) the ratio lives in this process only, and nothing fails.
"""

from __future__ import annotations

import threading

import redis

from registry.availability import model_key
from registry.errors import AiCliError
from registry.connection.failures import FAILURES
from registry.model import mask_url

KEY = "models:calibration"


def field_for(model) -> str:
    url, name = model_key(model)
    return f"{mask_url(url)} {name}"


class Calibration:
    """Ratios by model; `registry` is anything with `.redis` and `.keys.prefix`."""

    def __init__(self, registry, default: float):
        self.registry = registry
        self.default = default
        self._ratios: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        return f"{self.registry.keys.prefix}{KEY}"

    def ratio(self, model) -> float:
        field = field_for(model)
        with self._lock:
            if field in self._ratios:
                return self._ratios[field]
        stored = self._read(field)
        with self._lock:
            return self._ratios.setdefault(field, stored or self.default)

    def store(self, model, ratio: float) -> None:
        field = field_for(model)
        with self._lock:
            self._ratios[field] = ratio
        try:
            self.registry.redis.hset(self.key, field, repr(ratio))
        except (*FAILURES, redis.RedisError, AiCliError):
            pass  # kept in this process; Redis gets the next one

    def _read(self, field: str) -> float | None:
        try:
            value = self.registry.redis.hget(self.key, field)
            ratio = float(value) if value is not None else None
        except (*FAILURES, redis.RedisError, AiCliError, ValueError, TypeError):
            return None
        return ratio if ratio is not None and 0.5 <= ratio <= 20 else None

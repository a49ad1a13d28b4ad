"""The model registry: `ModelConfig`, `ModelRegistry` on Redis, config loading and probing.

The bottom layer: it imports nothing from `router`, `agent`, `migrations` or `ui`.
"""

from __future__ import annotations

from registry.config import ConfigManager
from registry.manager import ModelRegistry


def open_registry(config: ConfigManager, timeout: float = 2.0) -> ModelRegistry:
    """Connect to the configured Redis and return the registry on it (the entry points' one way)."""
    from registry.connection import connect_redis, describe_url

    url = config.redis_url
    client = connect_redis(url, config.data_dir, timeout=timeout)
    return ModelRegistry(
        client,
        key_prefix=config.key_prefix,
        default_timeout=config.get_default_timeout(),
        url=describe_url(url),
    )

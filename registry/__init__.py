"""The model registry: `ModelConfig`, `ModelRegistry` on Redis, the registry every process uses
(`ResilientRegistry`), the Redis connection and embedded server (connection/), config and the
user's folders (config/), and availability probing.

The bottom layer: it imports nothing of the layers above (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from registry.config import ConfigManager
from registry.manager import ModelRegistry


def open_registry(config: ConfigManager, timeout: float = 2.0, waiting=None):
    """The registry the settings ask for (the entry points' one way). Never raises for Redis.

    - AI_CLI_FORCE_CONFIG_YAML=true: a `ConfigYamlRegistry` (config.yaml's models, read-only).
    - otherwise a `ResilientRegistry`: the `ModelRegistry` on the configured Redis, serving
      config.yaml's models read-only while that Redis is unreachable (check `.online`/`.notice`),
      and reconnecting by itself.
    Both are a `registry.protocol.Registry`. `waiting`: the face's spinner while an embedded
    server that is busy or loading is waited for (registry/connection/embedded.py).
    """
    from registry.connection.client import connect_redis, describe_url
    from registry.config_yaml import ConfigYamlRegistry
    from registry.resilient import ResilientRegistry

    if config.force_config_yaml:
        return ConfigYamlRegistry(config)
    from registry.manager import RegistryKeys

    url = config.redis_url  # a malformed URL is a ConfigError: that one is raised
    cluster, probe = config.redis_cluster, RegistryKeys(config.key_prefix).schema
    linger = config.embedded_linger
    return ResilientRegistry(
        config,
        connect=lambda: connect_redis(url, config.data_dir, timeout=timeout, cluster=cluster,
                                      probe_key=probe, linger=linger, waiting=waiting),
        url=describe_url(url),
    )


__all__ = ["ConfigManager", "ModelRegistry", "open_registry"]

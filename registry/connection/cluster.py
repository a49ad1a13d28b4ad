"""Connecting to a Redis Cluster (`redis.cluster: true`), and noticing one where none was asked for.

In cluster mode `redis.url` names any one node; redis-py's `RedisCluster` learns the others from
it and follows the slots through failovers. Every registry and session key starts with the key
prefix, whose hash tag (default `{ai-cli}`) puts them all in one slot, so each transaction runs on
one master and nothing ever spans slots.
"""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster
from redis.retry import Retry

from registry.connection import failures as redis_failures
from registry.errors import ConfigError, RegistryUnavailable
from registry.model import mask_url


def connect_cluster(url: str, timeout: float, retry: Retry, probe_key: str | None) -> RedisCluster:
    """A cluster client that has reached the master serving `probe_key`, or `RegistryUnavailable`.

    The same timeouts, retry and TLS (`rediss://`) as a single server. Not PING: on a cluster it
    goes to every master, and only the one holding the registry's slot matters.
    """
    try:
        client = RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=timeout,
            socket_timeout=max(timeout, 5.0),
            health_check_interval=30,
            retry=retry,
        )
    except redis_failures.FAILURES as exc:
        raise _unreachable(url, exc) from exc
    try:
        if probe_key is not None:
            client.exists(probe_key)
        else:
            client.ping()
    except redis_failures.FAILURES as exc:
        client.close()
        raise _unreachable(url, exc) from exc
    return client


def refuse_cluster_node(client: redis.Redis, url: str) -> None:
    """ConfigError when a plain client's server is a cluster node: its keys would answer MOVED
    (or work until the next failover). An ACL user without INFO is given the benefit of the doubt."""
    try:
        enabled = client.info("cluster").get("cluster_enabled")
    except redis.RedisError:  # no INFO for this user, or the server just went: the next command says
        return
    if str(enabled) == "1":
        raise redis_failures.not_cluster_mode_error(mask_url(url))


def _unreachable(url: str, exc: BaseException) -> Exception:
    detail = redis_failures.first_line(exc)
    if "cluster support disabled" in detail or "cluster mode is not enabled" in detail.lower():
        return ConfigError(
            f"The Redis at {mask_url(url)} is not part of a Redis Cluster ({detail}). Set "
            "redis.cluster: false (or AI_CLI_REDIS_CLUSTER=false), or point redis.url at a "
            "cluster node."
        )
    return RegistryUnavailable(
        f"Cannot reach the Redis Cluster of the model registry at {mask_url(url)} ({detail}). "
        "Start it, or set AI_CLI_REDIS_URL (or redis.url in config.yaml) to one of its nodes."
    )

"""Connecting to the registry's Redis: a `redis://`, `rediss://` or `unix://` URL, a Redis Cluster
node, or `embedded` (the server this package starts on a file in the data dir, embedded.py).

Every client decodes replies to str, retries a dropped connection once and quickly, and is proved
to answer before it is handed out; a refused password is `RegistryAuthFailed`, anything else that
keeps Redis from answering is `RegistryUnavailable`.
"""

from __future__ import annotations

from pathlib import Path

import redis
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from registry.connection.failures import refuses_writes
from registry.errors import RegistryAuthFailed, RegistryUnavailable
from registry.model import mask_url

CONNECT_TIMEOUT = 2.0


def _quick_retry() -> Retry:
    """One quick retry (a dropped connection, a restarted server), then give up: redis-py's
    default backs off for seconds per command once a server is gone, and every request would wait.
    A timeout is not retried: asking a hung server again would only double the wait."""
    return Retry(ConstantBackoff(0.05), 1, supported_errors=(redis.ConnectionError,))


def connect_redis(
    url: str,
    data_dir: Path,
    timeout: float = CONNECT_TIMEOUT,
    cluster: bool = False,
    probe_key: str | None = None,
    linger: float = 0.0,
    waiting=None,
) -> redis.Redis:
    """A connected client (responses decoded to str), or `RegistryUnavailable` within `timeout`.

    `cluster`: `url` names one node of a Redis Cluster (registry/connection/cluster.py); `probe_key` is a key
    under the registry's prefix, read to prove the node serving it answers.
    `linger`: seconds the embedded server keeps running after its last client.
    `waiting`: a face's spinner (`with waiting(text):`), shown while an embedded server that is
    busy or loading is waited for.
    """
    if cluster:
        from registry.connection.cluster import connect_cluster

        return connect_cluster(url, timeout, _quick_retry(), probe_key)
    if url == "embedded":
        from registry.connection.embedded import connect_embedded

        return connect_embedded(Path(data_dir), timeout, linger, waiting=waiting)
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        encoding_errors="replace",  # bytes that are not UTF-8 never break a read
        socket_connect_timeout=timeout,
        socket_timeout=max(timeout, 5.0),
        health_check_interval=30,
        retry=_quick_retry(),
    )
    _ping(client, url)
    from registry.connection.cluster import refuse_cluster_node

    refuse_cluster_node(client, url)
    return client


def describe_url(url: str) -> str:
    """The URL as messages show it: without a password."""
    return mask_url(url)


def _ping(client: redis.Redis, url: str) -> None:
    try:
        client.ping()
    except redis.RedisError as exc:
        if refuses_writes(exc, url) is not None:
            return  # it answers (a failed save refuses even PING): each write says so itself
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if is_auth_failure(exc):
            raise auth_failed(url, detail) from exc
        raise RegistryUnavailable(
            f"Cannot reach the model registry's Redis at {describe_url(url)} ({detail}). "
            "Start that server, or set AI_CLI_REDIS_URL (or redis.url in config.yaml) to one "
            "that runs."
        ) from exc


def is_auth_failure(exc: BaseException) -> bool:
    """WRONGPASS / NOAUTH (redis-py's AuthenticationError), or AUTH sent to a server without one."""
    if isinstance(exc, redis.AuthenticationError):
        return True
    text = str(exc)
    return isinstance(exc, redis.ResponseError) and ("AUTH" in text or "WRONGPASS" in text)


def auth_failed(url: str, detail: str) -> RegistryAuthFailed:
    return RegistryAuthFailed(
        f"Authentication failed at the model registry's Redis {describe_url(url)} ({detail}). "
        "Put the right user and password in AI_CLI_REDIS_URL (or redis.url in config.yaml), "
        "e.g. redis://:PASSWORD@host:6379/0."
    )



"""Which redis-py exceptions mean "Redis cannot serve now" and which mean "Redis is set up wrong".

One place for the registry, the sessions, the offline registry and connect, on one server and on a
Redis Cluster. On a cluster redis-py raises more than `ConnectionError`/`TimeoutError`:
`ClusterDownError` (a shard has no master), `TryAgainError` and `MovedError`/`AskError` (slots on
the move), and `RedisClusterException` — which is NOT a `RedisError` — when no node answers or a
command's keys span slots. Pure: it only looks at exceptions.
"""

from __future__ import annotations

from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    AuthenticationError,
    ClusterCrossSlotError,
    ClusterError,
    ConnectionError,
    CrossSlotTransactionError,
    MaxConnectionsError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from registry.errors import (
    AiCliError,
    ConfigError,
    RegistryAuthFailed,
    RegistryDiskFull,
    RegistryPoolExhausted,
    RegistryRefusesWrites,
    RegistryUnavailable,
)



class DiskWriteRefused(ResponseError):
    """MISCONF from the embedded server: it cannot save its data file (disk full, or not
    writable), so it refuses writes and keeps serving reads. Its connections raise this
    (embedded.py gives them a parser that knows the file and the disk it is on)."""

    def __init__(self, *args, data_file: str = "", disk: str = "", status_code=None):
        super().__init__(*args, status_code=status_code)
        self.data_file = data_file
        self.disk = disk


CLUSTER_KEY_PREFIX = "{ai-cli}:"  # the default key prefix in cluster mode: one hash tag

# Every exception `translate` maps (AskError covers MovedError; ClusterError covers
# ClusterDownError and MasterDownError; RedisClusterException covers SlotNotCoveredError and
# CrossSlotTransactionError). Catch exactly these; anything else is a bug to see.
FAILURES = (
    DiskWriteRefused,
    ConnectionError,
    TimeoutError,
    ClusterError,
    TryAgainError,
    AskError,
    ClusterCrossSlotError,
    RedisClusterException,
)
_CROSS_SLOT_WORDS = ("same key slot", "same slot", "different slots")

# The replies of a Redis that answers but will not write, measured against redis-server 6.2:
# redis-py raises OutOfMemoryError ("command not allowed when used memory > 'maxmemory'") and
# ReadOnlyError ("You can't write against a read only replica.") with the code cut off, and a
# plain ResponseError starting "MISCONF"; inside a MULTI the same classes come back, their text
# behind "Command # N (...) of pipeline caused error: ". What each means, and what to do.
_REFUSALS = (
    (OutOfMemoryError, "OOM", "it is out of memory (maxmemory reached under the noeviction "
     "policy)", "Raise its maxmemory (CONFIG SET maxmemory) or free memory, then retry."),
    (ReadOnlyError, "READONLY", "it is a read-only replica",
     "Point AI_CLI_REDIS_URL (or redis.url in config.yaml) at its master."),
    (None, "MISCONF", "its last save to disk failed and it stops writes until one works",
     "Fix its disk or its 'dir' setting (its log says why), then retry."),
)


def hash_tag(prefix: str) -> str | None:
    """The hash tag Redis Cluster would hash a key starting with `prefix` by, else None.

    Redis hashes the text between the first `{` and the next `}` when that text is not empty.
    """
    start = prefix.find("{")
    if start < 0:
        return None
    end = prefix.find("}", start + 1)
    if end < 0 or end == start + 1:
        return None
    return prefix[start + 1:end]


def is_cross_slot(exc: BaseException) -> bool:
    if isinstance(exc, (ClusterCrossSlotError, CrossSlotTransactionError)):
        return True
    return isinstance(exc, RedisClusterException) and any(
        words in str(exc) for words in _CROSS_SLOT_WORDS
    )


def cross_slot_error(prefix: str) -> ConfigError:
    return ConfigError(
        f"The key prefix {prefix!r} has no hash tag, so the registry's keys fall in different "
        f"Redis Cluster slots. Set redis.key_prefix to a prefix with one tag, such as "
        f"'{CLUSTER_KEY_PREFIX}', and retry."
    )


def not_cluster_mode_error(url: str) -> ConfigError:
    return ConfigError(
        f"The Redis at {url} is a node of a Redis Cluster. Set redis.cluster: true in "
        f"config.yaml (or AI_CLI_REDIS_CLUSTER=true) and retry."
    )


def translate(
    exc: BaseException, unavailable: str, *, clustered: bool, prefix: str, url: str
) -> AiCliError:
    """The ai-cli error for one of `FAILURES`.

    `unavailable` is the face's "cannot reach Redis" sentence; a detail in brackets is added.
    A MOVED/ASK reply to a plain (non-cluster) client means the URL names a cluster node.
    """
    if isinstance(exc, DiskWriteRefused):  # a full disk: reads go on, this write is refused
        return disk_full(exc.data_file, exc.disk)
    if isinstance(exc, AuthenticationError):  # WRONGPASS/NOAUTH: a setting, not a dead server
        return RegistryAuthFailed(
            f"Authentication failed at the Redis at {url} ({first_line(exc)}). Put the right "
            "password in AI_CLI_REDIS_URL (or redis.url in config.yaml)."
        )
    if isinstance(exc, MaxConnectionsError):  # the pool, not the server
        return RegistryPoolExhausted(
            f"Busy: every connection this process may open to Redis is in use ({first_line(exc)}). "
            "Redis itself is up; retry in a moment, or close some of what this process serves.")
    if is_cross_slot(exc):
        return cross_slot_error(prefix)
    if isinstance(exc, AskError) and not clustered:
        return not_cluster_mode_error(url)
    return RegistryUnavailable(unavailable.format(detail=first_line(exc)))


def refuses_writes(exc: BaseException, url: str) -> RegistryRefusesWrites | None:
    """The error for a Redis that answered a write with OOM, READONLY or MISCONF; else None."""
    if isinstance(exc, DiskWriteRefused):
        return disk_full(exc.data_file, exc.disk)
    if not isinstance(exc, ResponseError):
        return None
    reply = _reply_text(exc)
    for kind, code, what, fix in _REFUSALS:
        if (kind is not None and isinstance(exc, kind)) or reply.startswith(code):
            return RegistryRefusesWrites(
                f"The Redis at {url} refuses writes: {what}; nothing was changed. {fix}")
    return None


def _reply_text(exc: BaseException) -> str:
    """The server's reply, without redis-py's "Command # N (...) of pipeline caused error: "."""
    _, marker, rest = str(exc).partition("caused error: ")
    return rest if marker else str(exc)


def is_wrong_type(exc: BaseException) -> bool:
    """A key of ours holds another Redis type (written by hand or by another program)."""
    return isinstance(exc, ResponseError) and _reply_text(exc).startswith("WRONGTYPE")


def disk_full(data_file: str, disk: str) -> RegistryDiskFull:
    return RegistryDiskFull(
        f"Not saved: the embedded Redis cannot write {data_file} (the disk at {disk} is full or "
        "not writable), so it refuses changes until it can; everything saved so far is kept and "
        "reads go on. Free space on that disk and try again.")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def is_cluster_client(client) -> bool:
    return isinstance(client, RedisCluster)

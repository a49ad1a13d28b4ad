"""`ResilientRegistry`: the registry every ai-cli process uses, which keeps working without Redis.

It wraps the live `ModelRegistry`: while Redis is unreachable (at start or later) reads come from
config.yaml's models (config_yaml.py) and changes raise `RegistryReadOnly`; it tries Redis again
by itself, at most every `retry_interval` seconds, and uses it again as soon as it answers — no
restart. It has the interface of `ModelRegistry`, plus `.online` and a one-line `.notice` for the
faces.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

import redis
from redis.exceptions import RedisClusterException

from registry.config import ConfigManager
from registry.config_yaml import ConfigYamlRegistry
from registry.errors import (
    AiCliError,
    RegistryAuthFailed,
    RegistryBusy,
    RegistryDataProblem,
    RegistryReadOnly,
    RegistryUnavailable,
)
from registry.manager import ModelRegistry, RegistryKeys
from registry.model import ModelConfig

T = TypeVar("T")
RETRY_INTERVAL = 3.0  # seconds between two attempts to reach a Redis that was down
# Failures whose own line says what is wrong and what to do (never "start that server").
SAYS_WHY = (RegistryAuthFailed, RegistryBusy, RegistryDataProblem)


def offline_message(url: str, retry_interval: float) -> str:
    return (
        f"Redis at {url} is unreachable, so the model registry is read-only until it is back; "
        f"ai-cli uses the models in config.yaml meanwhile and tries Redis again every "
        f"{retry_interval:g} s. Start that server, or set AI_CLI_REDIS_URL to one that runs."
    )


class ResilientRegistry:
    """The `ModelRegistry` on Redis, degrading to read-only config.yaml models while Redis is down.

    `connect` returns a connected `redis.Redis` or raises `RegistryUnavailable`; `clock` is
    injectable so tests decide when a retry is due without sleeping.
    """

    def __init__(
        self,
        config: ConfigManager,
        connect: Callable[[], redis.Redis],
        url: str,
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self.url = url
        self.keys = RegistryKeys(config.key_prefix)
        self.default_timeout = config.get_default_timeout()
        self.retry_interval = retry_interval
        self.on_reconnect: Callable[[], str | None] | None = None  # e.g. the pending migration
        self.messages: list[str] = []  # lines for the faces to show once (reconnects)
        self._connect = connect
        self._clock = clock
        self._lock = threading.RLock()
        self._live: ModelRegistry | None = None
        self._online = False
        self._last_attempt = clock()
        self._failure: RegistryUnavailable | None = None
        self._fallback = ConfigYamlRegistry(
            config, read_only_message=offline_message(url, retry_interval), strict=False
        )
        self._attempt()

    # --- state ---------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """Whether Redis answers (tries it again first when a retry is due)."""
        self._retry_if_due()
        return self._online

    @property
    def notice(self) -> str | None:
        """One line while offline: read-only until Redis at URL is back. None while online."""
        if self.online:
            return None
        extra = f" (config.yaml: {self._fallback.problem})" if self._fallback.problem else ""
        return self._read_only_message() + extra

    def _read_only_message(self) -> str:
        """Why the registry is read-only: a refused password, a busy server or a damaged data
        file says so, not "unreachable"."""
        if self._failure is not None:
            return (f"{self._failure} Until then the model registry is read-only and ai-cli "
                    "uses the models in config.yaml.")
        return self._fallback.read_only_message

    @property
    def redis(self) -> redis.Redis:
        """The live client; `RegistryUnavailable` while Redis has never answered."""
        self._retry_if_due()
        if self._live is None:
            raise RegistryUnavailable(self._fallback.read_only_message)
        return self._live.redis

    def live(self) -> ModelRegistry:
        """The registry on Redis, for work that needs Redis itself (the migration)."""
        if not self.online:
            raise RegistryReadOnly(self._fallback.read_only_message)
        return self._live

    # --- the ModelRegistry interface -----------------------------------------------------------

    def get_model(self, model_id: str) -> ModelConfig | None:
        return self._read(lambda r: r.get_model(model_id))

    def require_model(self, model_id: str, model_type: str | None = None) -> ModelConfig:
        return self._read(lambda r: r.require_model(model_id, model_type))

    def get_active_model(self, model_type: str) -> ModelConfig | None:
        return self._read(lambda r: r.get_active_model(model_type))

    def list_models(self, model_type: str | None = None) -> list[ModelConfig]:
        return self._read(lambda r: r.list_models(model_type))

    def add_model(self, model_type, url, model_name, timeout=None, set_active=True, *,
                  num_ctx=None, parallel=None) -> ModelConfig:
        return self._write(lambda r: r.add_model(model_type, url, model_name, timeout, set_active,
                                                 num_ctx=num_ctx, parallel=parallel))

    def remove_model(self, model_id: str, model_type: str | None = None) -> ModelConfig:
        return self._write(lambda r: r.remove_model(model_id, model_type))

    def set_active_model(self, model_id: str, model_type: str | None = None) -> bool:
        return self._write(lambda r: r.set_active_model(model_id, model_type))

    def update_availability(self, model_id: str, is_available: bool) -> bool:
        return self._read(lambda r: r.update_availability(model_id, is_available))

    def update_capabilities(self, model_id: str, fields: dict[str, str]) -> bool:
        return self._write(lambda r: r.update_capabilities(model_id, fields))

    def damaged_keys(self) -> list:
        """Registry keys holding another Redis type (none while Redis is away)."""
        return self._read(lambda r: r.damaged_keys())

    # --- plumbing ------------------------------------------------------------------------------

    def _read(self, operation: Callable[[ModelRegistry | ConfigYamlRegistry], T]) -> T:
        return self._on_redis(operation, offline=lambda: operation(self._fallback))

    def _write(self, operation: Callable[[ModelRegistry], T]) -> T:
        return self._on_redis(operation, offline=self._refuse_change)

    def _on_redis(self, operation: Callable[[ModelRegistry], T], offline: Callable[[], T]) -> T:
        """`operation` on the live registry; `offline()` while (or once found) Redis is down."""
        self._retry_if_due()
        if self._online:
            live = self._live
            try:
                return operation(live)
            except RegistryUnavailable:
                self._went_offline()
            finally:  # lines the live registry wants shown (a damaged key it stepped over)
                if live.messages:
                    self.messages.extend(live.messages)
                    live.messages.clear()
        return offline()

    def _refuse_change(self):
        raise RegistryReadOnly(self._read_only_message())

    def _retry_if_due(self) -> None:
        if self._online or self._clock() - self._last_attempt < self.retry_interval:
            return
        if self._attempt():
            self._reconnected()

    def _attempt(self) -> bool:
        """Try Redis once: ping the client we have, else connect anew. True when it answers."""
        with self._lock:
            if self._online:
                return False
            self._last_attempt = self._clock()
            if not self._pings():
                # No client yet, or one whose server is gone for good (an embedded server that
                # died has to be started again): connect anew.
                try:
                    client = self._connect()
                except RegistryUnavailable as exc:
                    self._failure = exc if isinstance(exc, SAYS_WHY) else None
                    return False
                self._live = ModelRegistry(client, key_prefix=self.config.key_prefix,
                                           default_timeout=self.default_timeout, url=self.url)
            self._online, self._failure = True, None
            return True

    def _pings(self) -> bool:
        """Whether the server holding the registry's keys answers. Not PING: on a Redis Cluster
        that asks every master, and only the one serving the prefix's hash tag matters."""
        if self._live is None:
            return False
        try:
            self._live.redis.exists(self._live.keys.schema)
            return True
        except (redis.RedisError, RedisClusterException, OSError):
            return False

    def _went_offline(self) -> None:
        with self._lock:
            self._online = False
            self._last_attempt = self._clock()

    def _reconnected(self) -> None:
        line = f"Redis at {self.url} is back: the model registry is writable again."
        hook = self.on_reconnect
        if hook is not None:
            self.on_reconnect = None
            try:
                extra = hook()
            except AiCliError as exc:  # a hook's failure must not take the registry down again
                extra = f"after reconnecting: {exc}"
            if extra:
                line = f"{line} {extra}"
        self.messages.append(line)

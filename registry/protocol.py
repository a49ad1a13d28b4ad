"""`Registry`: what the program needs from a model registry, whichever kind it is.

Three kinds satisfy it (tests/test_registry_protocol.py checks each): `ModelRegistry` on Redis
(manager.py), `ResilientRegistry`, which every ai-cli process uses and which serves config.yaml's
models while Redis is away (resilient.py), and `ConfigYamlRegistry`, config.yaml's models alone
(config_yaml.py). Callers use these members and nothing else; none asks an object what it can do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    import redis

    from registry.errors import CorruptRegistryKey
    from registry.manager import ModelRegistry, RegistryKeys
    from registry.model import ModelConfig


class Registry(Protocol):
    keys: "RegistryKeys"  # every key name, under the configured prefix
    url: str  # where the models live, as messages name it (password masked)
    messages: list[str]  # lines for the faces to show once ("Redis ... is back"); they drain it
    on_reconnect: "Callable[[], str | None] | None"  # run once when Redis answers again (its
    # line joins the "is back" message); only the resilient registry ever reconnects

    @property
    def online(self) -> bool:
        """Whether changes can be made now (Redis answers)."""

    @property
    def notice(self) -> str | None:
        """One line saying why the registry is read-only; None while it is online."""

    @property
    def redis(self) -> "redis.Redis":
        """The Redis client (sessions, the answer log live beside the registry);
        `RegistryUnavailable` when there is none."""

    def live(self) -> "ModelRegistry":
        """The registry on Redis itself, for work that needs Redis (the migration, repair);
        `RegistryReadOnly` when Redis is down or ignored."""

    def get_model(self, model_id: str) -> "ModelConfig | None": ...

    def require_model(self, model_id: str, model_type: str | None = None) -> "ModelConfig": ...

    def get_active_model(self, model_type: str) -> "ModelConfig | None": ...

    def list_models(self, model_type: str | None = None) -> "list[ModelConfig]": ...

    def add_model(self, model_type: str, url: str, model_name: str, timeout: int | None = None,
                  set_active: bool = True, *, num_ctx: int | None = None,
                  parallel: int | None = None) -> "ModelConfig": ...

    def remove_model(self, model_id: str, model_type: str | None = None) -> "ModelConfig":
        """The removed model."""

    def set_active_model(self, model_id: str, model_type: str | None = None) -> bool: ...

    def update_availability(self, model_id: str, is_available: bool) -> bool:
        """Record a probe result; False when the model is gone."""

    def update_capabilities(self, model_id: str, fields: dict[str, str]) -> bool:
        """Write an entry's capability fields; False when the model is gone."""

    def damaged_keys(self) -> "list[CorruptRegistryKey]":
        """Registry keys of a fixed name holding another Redis type (none without Redis)."""
        ...

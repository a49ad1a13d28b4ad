"""config.yaml's legacy models as a read-only registry.

`ConfigYamlRegistry` serves the `ollama:`/`general:` and `coder:` sections of config.yaml, each as
the active model of its type: what AI_CLI_FORCE_CONFIG_YAML=true asks for, and what the resilient
registry (resilient.py) answers from while Redis is away. A legacy entry gets the same id here as
the migration gives it in Redis (`legacy_model_id`), so a model keeps its id across the move.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone

from registry.config import ConfigManager, LegacyModel
from registry.errors import ConfigError, RegistryReadOnly, RegistryUnavailable
from registry.manager import RegistryKeys, require_model
from registry.model import MODEL_TYPES, ModelConfig, now_utc, validate_model_type

FORCE_FLAG = "AI_CLI_FORCE_CONFIG_YAML"


# --- pure: a legacy entry as a model ------------------------------------------------------------


def legacy_model_id(model_type: str, url: str, model_name: str) -> str:
    """The id a config.yaml model has offline, and gets when migrated: same entry, same id."""
    digest = hashlib.sha256(f"{model_type}\0{url}\0{model_name}".encode()).hexdigest()
    return "model_" + digest[:8]


def legacy_to_model(legacy: LegacyModel, added_at: datetime) -> ModelConfig:
    """The active model of its type that a config.yaml section stands for."""
    return ModelConfig(
        model_id=legacy_model_id(legacy.model_type, legacy.url, legacy.model_name),
        model_type=legacy.model_type,
        url=legacy.url,
        model_name=legacy.model_name,
        timeout=legacy.timeout,
        is_active=True,
        added_at=added_at,
    )


def force_flag_message(config: ConfigManager) -> str:
    where = str(config.path) if config.path else "config.yaml"
    return (
        f"The model registry is read-only because {FORCE_FLAG}=true: ai-cli reads its models from "
        f"the ollama:/coder: sections of {where} and ignores Redis. Edit that file, or unset "
        f"{FORCE_FLAG} to manage models with /model."
    )


# --- config.yaml as a registry -------------------------------------------------------------------


class ConfigYamlRegistry:
    """A read-only registry over config.yaml's legacy models (each the active one of its type).

    `strict=False` turns an invalid legacy section into "no models" plus `.problem` (the offline
    fallback must not stop ai-cli from starting); strict is for AI_CLI_FORCE_CONFIG_YAML, where the
    user asked for exactly these models and a broken entry is an error to show.
    """

    online = False

    def __init__(self, config: ConfigManager, read_only_message: str | None = None, strict=True):
        self.problem: str | None = None
        try:
            legacy = config.get_legacy_models()
        except ConfigError as exc:
            if strict:
                raise
            legacy, self.problem = [], str(exc)
        added_at = _file_time(config)
        order = {t: i for i, t in enumerate(MODEL_TYPES)}
        models = sorted((legacy_to_model(m, added_at) for m in legacy),
                        key=lambda m: order[m.model_type])
        self._models = {m.model_id: m for m in models}
        # Probe results live here: there is nowhere to store them (see update_availability).
        self._probes: dict[str, tuple[bool, datetime]] = {}
        self._lock = threading.Lock()
        self.read_only_message = read_only_message or force_flag_message(config)
        self.keys = RegistryKeys(config.key_prefix)
        self.default_timeout = config.get_default_timeout()
        self.url = str(config.path) if config.path else "config.yaml"
        self.messages: list[str] = []  # nothing to announce: it never reconnects
        self.on_reconnect = None  # never called: it never reconnects

    @property
    def notice(self) -> str:
        if self.problem:
            return f"{self.read_only_message} ({self.problem})"
        return self.read_only_message

    # --- reads -------------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelConfig | None:
        model = self._models.get(model_id)
        if model is None:
            return None
        with self._lock:
            probe = self._probes.get(model_id)
        if probe is None:
            return model
        return model.with_changes(is_available=probe[0], last_checked=probe[1])

    require_model = require_model

    def get_active_model(self, model_type: str) -> ModelConfig | None:
        validate_model_type(model_type)
        for model_id, model in self._models.items():
            if model.model_type == model_type:
                return self.get_model(model_id)
        return None

    def list_models(self, model_type: str | None = None) -> list[ModelConfig]:
        if model_type is not None:
            validate_model_type(model_type)
        return [self.get_model(i) for i, m in self._models.items()
                if model_type is None or m.model_type == model_type]

    # --- changes: refused ----------------------------------------------------------------------

    def add_model(self, model_type: str, url: str, model_name: str, timeout: int | None = None,
                  set_active: bool = True, *, num_ctx: int | None = None,
                  parallel: int | None = None) -> ModelConfig:
        raise RegistryReadOnly(self.read_only_message)

    def remove_model(self, model_id: str, model_type: str | None = None) -> ModelConfig:
        raise RegistryReadOnly(self.read_only_message)

    def set_active_model(self, model_id: str, model_type: str | None = None) -> bool:
        raise RegistryReadOnly(self.read_only_message)

    def live(self):
        raise RegistryReadOnly(f"{self.read_only_message} That needs Redis, so it cannot run now.")

    def update_availability(self, model_id: str, is_available: bool) -> bool:
        """Remembered in this process only: a probe result is not a change anyone asked for, and
        refusing it would break availability checks while Redis is away."""
        if model_id not in self._models:
            return False
        with self._lock:
            self._probes[model_id] = (bool(is_available), now_utc())
        return True

    def update_capabilities(self, model_id: str, fields: dict[str, str]) -> bool:
        raise RegistryReadOnly(self.read_only_message)

    def damaged_keys(self) -> list:
        return []  # no Redis keys here

    @property
    def redis(self):
        raise RegistryUnavailable(self.notice)


def _file_time(config: ConfigManager) -> datetime:
    """When config.yaml last changed: the `added_at` its models show."""
    try:
        return datetime.fromtimestamp(int(config.path.stat().st_mtime), timezone.utc)
    except (AttributeError, OSError):
        return datetime.fromtimestamp(0, timezone.utc)

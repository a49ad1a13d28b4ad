"""Static configuration: `config.yaml`, the environment, and the one settings object built from them.

Precedence: built-in defaults < config.yaml < environment < command-line flags (passed in as
`overrides`). Which file is read is pickup.py's rule (a config.yaml of another project in the
current folder is never read); reading it, yaml_file.py's. A file found in the current folder (not named by the user, not in the user's config dir)
never chooses the Redis server (`redis.url`, `redis.cluster`): a cloned repository could
otherwise send every prompt to a server of its choosing. Loading reads files only; it never
touches the network or Redis.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from registry.errors import AiCliError, ConfigError
from registry.model import mask_url, validate_model_name, validate_timeout, validate_url
from registry.connection.failures import CLUSTER_KEY_PREFIX, hash_tag
from registry.config.pickup import LEGACY_SECTIONS, ConfigPickup, pick_config
from registry.config.user_dirs import user_data_dir
from registry.config.yaml_file import read_yaml

EMBEDDED = "embedded"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_MISSING = object()
# Every section ai-cli reads settings from: each must be a mapping (or empty). The legacy model
# sections are the migration's to check (a bad one stops only the migration).
SECTIONS = ("tinyollama", "redis", "defaults", "sessions", "code", "log", "routing", "serve")
DEFAULTS: dict[str, Any] = {
    "tinyollama": {
        "url": "http://localhost:11434",
        "model": "tinyllama",
        "timeout": 60,
        "disabled_features": ["code"],
    },
    "redis": {"url": EMBEDDED, "key_prefix": "", "cluster": False, "embedded_linger": 30},
    "defaults": {"timeout": 120, "probe_timeout": 2, "availability_ttl": 30, "think": True},
}


@dataclass(frozen=True)
class FallbackModel:
    """The static tinyllama of config.yaml: never in Redis, always last in the chain."""

    url: str
    model_name: str
    timeout: int
    disabled_features: tuple[str, ...] = ()

    model_type = "fallback"
    model_id = None  # never registered: notices and logs name it by model and host

    @property
    def host(self) -> str:
        return self.shown_url.split("://", 1)[-1]

    @property
    def shown_url(self) -> str:
        """The URL as every face shows it: any password masked (docs/ARCHITECTURE.md, "Safety rules")."""
        return mask_url(self.url)

    def to_json(self) -> dict:
        return {
            "model_id": None,
            "model_type": "fallback",
            "url": self.shown_url,
            "model_name": self.model_name,
            "timeout": self.timeout,
            "disabled_features": list(self.disabled_features),
        }


@dataclass(frozen=True)
class LegacyModel:
    """A model of the old static config (`ollama:`/`general:` or `coder:`), for the migration."""

    model_type: str
    url: str
    model_name: str
    timeout: int
    section: str


# Settings a file found in the current folder may not set: they choose the Redis server.
NOT_FROM_THE_FOLDER = (("redis", "url"), ("redis", "cluster"))


# Defaults other layers keep as constants, repeated here only so `config show` can list them
# (tests/test_config_pickup.py checks they agree with agent/sessions.py and agent/code/).
SHOWN_DEFAULTS: dict[str, Any] = {
    "sessions": {"max_history": 40, "max_stored": 1000},
    "code": {"max_steps": 12, "max_tool_output": 20000},
    "log": {"store_text": True},
    "routing": {"balance": True},
    "serve": {"gateway_auth": False},
}
# Settings the environment (or a flag) may set over the file: name -> (env var, override key).
FROM_OUTSIDE = {
    "redis.url": ("AI_CLI_REDIS_URL", "redis_url"),
    "redis.cluster": ("AI_CLI_REDIS_CLUSTER", None),
    "redis.embedded_linger": ("AI_CLI_EMBEDDED_LINGER", None),
}


@dataclass(frozen=True)
class Setting:
    """One merged setting for `config show`: its value and where it came from (`default`,
    `file`, `env`, `flag`), with a note when the file's value was passed over."""

    name: str
    value: Any
    source: str
    note: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "value": self.value, "source": self.source,
                **({"note": self.note} if self.note else {})}


def merged_settings(config: "ConfigManager") -> list[Setting]:
    """Every setting ai-cli knows, merged (defaults < file < env < flag), each with its
    source. URLs are masked. Pure over the loaded config."""
    names: dict[str, Any] = {}
    for source in (DEFAULTS, SHOWN_DEFAULTS):
        for section, values in source.items():
            for key, value in values.items():
                names[f"{section}.{key}"] = value
    for section, values in config.data.items():
        if isinstance(values, dict) and section in SECTIONS:
            for key in values:
                names.setdefault(f"{section}.{key}", None)
    result = []
    for name, default in names.items():
        path = tuple(name.split("."))
        env_name, override = FROM_OUTSIDE.get(name, (None, None))
        in_file = _lookup(config.data, path)
        note = None
        if override and config.overrides.get(override):
            setting = Setting(name, config.overrides[override], "flag")
        elif env_name and config.env.get(env_name, "").strip():
            setting = Setting(name, config.env[env_name].strip(), "env")
        elif name == "tinyollama.url" and in_file is _MISSING and config.env.get("OLLAMA_HOST"):
            setting = Setting(name, config.get_fallback_model().url, "env",
                              "from OLLAMA_HOST (a file's tinyollama.url wins over it)")
        elif in_file is not _MISSING and config.ignores(path):
            note = (f"{config.path} sets it, but a file found in the current folder never "
                    "chooses the Redis server; use your own config file, --config, or "
                    f"{env_name or 'the environment'}.")
            setting = Setting(name, default, "default", note)
        elif in_file is not _MISSING:
            setting = Setting(name, in_file, "file")
        else:
            setting = Setting(name, default, "default")
        if isinstance(setting.value, str) and "://" in setting.value:
            setting = Setting(setting.name, mask_url(setting.value), setting.source, setting.note)
        result.append(setting)
    return result


@dataclass(frozen=True)
class ConfigManager:
    """Everything static ai-cli knows before it talks to Redis or Ollama."""

    path: Path | None
    data: Mapping[str, Any]
    env: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    _lines: Mapping[tuple, int] = field(default_factory=dict, repr=False)
    pickup: ConfigPickup | None = None  # None: built from data, as the tests do

    # --- loading -----------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        cwd: Path | None = None,
    ) -> "ConfigManager":
        env = dict(os.environ if env is None else env)
        pickup = pick_config(path, env, cwd or Path.cwd())
        found = pickup.path
        data, lines = ({}, {}) if found is None else read_yaml(found)
        config = cls(found, data, env, dict(overrides or {}), lines, pickup)
        config.validate()
        return config

    def validate(self) -> None:
        """Fail now, naming file and line, rather than at the first request."""
        for name in SECTIONS:
            value = self.data.get(name)
            if value is not None and not isinstance(value, dict):
                raise self._error((name,), "must be a mapping of settings (name: value), not "
                                           f"{_kind_of(value)}")
        self.get_fallback_model()
        self.get_default_timeout()
        self.probe_timeout
        self.availability_ttl
        self.redis_url
        self.key_prefix
        self.redis_cluster
        self.embedded_linger
        self.log_store_text
        self.routing_balance
        self.gateway_auth

    # --- the seed's API ----------------------------------------------------------------------

    def get_fallback_model(self) -> FallbackModel:
        section = ("tinyollama",)
        features = self._get(section + ("disabled_features",), list)
        for i, feature in enumerate(features):
            if not isinstance(feature, str):
                raise self._error(section + ("disabled_features", i), "must be a list of names")
        url = _lookup(self.data, section + ("url",))
        if url is _MISSING:  # not set in the file: OLLAMA_HOST, as Ollama reads it, else default
            from registry.ollama_host import ollama_host

            url = ollama_host(self.env) or DEFAULTS["tinyollama"]["url"]
            try:
                validate_url(url)
            except AiCliError as exc:
                raise ConfigError(f"OLLAMA_HOST={self.env.get('OLLAMA_HOST')!r} is not usable: "
                                  f"{exc} Fix or unset it.") from None
        return FallbackModel(
            url=self._checked(section + ("url",), validate_url, url),
            model_name=self._checked(section + ("model",), validate_model_name),
            timeout=self._checked(section + ("timeout",), validate_timeout),
            disabled_features=tuple(features),
        )

    def get_default_timeout(self) -> int:
        return self._checked(("defaults", "timeout"), validate_timeout)

    @property
    def has_legacy_sections(self) -> bool:
        """Whether the file has an `ollama:`, `general:` or `coder:` section (valid or not)."""
        return any(section in self.data for section in LEGACY_SECTIONS)

    @property
    def presets_section(self):
        """config.yaml's `presets:` mapping as written (checked by the presets migration), or
        None without one."""
        return self.data.get("presets") if "presets" in self.data else None

    def get_legacy_models(self) -> list[LegacyModel]:
        """The models of the old config format, validated; `ollama:` wins over `general:`."""
        models: dict[str, LegacyModel] = {}
        for section, model_type in LEGACY_SECTIONS.items():
            if section not in self.data or model_type in models:
                continue
            if not isinstance(self.data[section], dict):
                raise self._error((section,), "must be a mapping with url, model and timeout")
            entry = self.data[section]
            for key in ("url", "model"):
                if key not in entry:
                    raise self._error((section,), f"has no '{key}'")
            timeout = entry.get("timeout", self.get_default_timeout())
            models[model_type] = LegacyModel(
                model_type=model_type,
                url=self._checked((section, "url"), validate_url),
                model_name=self._checked((section, "model"), validate_model_name),
                timeout=self._checked((section, "timeout"), validate_timeout, timeout),
                section=section,
            )
        return list(models.values())

    # --- settings ----------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        if self.overrides.get("redis_url"):
            url, source = self.overrides["redis_url"], "--redis-url"
        elif self.env.get("AI_CLI_REDIS_URL"):
            url, source = self.env["AI_CLI_REDIS_URL"], "AI_CLI_REDIS_URL"
        elif self.ignores(("redis", "url")):
            url, source = DEFAULTS["redis"]["url"], None
        else:
            url, source = self._get(("redis", "url"), str), None
        url = url.strip()
        problem = redis_url_problem(url)
        if problem is not None:
            fix = ("use 'embedded', redis://[:PASSWORD@]HOST[:PORT][/DB], rediss://... or "
                   "unix:///PATH/TO/SOCKET")
            if source is None:
                raise self._error(("redis", "url"), f"{mask_url(url)!r} {problem}: {fix}")
            raise ConfigError(f"{source}={mask_url(url)!r} {problem}: {fix}.")
        if self.redis_cluster:
            _check_cluster_url(url)
        return url

    @property
    def key_prefix(self) -> str:
        """`redis.key_prefix`; in cluster mode it must hold a hash tag, default `{ai-cli}:`."""
        prefix = self._get(("redis", "key_prefix"), str)
        if not self.redis_cluster:
            return prefix
        if not prefix:
            return CLUSTER_KEY_PREFIX
        if hash_tag(prefix) is None:
            raise self._error(
                ("redis", "key_prefix"),
                f"{prefix!r} has no hash tag: on a Redis Cluster (redis.cluster: true) every "
                f"registry key must be in one slot, so the prefix needs a non-empty {{tag}}, "
                f"such as '{CLUSTER_KEY_PREFIX}'",
            )
        return prefix

    @property
    def redis_cluster(self) -> bool:
        """`redis.cluster` (AI_CLI_REDIS_CLUSTER wins): redis.url names a Redis Cluster node."""
        raw = self.env.get("AI_CLI_REDIS_CLUSTER", "").strip().lower()
        if raw:
            if raw in _TRUE or raw in _FALSE:
                return raw in _TRUE
            raise ConfigError(
                f"AI_CLI_REDIS_CLUSTER={raw!r} is not usable: set it to true or false."
            )
        value = _lookup(self.data, ("redis", "cluster"))
        if value is _MISSING or value is None or self.ignores(("redis", "cluster")):
            return False
        if not isinstance(value, bool):
            raise self._error(("redis", "cluster"), "must be true or false")
        return value

    @property
    def embedded_linger(self) -> float:
        """`redis.embedded_linger` (AI_CLI_EMBEDDED_LINGER wins): seconds the embedded server
        keeps running after its last client left; 0 stops it with that client."""
        raw = self.env.get("AI_CLI_EMBEDDED_LINGER", "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"AI_CLI_EMBEDDED_LINGER={raw!r} is not usable: set it to a "
                                  "number of seconds, 0 or more (0: stop with the last client).")
            return value
        return self._positive(("redis", "embedded_linger"), allow_zero=True)

    @property
    def probe_timeout(self) -> float:
        return self._positive(("defaults", "probe_timeout"))

    @property
    def availability_ttl(self) -> float:
        return self._positive(("defaults", "availability_ttl"), allow_zero=True)

    @property
    def data_dir(self) -> Path:
        """Where the embedded Redis file and REPL history live."""
        return user_data_dir()

    @property
    def skip_migration(self) -> bool:
        return _env_flag(self.env, "AI_CLI_SKIP_MODEL_MIGRATION")

    @property
    def force_config_yaml(self) -> bool:
        return _env_flag(self.env, "AI_CLI_FORCE_CONFIG_YAML")

    def get_count(self, section: str, name: str, default: int, least: int = 1) -> int:
        """A whole-number setting of a later part (`sessions.max_history`, `code.max_steps`)."""
        path = (section, name)
        value = _lookup(self.data, path)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise self._error(path, f"must be a whole number of at least {least}")
        return value

    @property
    def default_think(self) -> bool | str:
        """`defaults.think` (default true): what a thinking model is sent as `think` when the
        request does not say (true, false, or low / medium / high), so the server never decides
        silently; a model without thinking is sent nothing."""
        value = _lookup(self.data, ("defaults", "think"))
        if value is _MISSING or value is None:
            return True
        if isinstance(value, bool) or value in ("low", "medium", "high"):
            return value
        raise self._error(("defaults", "think"), "must be true, false, low, medium or high")

    @property
    def log_store_text(self) -> bool:
        """`log.store_text` (default true): the answer log keeps each prompt and answer."""
        return self._flag(("log", "store_text"), True)

    @property
    def routing_balance(self) -> bool:
        """`routing.balance` (default true): spread requests over a model's hosts (router/
        fleet.py); false keeps "active host first". `model TYPE balance on|off` wins when set."""
        return self._flag(("routing", "balance"), True)

    @property
    def gateway_auth(self) -> bool:
        """`serve.gateway_auth` (default false): the gateway's `/api` and `/v1` ask for the
        server's token on loopback too (off loopback they always do)."""
        return self._flag(("serve", "gateway_auth"), False)

    def _flag(self, path: tuple, default: bool) -> bool:
        """A true/false setting: `default` when unset, ConfigError naming file and line when it
        is anything but a boolean."""
        value = _lookup(self.data, path)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            raise self._error(path, "must be true or false")
        return value

    def ignores(self, path: tuple) -> bool:
        """Whether the file sets `path` but is not the user's own, so the setting is passed
        over (NOT_FROM_THE_FOLDER: a file in the current folder never picks the Redis server)."""
        return (path in NOT_FROM_THE_FOLDER and self.pickup is not None
                and not self.pickup.users_own and _lookup(self.data, path) is not _MISSING)

    def section(self, name: str) -> Mapping[str, Any]:
        """A top-level section of config.yaml merged over its defaults (for later parts)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self._error((name,), "must be a mapping")
        return {**DEFAULTS.get(name, {}), **value}

    # --- plumbing ----------------------------------------------------------------------------

    def _get(self, path: tuple, kind: type):
        value = _lookup(self.data, path)
        if value is _MISSING:
            value = _lookup(DEFAULTS, path)
        if value is None and kind is str:
            value = ""
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self._error(path, f"must be a {_KIND_NAMES[kind]}")
        return value

    def _checked(self, path: tuple, check, value=None):
        if value is None:
            value = _lookup(self.data, path)
            if value is _MISSING:
                value = _lookup(DEFAULTS, path)
        try:
            return check(value)
        except AiCliError as exc:
            raise self._error(path, str(exc)) from None

    def _positive(self, path: tuple, allow_zero: bool = False) -> float:
        value = self._get(path, (int, float))
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise self._error(path, "must be a positive number of seconds")
        return float(value)

    def _error(self, path: tuple, problem: str) -> ConfigError:
        where = str(self.path) if self.path else "config.yaml"
        line = None
        for depth in range(len(path), 0, -1):
            line = self._lines.get(tuple(path[:depth]))
            if line is not None:
                break
        location = f"{where}, line {line}" if line else where
        name = ".".join(str(p) for p in path)
        return ConfigError(f"{location}: {name} {problem.rstrip('.')}. Fix the file and retry.")


_KIND_NAMES = {str: "text", list: "list", dict: "mapping", (int, float): "number"}


def _lookup(data, path: tuple):
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return _MISSING
    return data


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in _TRUE


def _check_cluster_url(url: str) -> None:
    """Cluster mode needs one node's redis:// or rediss:// URL, database 0."""
    fix = ("Set redis.url (or AI_CLI_REDIS_URL) to one node of the cluster, such as "
           "redis://127.0.0.1:7000, or turn cluster mode off (redis.cluster: false, "
           "AI_CLI_REDIS_CLUSTER=false).")
    if url == EMBEDDED:
        raise ConfigError(f"Cluster mode is on, but the embedded Redis is not a cluster. {fix}")
    if url.startswith("unix://"):
        raise ConfigError(
            f"Cluster mode is on, but {mask_url(url)} is a unix socket; Redis Cluster clients "
            f"connect over TCP. {fix}"
        )
    from redis.connection import parse_url

    try:
        db = int(parse_url(url).get("db", 0))
    except ValueError as exc:
        raise ConfigError(f"The Redis URL {mask_url(url)} is not usable ({exc}). {fix}") from None
    if db != 0:
        raise ConfigError(
            f"The Redis URL {mask_url(url)} selects database {db}, but a Redis Cluster has only "
            f"database 0. Drop the /{db} from the URL, or set redis.cluster: false."
        )


def redis_url_problem(url: str) -> str | None:
    """Why `url` cannot name a Redis (None when it can): what redis-py would raise at connect
    time, found before anything connects."""
    if url == EMBEDDED:
        return None
    if not url.startswith(REDIS_SCHEMES):
        return "is not a Redis URL"
    from redis.connection import parse_url  # only for a URL of one's own: embedded needs none

    try:
        parts = parse_url(url)
    except (ValueError, TypeError) as exc:
        return f"is not a usable Redis URL ({str(exc).rstrip('.')})"
    if url.startswith("unix://") and not parts.get("path"):
        return "names no socket"
    return None


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__

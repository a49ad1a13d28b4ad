"""`App`: what every command handler gets — config, registry, checker, router, face, session.

Built once by each face's entry point (cli/main.py, ui/server.py). Nothing here connects at construction: the registry
connects on first use, and reconnects on a later use after Redis was down, so the REPL survives
a Redis outage and recovers when it returns. Router and checker are built over the registry on
first use; router/ is imported only then, so `ai-cli model list` never imports langchain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from agent.face import Face
from registry.config import ConfigManager
from registry.errors import AiCliError, RegistryReadOnly, RegistryUnavailable

if TYPE_CHECKING:
    from agent.commands.table import CommandTable
    from registry.protocol import Registry


@dataclass(frozen=True)
class Flags:
    """The global command-line flags (cli/main.py parses them; the web sets its own)."""

    json: bool = False
    config: str | None = None
    redis_url: str | None = None
    session: str | None = None
    yes: bool = False
    workspace: str | None = None
    force: bool = False
    help: bool = False
    version: bool = False


class App:
    def __init__(
        self,
        config: ConfigManager,
        face: Face,
        table: "CommandTable",
        flags: Flags = Flags(),
        *,
        open_registry: Callable[[ConfigManager], "Registry"] | None = None,
    ):
        self.config = config
        self.face = face  # where events go and questions are asked (agent/face.py)
        self.table = table
        self.flags = flags
        self.in_repl = False  # set by the REPL: /help shows slash forms, chat keeps a session
        self.session_id: str | None = flags.session
        self.workspace = Path(flags.workspace).resolve() if flags.workspace else Path.cwd()
        self._open_registry = open_registry
        self._registry = None
        self._checker = None
        self._router = None

    # --- the registry, checker and router, built on first use ------------------------------

    @property
    def registry(self) -> "Registry":
        """The registry (registry.open_registry): while Redis is down it serves config.yaml's
        models read-only and reconnects by itself, so the router keeps working."""
        if self._registry is None:
            opener = self._open_registry
            if opener is None:
                from registry import open_registry as opener
            self._registry = opener(self.config)
        return self._registry

    def online_registry(self, reading: bool = False) -> "Registry":
        """The registry for /model commands: `RegistryUnavailable` (naming the URL) while Redis
        is down. With AI_CLI_FORCE_CONFIG_YAML, reads come from config.yaml as asked."""
        registry = self.registry
        if registry.online or (reading and self.config.force_config_yaml):
            return registry
        raise RegistryUnavailable(registry.notice or f"Redis at {registry.url} is unreachable.")

    def read_registry(self, operation: Callable[[Any], Any]) -> Any:
        """A read for /model commands, refused while Redis is down — also when Redis went away
        during the read itself (the registry then answered from config.yaml)."""
        result = operation(self.online_registry(reading=True))
        self.online_registry(reading=True)
        return result

    def registry_messages(self) -> list[str]:
        """Lines the registry wants shown once (e.g. "Redis ... is back"); drained."""
        if self._registry is None or not self._registry.messages:
            return []
        lines = list(self._registry.messages)
        self._registry.messages.clear()
        return lines

    @property
    def checker(self):
        if self._checker is None:
            from registry.availability import AvailabilityChecker

            self._checker = AvailabilityChecker(
                self.registry,
                probe_timeout=self.config.probe_timeout,
                ttl=self.config.availability_ttl,
            )
        return self._checker

    @property
    def router(self):
        if self._router is None:
            from router import Router

            self._router = Router(self.registry, self.config, self.checker)
        return self._router

    def features(self):
        """The router's Features right now (chat, code, code_tools, reasons)."""
        return self.router.features()

    def feature_off_reason(self, feature: str) -> str | None:
        """Why `feature` is off right now, or None when it is on."""
        try:
            reason = self.router.off_reason(feature)
        except AiCliError as exc:
            reason = exc.message
        if reason is None:
            return None
        registry = self.registry
        if not registry.online:  # not "no model configured": Redis is away or refused us
            return (f"{registry.notice} Meanwhile {feature} is off: neither config.yaml nor "
                    "the fallback has a model that answers.")
        lines = self.registry_messages()
        if lines:  # a damaged registry key read as empty is the real reason: named first
            reason = " ".join([*lines, reason.removeprefix("⚠").strip()])
        return reason

    # --- start-up ---------------------------------------------------------------------------

    def migrate_on_start(self) -> str | None:
        """The one-time config.yaml -> Redis migrations (models, then presets); returns their
        line to show, or None."""
        lines = [self._migrate_models(), self._migrate_presets()]
        return " ".join(line for line in lines if line) or None

    def _migrate_models(self) -> str | None:
        if self._nothing_to_migrate():
            return None  # the usual start: the migration module is not even imported
        from migrations.add_model_registry import migrate_on_start

        try:
            return migrate_on_start(self.registry, self.config)
        except (RegistryUnavailable, RegistryReadOnly):
            return None  # the banner already says Redis is down

    def _migrate_presets(self) -> str | None:
        """The shipped presets and config.yaml's `presets:`, once (migrations/add_presets.py);
        one round trip reading their markers when both are done."""
        import redis

        if self.config.skip_migration or self.config.force_config_yaml:
            return None
        keys = self.registry.keys
        try:
            pipe = self.registry.live().redis.pipeline(transaction=False)
            shipped, migrated = pipe.get(keys.presets_shipped).get(keys.presets_migrated).execute()
        except (redis.RedisError, OSError, AiCliError):
            return None  # Redis is away: the next start runs them
        if shipped is not None and (migrated is not None or self.config.presets_section is None):
            return None
        from migrations.add_presets import presets_on_start
        from router.options import options_from_mapping

        return presets_on_start(self.registry, self.config, options_from_mapping)

    def _nothing_to_migrate(self) -> bool:
        """The migration's two markers, read in one round trip: whether it is done for good
        (migrations/pending.py). False whenever that read cannot say (the migration decides)."""
        import redis

        from migrations.pending import nothing_to_migrate
        from registry.manager import SCHEMA_VERSION

        keys = self.registry.keys
        try:  # live() refuses while Redis is down or ignored (RegistryReadOnly)
            pipe = self.registry.live().redis.pipeline(transaction=False)  # slots may differ
            schema, migrated = pipe.get(keys.schema).get(keys.migrated).execute()
        except (redis.RedisError, OSError, AiCliError):  # the migration reports what went wrong
            return False
        return nothing_to_migrate(schema, migrated, self.config.has_legacy_sections,
                                  SCHEMA_VERSION)

    # --- asking the user --------------------------------------------------------------------

    def confirm(self, question: str, default: bool = False) -> bool:
        """Yes with --yes; else the face asks (no when nobody can answer; Ctrl-C is no)."""
        if self.flags.yes:
            return True
        return self.face.confirm(question, default)

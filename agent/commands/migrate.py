"""`ai-cli migrate [--dry-run]`: the one-time config.yaml -> Redis move, run by hand.

The work is `migrations.add_model_registry.migrate`; this is its face. It runs automatically at the
first start too (App.migrate_on_start), so by hand it is mostly for --dry-run and for setups that
set AI_CLI_SKIP_MODEL_MIGRATION=true.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.commands.base import Args

if TYPE_CHECKING:
    from migrations.add_model_registry import MigrationReport


@dataclass(frozen=True)
class MigrationResult:
    report: "MigrationReport"

    def to_json(self) -> Any:
        return self.report.to_json()


def run_migration(app, args: Args) -> MigrationResult:
    from migrations.add_model_registry import migrate

    return MigrationResult(migrate(app.registry, app.config, dry_run=bool(args.dry_run)))

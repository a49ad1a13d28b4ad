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
    from migrations.add_presets import PresetPlan


@dataclass(frozen=True)
class MigrationResult:
    report: "MigrationReport"
    presets: "PresetPlan | None" = None  # the presets' steps (migrations/add_presets.py)

    def to_json(self) -> Any:
        data = self.report.to_json()
        if self.presets is not None:
            data["presets"] = self.presets.to_json()
        return data


def run_migration(app, args: Args) -> MigrationResult:
    from migrations.add_model_registry import migrate
    from migrations.add_presets import migrate_presets
    from router.options import options_from_mapping

    dry_run = bool(args.dry_run)
    report = migrate(app.registry, app.config, dry_run=dry_run)
    return MigrationResult(report, migrate_presets(app.registry, app.config,
                                                   options_from_mapping, dry_run=dry_run))

"""`/model repair [--dry-run]`: check the registry's invariants and fix what is safe to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import Args


@dataclass(frozen=True)
class RepairReport:
    fixes: list[str]
    remaining: list[str]
    dry_run: bool

    def to_json(self) -> Any:
        return {"dry_run": self.dry_run, "fixes": self.fixes, "remaining": self.remaining}


def repair(app, args: Args) -> RepairReport:
    from registry.repair import repair as run_repair

    found = run_repair(app.online_registry().live(), dry_run=bool(args.dry_run))
    return RepairReport([f.text for f in found.fixes], found.remaining, bool(args.dry_run))

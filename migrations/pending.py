"""Whether the config.yaml -> Redis migration has anything to do, decided from its two markers.

Every ai-cli start asks (agent/app.py). Once the migration has run the answer is "nothing", and
the start then needs neither migrations/add_model_registry.py (its dataclasses and planning code
cost every start; bench/README.md has the figure) nor its WATCHed transaction: one read of the
markers decides. Pure; the caller reads them.
"""

from __future__ import annotations


def nothing_to_migrate(schema: str | None, migrated: str | None, legacy_sections: bool,
                       schema_version: str) -> bool:
    """True only when no step of the migration (add_model_registry.STEPS) would write: the
    registry has this ai-cli's schema, and its models were migrated or config.yaml has no
    `ollama:`, `general:` or `coder:` section to migrate. Anything else (a first run, another
    schema, sections to check) is the migration's own to decide and report."""
    return schema == schema_version and (migrated is not None or not legacy_sections)

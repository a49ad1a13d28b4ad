"""One-time, idempotent moves of data into the registry (docs/MIGRATION.md)."""

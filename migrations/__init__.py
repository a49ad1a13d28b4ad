"""One-time, idempotent moves of data into the registry (DESIGN.md, "Redis keys")."""

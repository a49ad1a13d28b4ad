"""config.yaml as last parsed, kept as JSON beside the user's cache, keyed by the file's text.

Importing PyYAML is dear (its reader compiles a large regex at import; bench/README.md has the
figure): more than the rest of `ai-cli model list`'s own work. The file rarely changes between two
commands, so its parsed form is kept in the data dir (`~/.local/share/ai-cli/config.json`: the dir
is 0700 and the file 0600, like `registry.db`, which holds the registry's URLs too) with the exact
text it came from: a command whose config.yaml reads the same text uses it without importing yaml.
Any other text (an edit, even within the same second and of the same size) is parsed again. A
cache that cannot be read, written or trusted is simply not used; nothing depends on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CACHE_FILE = "config.json"
VERSION = 1  # bump when the cached form changes


def lookup(cache: Path, source: Path, text: str) -> tuple[dict, dict] | None:
    """The (data, lines) cached for exactly this text of `source`, or None."""
    try:
        entry = json.loads(cache.read_text(encoding="utf-8"))
        if entry["version"] != VERSION or entry["path"] != str(source) or entry["text"] != text:
            return None
        lines = {tuple(path): line for path, line in entry["lines"]}
        return entry["data"], lines
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(cache: Path, source: Path, text: str, data: dict, lines: dict) -> None:
    """Keep (data, lines) for this text, when JSON holds them exactly (a YAML date or a number
    used as a key would come back changed: such a file is parsed every time)."""
    entry = {"version": VERSION, "path": str(source), "text": text, "data": data,
             "lines": [[list(path), line] for path, line in lines.items()]}
    try:
        encoded = json.dumps(entry, ensure_ascii=False)
        if json.loads(encoded)["data"] != data:
            return
        cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = cache.with_name(f".{CACHE_FILE}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(encoded)
        os.replace(temporary, cache)
    except (OSError, TypeError, ValueError):
        return

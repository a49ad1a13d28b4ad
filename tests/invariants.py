"""Checks of the registry's invariants (docs/ARCHITECTURE.md, "Redis keys"), key by key, straight from Redis."""

from __future__ import annotations

import json
import re

MODEL_FIELDS = {
    "model_id", "model_type", "url", "model_name", "timeout",
    "is_active", "added_at", "last_checked", "is_available",
}
LATER_FIELDS = {"num_ctx", "parallel",  # written by every add since; older hashes lack them
                "capabilities", "capabilities_source", "capabilities_digest", "capabilities_user"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def registry_problems(client, prefix: str = "") -> list[str]:
    """Every way the stored registry breaks the contract; empty when it is sound."""
    problems = []
    indexed = {}
    for model_type in ("general", "coder"):
        for model_id in client.smembers(f"{prefix}models:index:{model_type}"):
            indexed[model_id] = model_type
    hashes = {}
    for key in client.scan_iter(f"{prefix}models:model_*"):
        model_id = key[len(prefix) + len("models:"):]
        hashes[model_id] = client.hgetall(key)
    for model_id, model_type in indexed.items():
        if model_id not in hashes:
            problems.append(f"{model_id} is indexed under {model_type} but has no hash")
    for model_id, fields in hashes.items():
        problems += _hash_problems(model_id, fields, indexed)
    for model_type in ("general", "coder"):
        problems += _active_problems(client, prefix, model_type, hashes)
    return problems


def _hash_problems(model_id, fields, indexed) -> list[str]:
    problems = []
    if not re.fullmatch(r"model_[0-9a-f]{8}", model_id):
        problems.append(f"{model_id}: id is not model_ + 8 hex digits")
    if not MODEL_FIELDS <= set(fields) <= MODEL_FIELDS | LATER_FIELDS:
        problems.append(f"{model_id}: fields {sorted(fields)}")
        return problems
    if fields["model_id"] != model_id:
        problems.append(f"{model_id}: model_id field is {fields['model_id']}")
    if indexed.get(model_id) != fields["model_type"]:
        problems.append(f"{model_id}: hash not indexed under its type {fields['model_type']}")
    if fields["is_active"] not in ("0", "1") or fields["is_available"] not in ("0", "1", ""):
        problems.append(f"{model_id}: booleans {fields['is_active']!r} {fields['is_available']!r}")
    if not ISO_UTC.match(fields["added_at"]):
        problems.append(f"{model_id}: added_at {fields['added_at']!r}")
    if fields["last_checked"] and not ISO_UTC.match(fields["last_checked"]):
        problems.append(f"{model_id}: last_checked {fields['last_checked']!r}")
    if not fields["timeout"].isdigit():
        problems.append(f"{model_id}: timeout {fields['timeout']!r}")
    return problems


def _active_problems(client, prefix, model_type, hashes) -> list[str]:
    problems = []
    active = client.get(f"{prefix}models:{model_type}:active")
    flagged = sorted(
        i for i, f in hashes.items() if f.get("model_type") == model_type and f.get("is_active") == "1"
    )
    if active is None:
        if flagged:
            problems.append(f"no active {model_type} pointer, yet {flagged} have is_active=1")
        return problems
    fields = hashes.get(active)
    if fields is None:
        problems.append(f"active {model_type} pointer names missing model {active}")
    elif fields.get("model_type") != model_type:
        problems.append(f"active {model_type} pointer names a {fields.get('model_type')} model")
    if flagged != [active]:
        problems.append(f"active {model_type} is {active} but is_active=1 on {flagged}")
    return problems


ANSWER_FIELDS = {"time", "session_id", "model_id", "model_name", "url", "via", "input_tokens",
                 "output_tokens", "ttft_ms", "total_ms", "tokens_per_s", "trimmed", "status",
                 "message_id", "prompt", "response", "failure", "preset", "face"}
OPTIONAL_ANSWER_FIELDS = {"attachments", "thinking_tokens"}  # only in entries that have one
STREAM_NODE = 100  # MAXLEN ~ trims whole stream nodes (stream-node-max-entries, default 100)


def answer_log_problems(client, prefix: str = "", cap: int = 10_000) -> list[str]:
    """The `log:answers` stream against docs/ARCHITECTURE.md: capped, each entry the answer-log shape, no
    password in a URL."""
    import json

    key = f"{prefix}log:answers"
    if not client.exists(key):
        return []
    if client.type(key) != "stream":
        return [f"{key} is a {client.type(key)}, not a stream"]
    problems = []
    length = client.xlen(key)
    if length > cap + STREAM_NODE:
        problems.append(f"{key} holds {length} entries; the cap is ~{cap}")
    for entry_id, fields in client.xrange(key):
        try:
            entry = json.loads(fields["answer"])
        except (KeyError, ValueError):
            problems.append(f"{entry_id}: no answer JSON")
            continue
        if not ANSWER_FIELDS <= set(entry) <= ANSWER_FIELDS | OPTIONAL_ANSWER_FIELDS:
            problems.append(f"{entry_id}: fields {sorted(entry)}")
        elif entry["status"] not in ("ok", "stopped", "broken", "failed_over"):
            problems.append(f"{entry_id}: status {entry['status']!r}")
        elif "@" in (entry["url"] or "") and ":***@" not in entry["url"]:
            problems.append(f"{entry_id}: url {entry['url']!r} is not masked")
        elif not ISO_UTC.match(entry["time"]):
            problems.append(f"{entry_id}: time {entry['time']!r}")
    return problems


FLEET_NUMBERS = {"ttft_ms", "weight", "ttft_at", "answer_ms", "answer_weight", "cool_s",
                 "cool_until", "busy_until",
                 "load_ms"}


def fleet_problems(client, prefix: str = "") -> list[str]:
    """The balancer's keys (registry/fleet_state.py) against docs/ARCHITECTURE.md: leases a
    sorted set of expiry times, each entry's hash numbers only, balance "on" or "off"."""
    problems = []
    for key in client.scan_iter(f"{prefix}fleet:*"):
        kind = client.type(key)
        rest = key[len(prefix) + len("fleet:"):]
        if rest.endswith(":leases"):
            if kind != "zset":
                problems.append(f"{key} is a {kind}, not a sorted set")
        elif rest.startswith(("balance:", "session:")) or rest.startswith("ps:"):
            if kind != "string":
                problems.append(f"{key} is a {kind}, not a string")
            elif rest.startswith("balance:") and client.get(key) not in ("on", "off"):
                problems.append(f"{key} holds {client.get(key)!r}")
        elif kind != "hash":
            problems.append(f"{key} is a {kind}, not a hash")
        else:
            fields = client.hgetall(key)
            if not set(fields) <= FLEET_NUMBERS:
                problems.append(f"{key}: fields {sorted(fields)}")
            for name, value in fields.items():
                try:
                    float(value)
                except ValueError:
                    problems.append(f"{key}: {name} {value!r} is not a number")
    return problems


PRESET_FIELDS = {"name", "description", "model", "system", "options", "requires", "updated_at"}
PRESET_MARKERS = ("index", "shipped", "migrated")


def preset_problems(client, prefix: str = "") -> list[str]:
    """Every way the stored presets break the contract (docs/ARCHITECTURE.md): each indexed name
    has a hash of the preset fields naming it, with options a JSON object; each hash is indexed."""
    problems = []
    indexed = set(client.smembers(f"{prefix}presets:index"))
    stored = {key[len(prefix) + len("presets:"):] for key in client.scan_iter(f"{prefix}presets:*")}
    stored -= set(PRESET_MARKERS)
    for name in sorted(indexed - stored):
        problems.append(f"preset {name} is indexed but has no hash")
    for name in sorted(stored - indexed):
        problems.append(f"preset {name} has a hash but is not indexed")
    for name in sorted(stored & indexed):
        fields = client.hgetall(f"{prefix}presets:{name}")
        if set(fields) != PRESET_FIELDS:
            problems.append(f"preset {name}: fields {sorted(fields)}")
            continue
        if fields["name"] != name:
            problems.append(f"preset {name}: name field is {fields['name']}")
        if not isinstance(json.loads(fields["options"]), dict):
            problems.append(f"preset {name}: options {fields['options']!r}")
        if not ISO_UTC.match(fields["updated_at"]):
            problems.append(f"preset {name}: updated_at {fields['updated_at']!r}")
    return problems

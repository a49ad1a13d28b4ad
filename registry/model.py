"""`ModelConfig`, its validation and its one encoding (Redis hash, JSON). Pure: no I/O."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

from registry.errors import (
    InvalidModelName,
    InvalidModelType,
    InvalidTimeout,
    InvalidUrl,
)

MODEL_TYPES = ("general", "coder")
MAX_MODEL_NAME = 200
MIN_TIMEOUT, MAX_TIMEOUT = 1, 3600
MODEL_ID_RE = re.compile(r"^model_[0-9a-f]{8}$")
HASH_FIELDS = (
    "model_id",
    "model_type",
    "url",
    "model_name",
    "timeout",
    "is_active",
    "added_at",
    "last_checked",
    "is_available",
)
_UNSAFE_NAME = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ModelConfig:
    """Configuration for a dynamically registered model."""

    model_id: str
    model_type: str
    url: str
    model_name: str
    timeout: int
    is_active: bool
    added_at: datetime
    last_checked: datetime | None = None
    is_available: bool | None = None

    @property
    def host(self) -> str:
        """`host:port` as the banner shows it (a password masked)."""
        parts = urlsplit(self.shown_url)
        return parts.netloc or self.shown_url

    @property
    def shown_url(self) -> str:
        """The URL as every face shows it: any password masked (DESIGN.md, Safety rules)."""
        return mask_url(self.url)

    def with_changes(self, **changes) -> "ModelConfig":
        return replace(self, **changes)

    def to_hash(self) -> dict[str, str]:
        return {
            "model_id": self.model_id,
            "model_type": self.model_type,
            "url": self.url,
            "model_name": self.model_name,
            "timeout": str(self.timeout),
            "is_active": _encode_bool(self.is_active),
            "added_at": encode_time(self.added_at),
            "last_checked": encode_time(self.last_checked),
            "is_available": "" if self.is_available is None else _encode_bool(self.is_available),
        }

    @classmethod
    def from_hash(cls, fields: dict) -> "ModelConfig":
        f = fields
        if any(isinstance(k, bytes) for k in f):  # a client without decode_responses
            f = {_text(k): _text(v) for k, v in fields.items()}
        return cls(
            model_id=f["model_id"],
            model_type=f["model_type"],
            url=f["url"],
            model_name=f["model_name"],
            timeout=int(f["timeout"]),
            is_active=f.get("is_active") == "1",
            added_at=decode_time(f.get("added_at", "")) or datetime.fromtimestamp(0, timezone.utc),
            last_checked=decode_time(f.get("last_checked", "")),
            is_available=None if f.get("is_available", "") == "" else f["is_available"] == "1",
        )

    def to_json(self) -> dict:
        """The model as `--json` and the HTTP API show it (DESIGN.md, JSON shapes)."""
        return {
            "model_id": self.model_id,
            "model_type": self.model_type,
            "url": self.shown_url,
            "model_name": self.model_name,
            "timeout": self.timeout,
            "is_active": self.is_active,
            "added_at": encode_time(self.added_at),
            "last_checked": encode_time(self.last_checked) or None,
            "is_available": self.is_available,
        }


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***`; the one masking for model and Redis URLs.

    Only for showing: connections use the URL as stored. A URL that does not parse is shown
    with everything before the last '@' of its network part masked, so no secret slips through.
    """
    if not isinstance(url, str) or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        scheme, sep, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        if "@" not in netloc:
            return url
        return f"{scheme}{sep}***@{netloc.rsplit('@', 1)[1]}{slash}{path}"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{port}" if port is not None else "")
    return parts._replace(netloc=netloc).geturl()


def new_model_id() -> str:
    return "model_" + secrets.token_hex(4)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def encode_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def decode_time(text: str) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text)


def _encode_bool(value: bool) -> str:
    return "1" if value else "0"


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- validation: each returns the normalised value or raises an InvalidInput -----------------


def validate_model_type(model_type) -> str:
    if model_type not in MODEL_TYPES:
        raise InvalidModelType(
            f"Unknown model type {_show(model_type)}: use 'general' (chat) or 'coder' (code work)."
        )
    return model_type


def validate_url(url) -> str:
    """An Ollama base URL: http(s), with a host; trailing slashes dropped."""
    hint = "Give the Ollama server's address, for example http://localhost:11434."
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrl(f"The URL is empty. {hint}")
    if _UNSAFE_NAME.search(url):
        raise InvalidUrl(f"The URL {_show(url)} contains spaces or control characters. {hint}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidUrl(f"The URL {_show(url)} has an invalid port. {hint}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidUrl(f"The URL {_show(url)} must start with http:// or https://. {hint}")
    if not parts.hostname:
        raise InvalidUrl(f"The URL {_show(url)} has no host. {hint}")
    if port == 0:
        raise InvalidUrl(f"The URL {_show(url)} has port 0. {hint}")
    if parts.query or parts.fragment:
        raise InvalidUrl(f"The URL {_show(url)} must not have a query or fragment. {hint}")
    return url.rstrip("/")


def validate_model_name(name) -> str:
    hint = "Use the name Ollama shows, for example llama3.1:8b."
    if not isinstance(name, str) or name == "":
        raise InvalidModelName(f"The model name is empty. {hint}")
    if len(name) > MAX_MODEL_NAME:
        raise InvalidModelName(
            f"The model name is {len(name)} characters long; the limit is {MAX_MODEL_NAME}. {hint}"
        )
    if _UNSAFE_NAME.search(name):
        raise InvalidModelName(
            f"The model name {_show(name)} contains spaces or control characters. {hint}"
        )
    return name


def validate_timeout(timeout) -> int:
    """A whole number of seconds from 1 to 3600; digit strings (from a command line) are accepted."""
    message = (
        f"The timeout {_show(timeout)} is not valid: give a whole number of seconds from "
        f"{MIN_TIMEOUT} to {MAX_TIMEOUT}, for example --timeout 120."
    )
    if isinstance(timeout, bool):
        raise InvalidTimeout(message)
    if isinstance(timeout, str) and re.fullmatch(r"\s*[+-]?\d+\s*", timeout):
        timeout = int(timeout)
    if isinstance(timeout, float) and timeout.is_integer():
        timeout = int(timeout)
    if not isinstance(timeout, int) or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise InvalidTimeout(message)
    return timeout


def _show(value) -> str:
    """A value quoted for an error message, shortened so one bad input stays one line; a URL's
    password masked (a rejected URL is quoted too)."""
    text = repr(mask_url(value) if isinstance(value, str) else value)
    return text if len(text) <= 80 else text[:77] + "..."

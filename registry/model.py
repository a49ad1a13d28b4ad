"""`ModelConfig`, its validation and its one encoding (Redis hash, JSON). Pure: no I/O."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

from registry import capabilities as caps
from registry.errors import (
    AiCliError,
    InvalidModelId,
    InvalidModelName,
    InvalidInput,
    InvalidModelType,
    InvalidTimeout,
    InvalidUrl,
)

# `embedding`: models that turn text into vectors (`ai-cli embed`), with their own active
# pointer and chain, and no tinyllama fallback.
MODEL_TYPES = ("general", "coder", "embedding")
MAX_MODEL_NAME = 200
MIN_TIMEOUT, MAX_TIMEOUT = 1, 3600
MIN_NUM_CTX, MAX_NUM_CTX = 256, 1_048_576  # Ollama refuses less; no model has more
MIN_PARALLEL, MAX_PARALLEL = 1, 256  # OLLAMA_NUM_PARALLEL of the entry's server
MODEL_ID_RE = re.compile(r"^model_[0-9a-f]{8}\Z")  # \Z, not $: $ matches before a final newline too
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
    "num_ctx",
    "parallel",
    "capabilities",
    "capabilities_source",
    "capabilities_digest",
    "capabilities_user",
)
CAPABILITY_FIELDS = HASH_FIELDS[-4:]  # a cache and an override, written apart from the rest
MAX_URL = 2048
# Whitespace, C0 and C1 controls, DEL, and the bidi marks, embeddings, overrides and isolates that
# can make a name read differently from what it is (U+061C, U+200E/F, U+202A-E, U+2066-9).
# Spaces, controls, bidi controls and zero-width characters: a name that looks like another.
_UNSAFE_NAME = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # bytes that were not UTF-8 (argv's surrogateescape)


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
    # The context size sent on every request to this entry (`--num-ctx` on add); None: the
    # model's window capped by `defaults.max_context` (router/fitter.py). Fixed, because Ollama
    # reloads a model whose `num_ctx` changes.
    num_ctx: int | None = None
    parallel: int = 1  # requests its server runs at once (its OLLAMA_NUM_PARALLEL)
    # What the model can do as its server said (or as guessed from its `/api/show`), and the
    # digest that answer was about: read again only when the host reports another digest.
    # None: never read. `capabilities_user`: the user's `+vision -tools` override, which wins.
    server_capabilities: tuple[str, ...] | None = None
    server_capabilities_source: str | None = None  # "server" | "guessed"
    capabilities_digest: str = ""
    capabilities_user: tuple[str, ...] = ()
    problem: str | None = None  # set when the stored hash is corrupt: what is wrong with it

    @property
    def corrupt(self) -> bool:
        return self.problem is not None

    @property
    def host(self) -> str:
        """`host:port` as the banner shows it (a password masked)."""
        try:
            return urlsplit(self.shown_url).netloc or self.shown_url
        except ValueError:  # only a corrupt entry's URL can fail to parse
            return self.shown_url

    @property
    def shown_url(self) -> str:
        """The URL as every face shows it: any password masked (docs/ARCHITECTURE.md, "Safety rules")."""
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
            "num_ctx": "" if self.num_ctx is None else str(self.num_ctx),
            "parallel": str(self.parallel),
            # Only once known: an entry nobody asked about keeps the hash of the first design.
            **{k: v for k, v in self.capability_fields().items() if v},
        }

    def capability_fields(self) -> dict[str, str]:
        """The capability fields of the hash (registry/capabilities.py encodes them)."""
        return {
            "capabilities": "" if self.server_capabilities is None
            else caps.encode(self.server_capabilities),
            "capabilities_source": self.server_capabilities_source or "",
            "capabilities_digest": self.capabilities_digest,
            "capabilities_user": ",".join(self.capabilities_user),
        }

    @property
    def capabilities(self) -> tuple[str, ...] | None:
        """What the model can do: the server's (or guessed) list with the user's override
        applied; None when nothing is known and there is no override."""
        if self.server_capabilities is None and not self.capabilities_user:
            return None
        return caps.apply_override(self.server_capabilities or (), self.capabilities_user)

    @property
    def capabilities_source(self) -> str | None:
        """"user" (an override), "server", "guessed", or None (not known yet)."""
        if self.capabilities_user:
            return "user"
        return self.server_capabilities_source if self.server_capabilities is not None else None

    @classmethod
    def from_hash(cls, fields: dict, model_id: str | None = None) -> "ModelConfig":
        """The model a stored hash holds. Never raises: whatever is wrong with the hash (a
        missing field, a bad number or date, an unknown type, bytes that are not UTF-8) is
        described in `problem`, and such a corrupt model is shown but never routed to.

        `model_id` is the id the hash was read under (its key), used when the field is missing.
        `fields` that are not a dict (the WRONGTYPE error of a key holding a string or a list)
        decode as corrupt too.
        """
        if not isinstance(fields, dict):  # the key holds another Redis type (WRONGTYPE)
            return cls(model_id or "", "", "", "", 0, False, datetime.fromtimestamp(0, timezone.utc),
                       problem="the key holds another kind of Redis value, not a hash")
        if not fields:
            return cls(model_id or "", "", "", "", 0, False, datetime.fromtimestamp(0, timezone.utc),
                       problem="no stored hash: the id is only in an index or pointer")
        problems: list[str] = []
        f: dict[str, str] = {}
        garbled: set[str] = set()
        for key, value in dict(fields or {}).items():
            name, bad_name = _lenient_text(key)
            text, bad_value = _lenient_text(value)
            if bad_name or bad_value:
                problems.append(f"field {_show(name)} is not valid UTF-8")
                garbled.add(name)
            f[name] = text
        for name in ("model_id", "model_type", "url", "model_name", "timeout"):
            if name not in f:
                problems.append(f"no {name} field")
        stored_id = f.get("model_id", model_id or "")
        if model_id is not None and stored_id != model_id and "model_id" in f:
            problems.append(f"model_id field {_show(stored_id)} differs from its key {model_id}")
        if stored_id and not MODEL_ID_RE.match(stored_id):
            problems.append(f"model_id {_show(stored_id)} is not model_ + 8 hex digits")
        for name, validate in (("url", validate_url), ("model_name", validate_model_name)):
            if f.get(name) and name not in garbled:  # one `add` refuses is corrupt: never routed
                trouble = _refusal(validate, f[name])
                if trouble:
                    problems.append(f"{name}: {trouble}")
        model_type = f.get("model_type", "")
        if "model_type" in f and model_type not in MODEL_TYPES:
            problems.append(f"model_type {_show(model_type)} is not general, coder or embedding")
        timeout = _lenient_int(f.get("timeout", "0"))
        if "timeout" in f and (timeout is None or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
            problems.append(f"timeout {_show(f.get('timeout'))} is not a whole number of seconds "
                            f"from {MIN_TIMEOUT} to {MAX_TIMEOUT}")
        counts = {}
        # Both fields came after the first entries were stored: absent reads as the default.
        for name, low, high, absent in (("num_ctx", MIN_NUM_CTX, MAX_NUM_CTX, None),
                                        ("parallel", MIN_PARALLEL, MAX_PARALLEL, 1)):
            text = f.get(name, "")
            number = None if text == "" else _lenient_int(text)
            if text != "" and (number is None or not low <= number <= high):
                problems.append(f"{name} {_show(text)} is not a whole number from {low} to {high}")
                number = None
            counts[name] = absent if number is None else number
        flags = {}
        for name, allowed in (("is_active", ("0", "1")), ("is_available", ("", "0", "1"))):
            value = f.get(name, "" if name == "is_available" else "0")
            if value not in allowed:
                problems.append(f"{name} {_show(value)} is not {' or '.join(map(repr, allowed))}")
            flags[name] = value
        times = {}
        for name in ("added_at", "last_checked"):
            times[name], trouble = _lenient_time(f.get(name, ""))
            if trouble:
                problems.append(f"{name} {_show(f.get(name))} {trouble}")
        if times["added_at"] is None:
            if "added_at" not in f or not f["added_at"]:
                problems.append("no added_at time")
            times["added_at"] = datetime.fromtimestamp(0, timezone.utc)
        return cls(
            model_id=stored_id,
            model_type=model_type,
            url=f.get("url", ""),
            model_name=f.get("model_name", ""),
            timeout=timeout or 0,
            is_active=flags["is_active"] == "1",
            added_at=times["added_at"],
            last_checked=times["last_checked"],
            is_available=None if flags["is_available"] not in ("0", "1")
            else flags["is_available"] == "1",
            num_ctx=counts["num_ctx"],
            parallel=counts["parallel"],
            **_capability_values(f),
            problem="; ".join(problems) or None,
        )

    def to_json(self) -> dict:
        """The model as `--json` and the HTTP API show it (docs/ARCHITECTURE.md, "JSON shapes")."""
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
            "num_ctx": self.num_ctx,
            "parallel": self.parallel,
            "capabilities": None if self.capabilities is None else list(self.capabilities),
            "capabilities_source": self.capabilities_source,
            "capabilities_user": list(self.capabilities_user),
            **({"problem": self.problem} if self.problem is not None else {}),
        }


def _capability_values(f: dict[str, str]) -> dict:
    """The capability fields of a stored hash; whatever is wrong in them is dropped (they are a
    cache and an override, never a reason to call the entry corrupt)."""
    from registry import capabilities as caps

    source = f.get("capabilities_source", "")
    known = source in ("server", "guessed")
    return {
        "server_capabilities": caps.decode(f.get("capabilities", "")) if known else None,
        "server_capabilities_source": source if known else None,
        "capabilities_digest": f.get("capabilities_digest", "")[:200] if known else "",
        "capabilities_user": caps.decode_override(f.get("capabilities_user", "")),
    }


def _refusal(validate, value: str) -> str | None:
    """Why `validate` (what `add` runs) refuses a stored value, without its advice; else None."""
    try:
        validate(value)
    except (AiCliError, ValueError, UnicodeError) as exc:
        return str(exc).split(". ")[0]
    return None


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


def _encode_bool(value: bool) -> str:
    return "1" if value else "0"


def _lenient_text(value) -> tuple[str, bool]:
    """(text, whether it was not valid UTF-8): bytes and lone surrogates become U+FFFD."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8"), False
        except UnicodeDecodeError:
            return value.decode("utf-8", "replace"), True
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8"), True
    return text, "\ufffd" in text  # a client decoding with errors="replace" left this mark


def _lenient_int(text: str) -> int | None:
    if not re.fullmatch(r"[0-9]{1,9}", text or ""):
        return None
    return int(text)


def _lenient_time(text: str) -> tuple[datetime | None, str | None]:
    """(the time, None) or (None, what is wrong); an empty string is "never"."""
    if not text:
        return None, None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None, "is not an ISO-8601 time"
    if value.tzinfo is None:
        return None, "has no time zone"
    try:
        value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None, "is out of range"
    return value, None


# --- validation: each returns the normalised value or raises an InvalidInput -----------------


def validate_model_id(model_id) -> str:
    """`model_` + 8 lowercase hex digits; anything else (`index:general`) never reaches Redis."""
    if not isinstance(model_id, str) or not MODEL_ID_RE.match(model_id):
        raise InvalidModelId(
            f"{_show(model_id)} is not a model id (model_ and 8 hex digits, e.g. model_1a2b3c4d). "
            "Run 'ai-cli model list' to see the ids."
        )
    return model_id


def validate_model_type(model_type) -> str:
    if model_type not in MODEL_TYPES:
        raise InvalidModelType(
            f"Unknown model type {_show(model_type)}: use 'general' (chat), 'coder' (code work) "
            "or 'embedding' (ai-cli embed)."
        )
    return model_type


def validate_url(url) -> str:
    """An Ollama base URL: http(s), with a host; trailing slashes dropped."""
    hint = "Give the Ollama server's address, for example http://localhost:11434."
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrl(f"The URL is empty. {hint}")
    if len(url) > MAX_URL:
        raise InvalidUrl(f"The URL is {len(url)} characters long; the limit is {MAX_URL}. {hint}")
    if _SURROGATE.search(url):
        raise InvalidUrl(f"The URL {_show(url)} is not valid UTF-8 text. {hint}")
    if _UNSAFE_NAME.search(url):
        raise InvalidUrl(f"The URL {_show(url)} contains spaces or control characters. {hint}")
    from registry.ollama_host import with_scheme

    url = with_scheme(url)  # `localhost:11434` as Ollama reads it: http://localhost:11434
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
    if not _valid_host(parts.hostname):
        raise InvalidUrl(
            f"The URL {_show(url)} has an invalid host name (each dot-separated part 1 to 63 "
            f"characters, 253 in all). {hint}"
        )
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
    if _SURROGATE.search(name):
        raise InvalidModelName(f"The model name {_show(name)} is not valid UTF-8 text. {hint}")
    if _UNSAFE_NAME.search(name):
        raise InvalidModelName(
            f"The model name {_show(name)} contains spaces or control characters. {hint}"
        )
    return name


def _valid_host(host: str) -> bool:
    """A host the HTTP client can connect to: an IP literal, or a name IDNA accepts."""
    if ":" in host:  # an IPv6 literal (urlsplit already checked the brackets)
        return True
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        return False
    return len(encoded) <= 253


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


def validate_num_ctx(value) -> int | None:
    """The context size an entry sends (`--num-ctx`): tokens from 256 to 1,048,576; None (not
    given) stays None."""
    return _whole_number(value, "--num-ctx", MIN_NUM_CTX, MAX_NUM_CTX, "tokens", 8192)


def validate_parallel(value) -> int:
    """Requests the entry's server runs at once (`--parallel`, its OLLAMA_NUM_PARALLEL); 1 when
    not given."""
    number = _whole_number(value, "--parallel", MIN_PARALLEL, MAX_PARALLEL, "requests", 4)
    return 1 if number is None else number


def _whole_number(value, flag: str, low: int, high: int, unit: str, example: int) -> int | None:
    if value is None:
        return None
    number = value
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        raise InvalidInput(f"{flag} {_show(value)} is not valid: give a whole number of {unit} "
                            f"from {low:,} to {high:,}, for example {flag} {example}.")
    return number


def _show(value) -> str:
    """A value quoted for an error message, shortened so one bad input stays one line; a URL's
    password masked (a rejected URL is quoted too)."""
    text = repr(mask_url(value) if isinstance(value, str) else value)
    return text if len(text) <= 80 else text[:77] + "..."

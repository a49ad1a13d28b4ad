"""Model validation and URL masking, pinned where a mutation run found them loose."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from registry.errors import InvalidModelName, InvalidModelType, InvalidTimeout, InvalidUrl
from registry.model import (
    ModelConfig,
    encode_time,
    mask_url,
    validate_model_name,
    validate_model_type,
    validate_timeout,
    validate_url,
)
from test_model import WHEN, make

URL_HINT = "Give the Ollama server's address, for example http://localhost:11434."
NAME_HINT = "Use the name Ollama shows, for example llama3.1:8b."


def test_port_zero_is_refused():
    with pytest.raises(InvalidUrl, match="has port 0"):
        validate_url("http://127.0.0.1:0")


def test_the_offending_value_is_quoted_in_the_message():
    with pytest.raises(InvalidUrl) as caught:
        validate_url("ftp://127.0.0.1")
    assert str(caught.value).startswith("The URL 'ftp://127.0.0.1' must start with http://")


@pytest.mark.parametrize(
    "validate, error, value, hint",
    [
        (validate_url, InvalidUrl, "http://local host", URL_HINT),
        (validate_url, InvalidUrl, "http://localhost:abc", URL_HINT),
        (validate_url, InvalidUrl, "ftp://localhost", URL_HINT),
        (validate_url, InvalidUrl, "http://:11434", URL_HINT),
        (validate_url, InvalidUrl, "http://localhost:0", URL_HINT),
        (validate_url, InvalidUrl, "http://localhost?x=1", URL_HINT),
        (validate_model_name, InvalidModelName, "llama 3", NAME_HINT),
        (validate_timeout, InvalidTimeout, "soon", "for example --timeout 120."),
    ],
)
def test_each_message_quotes_the_value_and_says_what_to_do(validate, error, value, hint):
    with pytest.raises(error) as caught:
        validate(value)
    assert repr(value) in str(caught.value)
    assert str(caught.value).endswith(hint)


def test_only_trailing_slashes_are_dropped():
    assert validate_url("http://127.0.0.1:11434/X/") == "http://127.0.0.1:11434/X"


@pytest.mark.parametrize(
    "length, shown",
    [
        (78, "'" + "x" * 78 + "'"),  # repr is 80 characters: shown whole
        (79, "'" + "x" * 76 + "..."),  # 81: cut to 77 plus "..."
    ],
)
def test_a_long_value_is_cut_to_eighty_characters(length, shown):
    with pytest.raises(InvalidModelType) as caught:
        validate_model_type("x" * length)
    assert str(caught.value) == (
        f"Unknown model type {shown}: use 'general' (chat) or 'coder' (code work).")


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://user:hunter2@127.0.0.1:6380/0", "redis://user:***@127.0.0.1:6380/0"),
        ("redis://:hunter2@localhost:6379", "redis://:***@localhost:6379"),
        ("rediss://u:p%40ss@redis.example.test/3", "rediss://u:***@redis.example.test/3"),
        ("http://me:hunter2@[::1]:11434/api", "http://me:***@[::1]:11434/api"),
        ("http://me:hunter2@ollama.local", "http://me:***@ollama.local"),
        # A port that does not parse: everything before the last '@' is masked.
        ("redis://user:hunter2@host:99999/0", "redis://***@host:99999/0"),
        ("redis://user:pw@host:bad", "redis://***@host:bad"),
        ("redis://user:p@ss@host:bad/0", "redis://***@host:bad/0"),  # '@' in the password
        ("redis://u:p@h:bad/x://y", "redis://***@h:bad/x://y"),  # '://' again later
        ("redis://u:p@h:bad/a@b/c", "redis://***@h:bad/a@b/c"),  # '@' in the path
        ("redis://user:pw@:6379/0", "redis://user:***@:6379/0"),  # no host name
    ],
)
def test_mask_url_hides_the_password_and_keeps_the_rest(url, shown):
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://user@127.0.0.1:6379/0",  # a user without a password is not a secret
        "embedded",
        "unix:///tmp/r.sock",
        "http://host:bad/a@b",  # '@' in the path, not the network part
    ],
)
def test_mask_url_leaves_urls_without_a_password_alone(url):
    assert mask_url(url) == url


@pytest.mark.parametrize("value", [None, 3])
def test_mask_url_passes_non_strings_through(value):
    assert mask_url(value) is value


# --- the hash encoding ---------------------------------------------------------------------


def test_false_and_true_are_encoded_as_0_and_1():
    fields = make(is_active=False, is_available=True).to_hash()
    assert (fields["is_active"], fields["is_available"]) == ("0", "1")
    assert make(is_available=False).to_hash()["is_available"] == "0"


def test_a_hash_without_the_optional_fields_decodes_with_their_defaults():
    fields = {k: v for k, v in make().to_hash().items()
              if k not in ("added_at", "last_checked", "is_available")}
    model = ModelConfig.from_hash(fields)
    assert model.added_at == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert (model.last_checked, model.is_available) == (None, None)


def test_times_are_stored_in_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert encode_time(WHEN) == "2026-11-24T10:00:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_refused_url_is_quoted_with_its_password_masked():
    with pytest.raises(InvalidUrl) as caught:
        validate_url("ftp://user:hunter2@127.0.0.1")
    assert "'ftp://user:***@127.0.0.1'" in str(caught.value)
    assert "hunter2" not in str(caught.value)

"""Model validation and URL masking, pinned where a mutation run found them loose."""

from __future__ import annotations

import pytest

from registry.errors import InvalidModelType, InvalidUrl
from registry.model import mask_url, validate_model_type, validate_url


def test_port_zero_is_refused():
    with pytest.raises(InvalidUrl, match="has port 0"):
        validate_url("http://127.0.0.1:0")


def test_the_offending_value_is_quoted_in_the_message():
    with pytest.raises(InvalidUrl) as caught:
        validate_url("ftp://127.0.0.1")
    assert str(caught.value).startswith("The URL 'ftp://127.0.0.1' must start with http://")


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

"""ModelConfig encoding and input validation: pure functions, no Redis."""

from datetime import datetime, timezone

import pytest

from registry.errors import InvalidModelName, InvalidModelType, InvalidTimeout, InvalidUrl
from registry.model import (
    ModelConfig,
    validate_model_name,
    validate_model_type,
    validate_timeout,
    validate_url,
)

WHEN = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def make(**changes):
    base = dict(
        model_id="model_0123abcd", model_type="general", url="http://localhost:11434",
        model_name="llama3.1:8b", timeout=120, is_active=True, added_at=WHEN,
    )
    return ModelConfig(**{**base, **changes})


def test_hash_encoding_matches_design():
    assert make().to_hash() == {
        "model_id": "model_0123abcd", "model_type": "general", "url": "http://localhost:11434",
        "model_name": "llama3.1:8b", "timeout": "120", "is_active": "1",
        "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "", "is_available": "",
    }


def test_hash_round_trip_keeps_every_field():
    model = make(is_active=False, last_checked=WHEN, is_available=False)
    assert ModelConfig.from_hash(model.to_hash()) == model
    assert ModelConfig.from_hash({k.encode(): v.encode() for k, v in model.to_hash().items()}) == model


def test_json_shape_is_typed():
    assert make(last_checked=WHEN, is_available=True).to_json() == {
        "model_id": "model_0123abcd", "model_type": "general", "url": "http://localhost:11434",
        "model_name": "llama3.1:8b", "timeout": 120, "is_active": True,
        "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "2026-11-24T10:00:00+00:00",
        "is_available": True,
    }
    assert make().to_json()["last_checked"] is None
    assert make().to_json()["is_available"] is None


def test_host_for_banner():
    assert make(url="http://127.0.0.1:11434").host == "127.0.0.1:11434"


@pytest.mark.parametrize("value", ["general", "coder"])
def test_model_types(value):
    assert validate_model_type(value) == value


@pytest.mark.parametrize("value", ["", "General", "chat", None, 3])
def test_bad_model_types(value):
    with pytest.raises(InvalidModelType, match="'general'.*'coder'"):
        validate_model_type(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("http://localhost:11434", "http://localhost:11434"),
        ("https://ollama.example.test/", "https://ollama.example.test"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("http://127.0.0.1:11434/proxy/", "http://127.0.0.1:11434/proxy"),
    ],
)
def test_good_urls(value, expected):
    assert validate_url(value) == expected


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", "empty"),
        ("localhost:11434", "http://"),
        ("ftp://localhost", "http://"),
        ("http://", "no host"),
        ("http://:11434", "no host"),
        ("http://localhost:99999", "port"),
        ("http://localhost:abc", "port"),
        ("http://local host", "spaces"),
        ("http://localhost?x=1", "query"),
        (None, "empty"),
    ],
)
def test_bad_urls(value, problem):
    with pytest.raises(InvalidUrl, match=problem) as caught:
        validate_url(value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["tinyllama", "llama3.1:8b", "library/qwen2.5-coder:7b", "a" * 200])
def test_good_model_names(value):
    assert validate_model_name(value) == value


@pytest.mark.parametrize("value", ["", "llama 3", "llama\t3", "x\x00", "bad\nname", "a" * 201, None])
def test_bad_model_names(value):
    with pytest.raises(InvalidModelName):
        validate_model_name(value)


@pytest.mark.parametrize("value, expected", [(1, 1), (3600, 3600), ("30", 30), (45.0, 45)])
def test_good_timeouts(value, expected):
    assert validate_timeout(value) == expected


@pytest.mark.parametrize("value", [0, -5, 3601, 1.5, "abc", "", None, True, "1e3"])
def test_bad_timeouts(value):
    with pytest.raises(InvalidTimeout, match="1 to 3600"):
        validate_timeout(value)

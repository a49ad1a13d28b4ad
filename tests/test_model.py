"""ModelConfig encoding and decoding, input validation and URL masking: pure functions, no Redis.

URL, model-name and model-id refusals are pinned word for word (the value quoted, masked and
cut, then what to do), each in one parametrized test that is the one home of its cases, so a
check that is deleted, or a message that loses its value, fails a test named after it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from registry.errors import InvalidModelId, InvalidModelName, InvalidModelType, InvalidTimeout, InvalidUrl
from registry.model import (
    ModelConfig,
    encode_time,
    mask_url,
    validate_model_id,
    validate_model_name,
    validate_model_type,
    validate_timeout,
    validate_url,
)

WHEN = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
URL_HINT = "Give the Ollama server's address, for example http://localhost:11434."
NAME_HINT = "Use the name Ollama shows, for example llama3.1:8b."


def make(**changes):
    base = dict(
        model_id="model_0123abcd", model_type="general", url="http://localhost:11434",
        model_name="llama3.1:8b", timeout=120, is_active=True, added_at=WHEN,
    )
    return ModelConfig(**{**base, **changes})


# --- the hash encoding ---------------------------------------------------------------------


def test_hash_encoding_matches_design():
    assert make().to_hash() == {
        "model_id": "model_0123abcd", "model_type": "general", "url": "http://localhost:11434",
        "model_name": "llama3.1:8b", "timeout": "120", "is_active": "1",
        "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "", "is_available": "",
        "num_ctx": "", "parallel": "1",
    }


def test_hash_round_trip_keeps_every_field():
    model = make(is_active=False, last_checked=WHEN, is_available=False)
    assert ModelConfig.from_hash(model.to_hash()) == model
    assert ModelConfig.from_hash({k.encode(): v.encode() for k, v in model.to_hash().items()}) == model


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


def test_json_shape_is_typed():
    assert make(last_checked=WHEN, is_available=True).to_json() == {
        "model_id": "model_0123abcd", "model_type": "general", "url": "http://localhost:11434",
        "model_name": "llama3.1:8b", "timeout": 120, "is_active": True,
        "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "2026-11-24T10:00:00+00:00",
        "is_available": True, "num_ctx": None, "parallel": 1,
        "capabilities": None, "capabilities_source": None, "capabilities_user": [],
    }
    assert make().to_json()["last_checked"] is None
    assert make().to_json()["is_available"] is None


def test_host_for_banner():
    assert make(url="http://127.0.0.1:11434").host == "127.0.0.1:11434"


# --- corrupt-entry decoding: what `from_hash` makes of a damaged hash --------------------------

SOUND = {"model_id": "model_1a2b3c4d", "model_type": "general", "url": "http://127.0.0.1:11434",
         "model_name": "llama3.1:8b", "timeout": "120", "is_active": "1",
         "added_at": "2026-11-24T10:00:00+00:00", "last_checked": "", "is_available": ""}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EMPTY = dict(model_type="", url="", model_name="", timeout=0, is_active=False, added_at=EPOCH,
             last_checked=None, is_available=None)


@pytest.mark.parametrize(
    "fields, key, model_id, problem",
    [
        ("a string", None, "", "the key holds another kind of Redis value, not a hash"),
        ([b"a", b"list"], "model_1a2b3c4d", "model_1a2b3c4d",
         "the key holds another kind of Redis value, not a hash"),
        ({}, None, "", "no stored hash: the id is only in an index or pointer"),
        ({}, "model_1a2b3c4d", "model_1a2b3c4d",
         "no stored hash: the id is only in an index or pointer"),
    ],
)
def test_a_key_without_a_hash_decodes_as_an_empty_corrupt_model(fields, key, model_id, problem):
    assert ModelConfig.from_hash(fields, key) == ModelConfig(model_id=model_id, problem=problem,
                                                            **EMPTY)


@pytest.mark.parametrize(
    "changes, key, problem",
    [
        ({"model_id": "model_00000000"}, "model_1a2b3c4d",
         "model_id field 'model_00000000' differs from its key model_1a2b3c4d"),
        ({"model_id": "index:general"}, None,
         "model_id 'index:general' is not model_ + 8 hex digits"),
        ({"model_type": "chat"}, None, "model_type 'chat' is not general, coder or embedding"),
        ({"timeout": "0"}, None, "timeout '0' is not a whole number of seconds from 1 to 3600"),
        ({"timeout": "3601"}, None,
         "timeout '3601' is not a whole number of seconds from 1 to 3600"),
        ({"timeout": "soon"}, None,
         "timeout 'soon' is not a whole number of seconds from 1 to 3600"),
        ({"is_active": "yes"}, None, "is_active 'yes' is not '0' or '1'"),
        ({"is_available": "maybe"}, None, "is_available 'maybe' is not '' or '0' or '1'"),
        ({"added_at": "2026-11-24T10:00:00"}, None,
         "added_at '2026-11-24T10:00:00' has no time zone"),
        ({"added_at": "0001-01-01T00:00:00+05:00"}, None,
         "added_at '0001-01-01T00:00:00+05:00' is out of range"),
        ({"added_at": ""}, None, "no added_at time"),
        ({"last_checked": "yesterday"}, None, "last_checked 'yesterday' is not an ISO-8601 time"),
        ({"url": b"http://\xff"}, None, "field 'url' is not valid UTF-8"),
        ({"model_name": "llama\udcff"}, None, "field 'model_name' is not valid UTF-8"),
        ({"model_name": "llama\ufffd"}, None, "field 'model_name' is not valid UTF-8"),
        ({b"\xffx": "1"}, None, "field '\ufffdx' is not valid UTF-8"),
    ],
)
def test_each_damaged_field_is_named_in_the_problem(changes, key, problem):
    assert ModelConfig.from_hash({**SOUND, **changes}, key).problem == problem


@pytest.mark.parametrize("timeout", ["1", "3600"])
def test_the_timeout_limits_are_sound(timeout):
    model = ModelConfig.from_hash({**SOUND, "timeout": timeout}, "model_1a2b3c4d")
    assert (model.problem, model.timeout) == (None, int(timeout))


def test_a_hash_missing_every_field_names_each_one():
    model = ModelConfig.from_hash({"note": "x"}, "model_1a2b3c4d")
    assert model == ModelConfig(
        model_id="model_1a2b3c4d", **EMPTY,
        problem="no model_id field; no model_type field; no url field; no model_name field; "
                "no timeout field; no added_at time")


def test_a_corrupt_hash_keeps_what_it_could_decode():
    model = ModelConfig.from_hash({**SOUND, "timeout": "soon", "is_active": "yes",
                                   "is_available": "1", "last_checked": SOUND["added_at"]})
    assert model == ModelConfig(
        model_id="model_1a2b3c4d", model_type="general", url="http://127.0.0.1:11434",
        model_name="llama3.1:8b", timeout=0, is_active=False, added_at=WHEN,
        last_checked=WHEN, is_available=True,
        problem="timeout 'soon' is not a whole number of seconds from 1 to 3600; "
                "is_active 'yes' is not '0' or '1'")


@pytest.mark.parametrize("stored, shown", [("1", True), ("0", False), ("", None)])
def test_is_available_decodes_to_true_false_or_unknown(stored, shown):
    model = ModelConfig.from_hash({**SOUND, "is_available": stored})
    assert (model.is_available, model.problem) == (shown, None)


def test_the_json_of_a_corrupt_model_says_its_problem_and_masks_its_password():
    model = make(url="http://me:hunter2@127.0.0.1:11434", problem="no timeout field")
    shown = model.to_json()
    assert (shown["url"], shown["problem"]) == ("http://me:***@127.0.0.1:11434", "no timeout field")
    assert "problem" not in make().to_json()


def test_a_hash_without_a_model_id_and_read_under_no_key_has_an_empty_id():
    model = ModelConfig.from_hash({k: v for k, v in SOUND.items() if k != "model_id"})
    assert (model.model_id, model.problem) == ("", "no model_id field")


def test_values_that_are_not_text_are_decoded_as_their_text():
    """A dict built by hand (JSON, a test, a script) may hold numbers: never a crash."""
    model = ModelConfig.from_hash({**SOUND, "timeout": 120, "is_active": 1})
    assert model == ModelConfig.from_hash(SOUND)


def test_the_earliest_utc_time_decodes_whatever_the_local_zone(monkeypatch):
    """Times are checked in UTC: year 1 at midnight UTC is a valid time even where the local
    clock would still be in year 0 (west of Greenwich)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        model = ModelConfig.from_hash({**SOUND, "last_checked": "0001-01-01T00:00:00+00:00"})
    finally:
        monkeypatch.undo()
        time.tzset()
    assert model.problem is None
    assert model.last_checked == datetime(1, 1, 1, tzinfo=timezone.utc)


# --- model types -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["general", "coder"])
def test_model_types(value):
    assert validate_model_type(value) == value


@pytest.mark.parametrize("value", ["", "General", "chat", None, 3])
def test_bad_model_types(value):
    with pytest.raises(InvalidModelType, match="'general'.*'coder'"):
        validate_model_type(value)


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
        f"Unknown model type {shown}: use 'general' (chat), 'coder' (code work) or 'embedding' "
        "(ai-cli embed).")


# --- URLs ------------------------------------------------------------------------------------

LONG_HOST = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters: the most a name may have
BAD_HOST = "has an invalid host name (each dot-separated part 1 to 63 characters, 253 in all)."
LABEL_300 = "http://" + "a" * 300 + ":11434"  # a label IDNA rejects
HOST_329 = "http://" + ".".join(["abcdefghij"] * 30) + ":1"  # a host over 253 characters
URL_100K = "http://127.0.0.1:11434/" + "x" * 100_000


@pytest.mark.parametrize(
    "value, expected",
    [
        ("http://localhost:11434", "http://localhost:11434"),
        ("https://ollama.example.test/", "https://ollama.example.test"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("http://127.0.0.1:11434/proxy/", "http://127.0.0.1:11434/proxy"),
        ("http://127.0.0.1:11434/X/", "http://127.0.0.1:11434/X"),  # only trailing slashes go
    ],
)
def test_good_urls(value, expected):
    assert validate_url(value) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://h/" + "a" * 2039,  # 2048 characters: the limit itself
        "http://" + LONG_HOST,
        "http://" + "a" * 63 + ":1",
        "https://[::1]:11434",
        # an IPv6 literal is no DNS name: its zone id is not held to the 63-character label
        "http://[fe80::1%25" + "e" * 70 + "]:11434",
        "http://h:1",
    ],
)
def test_urls_at_the_limits_are_accepted(url):
    assert validate_url(url) == url


@pytest.mark.parametrize(
    "url, problem",
    [
        ("", "The URL is empty."),
        ("  \t", "The URL is empty."),
        (None, "The URL is empty."),
        ("http://h/" + "a" * 2040, "The URL is 2049 characters long; the limit is 2048."),
        pytest.param(URL_100K, "The URL is 100023 characters long; the limit is 2048.",
                     id="100-KB"),
        ("http://h\udcff", "The URL 'http://h\\udcff' is not valid UTF-8 text."),
        ("http://h\u202e", "The URL 'http://h\\u202e' contains spaces or control characters."),
        ("http://127.0.0.1:1/\u202e",
         "The URL 'http://127.0.0.1:1/\\u202e' contains spaces or control characters."),
        ("http://127.0.0.1:1/\x9b",
         "The URL 'http://127.0.0.1:1/\\x9b' contains spaces or control characters."),
        ("http://local host", "The URL 'http://local host' contains spaces or control characters."),
        ("http://h:x", "The URL 'http://h:x' has an invalid port."),
        ("http://localhost:abc", "The URL 'http://localhost:abc' has an invalid port."),
        ("http://localhost:99999", "The URL 'http://localhost:99999' has an invalid port."),
        ("ftp://h", "The URL 'ftp://h' must start with http:// or https://."),
        ("ftp://localhost", "The URL 'ftp://localhost' must start with http:// or https://."),
        ("ftp://127.0.0.1", "The URL 'ftp://127.0.0.1' must start with http:// or https://."),
        pytest.param("ftp://user:hunter2@127.0.0.1",
                     "The URL 'ftp://user:***@127.0.0.1' must start with http:// or https://.",
                     id="quoted-with-its-password-masked"),
        ("http:///x", "The URL 'http:///x' has no host."),
        ("http://", "The URL 'http://' has no host."),
        ("http://:11434", "The URL 'http://:11434' has no host."),
        ("http://h:0", "The URL 'http://h:0' has port 0."),
        ("http://localhost:0", "The URL 'http://localhost:0' has port 0."),
        ("http://127.0.0.1:0", "The URL 'http://127.0.0.1:0' has port 0."),
        ("http://" + "a" * 64, f"The URL {'http://' + 'a' * 64!r} {BAD_HOST}"),
        pytest.param("http://" + LONG_HOST + "b",
                     "The URL " + repr("http://" + LONG_HOST + "b")[:77] + f"... {BAD_HOST}",
                     id="a-host-of-254-characters"),
        pytest.param(LABEL_300, "The URL " + repr(LABEL_300)[:77] + f"... {BAD_HOST}",
                     id="a-300-character-label"),
        pytest.param(HOST_329, "The URL " + repr(HOST_329)[:77] + f"... {BAD_HOST}",
                     id="a-329-character-host"),
        ("http://a..b:11434", f"The URL 'http://a..b:11434' {BAD_HOST}"),
        ("http://h#top", "The URL 'http://h#top' must not have a query or fragment."),
        ("http://h?x=1", "The URL 'http://h?x=1' must not have a query or fragment."),
        ("http://localhost?x=1",
         "The URL 'http://localhost?x=1' must not have a query or fragment."),
    ],
)
def test_each_url_refusal_says_exactly_what_is_wrong(url, problem):
    """The one home of URL refusals: each check's message word for word (the value quoted with
    its password masked, cut to 80 characters), one short line whatever the URL."""
    with pytest.raises(InvalidUrl) as caught:
        validate_url(url)
    message = str(caught.value)
    assert message == f"{problem} {URL_HINT}"
    assert "\n" not in message and len(message) < 400


# --- model names -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["tinyllama", "llama3.1:8b", "library/qwen2.5-coder:7b", "a" * 200])
def test_good_model_names(value):
    assert validate_model_name(value) == value


CONTROLS = "contains spaces or control characters."


@pytest.mark.parametrize(
    "name, problem",
    [
        ("", "The model name is empty."),
        (None, "The model name is empty."),
        ("a" * 201, "The model name is 201 characters long; the limit is 200."),
        ("llama\udcff", "The model name 'llama\\udcff' is not valid UTF-8 text."),
        ("llama 3", f"The model name 'llama 3' {CONTROLS}"),
        ("llama\t3", f"The model name 'llama\\t3' {CONTROLS}"),
        ("x\x00", f"The model name 'x\\x00' {CONTROLS}"),
        ("bad\nname", f"The model name 'bad\\nname' {CONTROLS}"),
        ("llama\x7f", f"The model name 'llama\\x7f' {CONTROLS}"),
        # C1 controls and bidi marks: shown escaped, never raw
        ("llama\u202eevil", f"The model name 'llama\\u202eevil' {CONTROLS}"),
        ("a\u202ab", f"The model name 'a\\u202ab' {CONTROLS}"),
        ("a\u2066b", f"The model name 'a\\u2066b' {CONTROLS}"),
        ("a\u2069b", f"The model name 'a\\u2069b' {CONTROLS}"),
        ("a\u200eb", f"The model name 'a\\u200eb' {CONTROLS}"),
        ("a\u200fb", f"The model name 'a\\u200fb' {CONTROLS}"),
        ("a\u061cb", f"The model name 'a\\u061cb' {CONTROLS}"),
        ("a\x9bb", f"The model name 'a\\x9bb' {CONTROLS}"),
        ("a\x80b", f"The model name 'a\\x80b' {CONTROLS}"),
        ("a\x9fb", f"The model name 'a\\x9fb' {CONTROLS}"),
        ("a\x1bb", f"The model name 'a\\x1bb' {CONTROLS}"),
    ],
)
def test_each_model_name_refusal_says_exactly_what_is_wrong(name, problem):
    """The one home of model-name refusals: word for word and one line; a control character is
    shown escaped, never raw."""
    with pytest.raises(InvalidModelName) as caught:
        validate_model_name(name)
    message = str(caught.value)
    assert message == f"{problem} {NAME_HINT}"
    assert "\n" not in message


# --- model ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 3, "model_1234567", "model_1234567g", "MODEL_12345678",
                                   "index:general", "model_12345678\n"])
def test_a_bad_model_id_is_refused_with_an_example(value):
    with pytest.raises(InvalidModelId) as caught:
        validate_model_id(value)
    assert str(caught.value) == (
        f"{value!r} is not a model id (model_ and 8 hex digits, e.g. model_1a2b3c4d). "
        "Run 'ai-cli model list' to see the ids.")


def test_a_good_model_id_is_returned():
    assert validate_model_id("model_0a1b2c3d") == "model_0a1b2c3d"


# --- timeouts --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(1, 1), (3600, 3600), ("30", 30), (45.0, 45)])
def test_good_timeouts(value, expected):
    assert validate_timeout(value) == expected


@pytest.mark.parametrize("value", [0, -5, 3601, 1.5, "abc", "", None, True, "1e3"])
def test_bad_timeouts(value):
    with pytest.raises(InvalidTimeout, match="1 to 3600"):
        validate_timeout(value)


def test_a_refused_timeout_quotes_the_value_and_says_what_to_do():
    with pytest.raises(InvalidTimeout) as caught:
        validate_timeout("soon")
    assert repr("soon") in str(caught.value)
    assert str(caught.value).endswith("for example --timeout 120.")


# --- mask_url --------------------------------------------------------------------------------


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

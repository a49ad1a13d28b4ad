"""The pure parts of recall: `--since` words, the search test of a log entry, the Markdown of
an export, and `-c`'s choice of session on fakeredis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import fakeredis
import pytest

from agent.commands.session import session_markdown
from agent.sessions import SessionStore, StoredMessage
from registry.answer_log import AnswerRecord, parse_since

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("word, ago", [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800),
                                       ("1w", 604800), (" 1H ", 3600)])
def test_since_spans(word, ago):
    assert parse_since(word, NOW) == NOW - timedelta(seconds=ago)


def test_since_dates_are_utc_unless_they_say():
    assert parse_since("2026-12-01", NOW) == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_since("2026-12-01T10:00:00+02:00", NOW).utcoffset() == timedelta(hours=2)
    for bad in ("yesterday", "h", "-1h", "1y", ""):
        with pytest.raises(ValueError, match="--since takes"):
            parse_since(bad, NOW)


def test_an_entry_mentions_text_in_its_prompt_or_answer_any_case():
    record = AnswerRecord("model_1a2b3c4d", "llama3", "http://127.0.0.1:1", "active",
                          prompt="Flush REDIS?", response="Use FLUSHDB.")
    assert record.mentions("redis") and record.mentions("flushdb")
    assert not record.mentions("bloom") and not record.without_text().mentions("redis")
    assert AnswerRecord.from_json(record.to_json()) == record


def test_markdown_export_names_each_speaker_in_order():
    store = SessionStore(fakeredis.FakeRedis())
    session = store.new()
    store.append(session.session_id, StoredMessage("user", "hi"),
                 StoredMessage("assistant", "hello", model_name="llama3", interrupted=True))
    text = session_markdown(store.get(session.session_id), store.history(session.session_id))
    assert text.startswith("# hi\n")
    assert text.index("## You") < text.index("\nhi\n") < text.index("## llama3 (stopped)")
    assert text.endswith("hello\n")


def test_latest_skips_sessions_nothing_was_said_in():
    client = fakeredis.FakeRedis()
    store = SessionStore(client)
    assert store.latest() is None
    talked = store.new()
    store.append(talked.session_id, StoredMessage("user", "a"), StoredMessage("assistant", "b"))
    empty = [store.new() for _ in range(25)]  # more than one page of the index
    for i, s in enumerate(empty):
        client.zadd("sessions:index", {s.session_id: 4e9 + i})
    assert store.latest().session_id == talked.session_id

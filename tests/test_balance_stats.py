"""What balancing adds to `model stats` and `model list`, pure (registry/stats.py): busy
attempts are no failure, in-flight counts and cooldowns per model and host, per-entry p50 and
success rate."""

from datetime import datetime, timezone

from registry.answer_log import AnswerRecord
from registry.model import ModelConfig
from registry.stats import entry_numbers, log_stats, with_load

NOW = 1_800_000_000.0
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def entry(model_id, port):
    return ModelConfig(model_id=model_id, model_type="general", url=f"http://127.0.0.1:{port}",
                       model_name="llama3.1:8b", timeout=30, is_active=False, added_at=T0)


A, B = entry("model_0000000a", 11501), entry("model_0000000b", 11502)


def record(model, status="ok", ttft=300, failure=None):
    return AnswerRecord(model_id=model.model_id, model_name=model.model_name, url=model.url,
                        via="active", status=status, ttft_ms=ttft, failure=failure)


def test_a_busy_attempt_is_counted_apart_and_not_a_failure():
    stats = log_stats([record(A), record(B, "failed_over", None, "busy"), record(B)])
    (model,) = stats.models
    assert (model.requests, model.ok, model.busy, model.success_rate) == (3, 2, 1, 1.0)
    assert model.failures == {"broken": 0, "failed_over": 0}
    refused = log_stats([record(A), record(B, "failed_over", None, "unreachable")])
    assert refused.models[0].failures["failed_over"] == 1
    assert refused.models[0].success_rate == 0.5


def test_in_flight_per_model_and_host_and_a_cooldown_per_host():
    stats = log_stats([record(A), record(B)])
    loaded = with_load(stats, [A, B], {A.model_id: (2, None), B.model_id: (1, NOW + 60)}, NOW)
    assert loaded.models[0].in_flight == 3
    hosts = {h.name: h for h in loaded.hosts}
    assert hosts["127.0.0.1:11501"].in_flight == 2
    assert hosts["127.0.0.1:11501"].cooling_down_until is None
    assert hosts["127.0.0.1:11502"].cooling_down_until == "2027-01-15T08:01:00+00:00"
    over = with_load(stats, [A, B], {B.model_id: (0, NOW - 1)}, NOW)  # an ended cooldown
    assert {h.cooling_down_until for h in over.hosts} == {None}
    assert with_load(stats, [A, B], None, NOW) == stats  # fleet state unreadable: unknown


def test_entry_numbers_give_each_entry_its_p50_and_success():
    numbers = entry_numbers([record(A, ttft=100), record(A, ttft=300), record(A, "broken", None),
                             record(B, ttft=900)])
    assert numbers[A.model_id] == (100, round(2 / 3, 3))
    assert numbers[B.model_id] == (900, 1.0)

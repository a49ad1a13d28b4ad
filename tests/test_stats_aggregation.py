"""`model stats`' numbers (registry/stats.py), computed straight from answer-log records. Pure."""

from __future__ import annotations

from registry.answer_log import AnswerRecord
from registry.model import ModelConfig, now_utc
from registry.stats import host_of, log_stats, nearest_rank, parallel_by_host

A, B = "http://127.0.0.1:11434", "http://localhost:11500"


def record(name="llama3", url=A, status="ok", ttft=None, speed=None, model_id="model_0000000a",
           time="2026-12-07T09:00:00+00:00") -> AnswerRecord:
    return AnswerRecord(model_id=model_id, model_name=name, url=url, via="active", status=status,
                        ttft_ms=ttft, tokens_per_s=speed, time=time)


def test_nearest_rank_percentiles():
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7], 0.9) == 7
    ordered = list(range(1, 11))  # 1..10
    assert (nearest_rank(ordered, 0.5), nearest_rank(ordered, 0.9)) == (5, 9)
    assert nearest_rank(list(range(1, 101)), 0.9) == 90


def test_one_model_on_two_hosts_is_one_model_and_two_hosts():
    records = [record(ttft=t, speed=s) for t, s in ((100, 40.0), (300, 20.0), (200, 30.0))]
    records += [record(url=B, model_id="model_0000000b", ttft=900, speed=10.0),
                record(url=B, model_id="model_0000000b", status="broken"),
                record(url=B, model_id="model_0000000b", status="failed_over"),
                record(status="stopped", ttft=50)]
    stats = log_stats(records)
    assert stats.entries == 7
    [llama] = stats.models
    assert (llama.name, llama.members) == ("llama3", ("127.0.0.1:11434", "localhost:11500"))
    assert llama.model_ids == ("model_0000000a", "model_0000000b")
    assert (llama.requests, llama.ok, llama.stopped) == (7, 4, 1)
    assert llama.failures == {"broken": 1, "failed_over": 1}
    assert llama.success_rate == round(4 / 6, 3)  # the stopped request is no one's failure
    assert (llama.ttft_ms_p50, llama.ttft_ms_p90) == (200, 900)  # of 50 100 200 300 900
    assert llama.tokens_per_s_p50 == 20.0  # nearest rank: the 2nd of 10 20 30 40
    a, b = sorted(stats.hosts, key=lambda h: h.name)
    assert (a.name, a.requests, a.success_rate, a.failures) == (
        "127.0.0.1:11434", 4, 1.0, {"broken": 0, "failed_over": 0})
    assert (b.name, b.requests, b.success_rate, b.failures) == (
        "localhost:11500", 3, round(1 / 3, 3), {"broken": 1, "failed_over": 1})
    assert (b.ttft_ms_p50, b.ttft_ms_p90, b.tokens_per_s_p50) == (900, 900, 10.0)


def test_groups_come_busiest_first_and_json_has_every_column():
    records = [record(name="mistral", url=B)] + [record() for _ in range(3)]
    stats = log_stats(records, parallel={"127.0.0.1:11434": 4})
    assert [m.name for m in stats.models] == ["llama3", "mistral"]
    data = stats.to_json()
    assert (data["entries"], data["oldest"], data["newest"]) == (4, records[0].time,
                                                                  records[0].time)
    model = data["models"][0]
    assert set(model) == {"model_name", "hosts", "model_ids", "requests", "ok", "stopped",
                          "success_rate", "failures", "ttft_ms_p50", "ttft_ms_p90",
                          "tokens_per_s_p50", "in_flight", "cooling_down_until", "busy"}
    assert (model["in_flight"], model["cooling_down_until"]) == (None, None)  # with_load: later
    host = data["hosts"][0]
    assert (host["host"], host["models"], host["parallel"]) == ("127.0.0.1:11434", ["llama3"], 4)
    assert data["hosts"][1]["parallel"] is None


def test_no_entries_and_entries_without_numbers():
    assert log_stats([]).to_json() == {"entries": 0, "oldest": None, "newest": None,
                                       "models": [], "hosts": []}
    [only] = log_stats([record(status="stopped")]).models
    assert (only.success_rate, only.ttft_ms_p50, only.tokens_per_s_p50) == (None, None, None)


def test_the_fallback_and_a_masked_url_are_grouped_by_host():
    fallback = record(name="tinyllama", model_id=None, url="http://user:secret@127.0.0.1:9/")
    stats = log_stats([fallback])
    assert stats.models[0].model_ids == () and stats.hosts[0].name == "user:***@127.0.0.1:9"
    assert host_of("not a url") == "not a url"


def test_parallel_by_host_is_the_highest_of_its_entries():
    def entry(url, parallel, problem=None):
        return ModelConfig("model_0000000c", "general", url, "m", 30, False, now_utc(),
                           parallel=parallel, problem=problem)

    found = parallel_by_host([entry(A, 2), entry(A, 4), entry(B, 1), entry(B, 9, "corrupt")])
    assert found == {"127.0.0.1:11434": 4, "localhost:11500": 1}

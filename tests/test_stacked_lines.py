"""Stacked list lines: a host's details that would wrap start an indented line of their own."""

from rich.text import Text

from cli.views import fitted_lines as _fitted


def _plain(width: int) -> list[str]:
    parts = [Text("127.0.0.1:11434  model_b8ed7271"), Text("120s  ✗ unreachable"),
             Text("checked 1m ago")]
    return [line.plain for line in _fitted(Text("  ● "), parts, width)]


def test_everything_on_one_line_when_it_fits():
    assert _plain(100) == ["  ● 127.0.0.1:11434  model_b8ed7271  120s  ✗ unreachable  checked 1m ago"]


def test_a_part_that_would_wrap_starts_an_indented_line():
    assert _plain(60) == ["  ● 127.0.0.1:11434  model_b8ed7271  120s  ✗ unreachable",
                          "      checked 1m ago"]
    assert _plain(40) == ["  ● 127.0.0.1:11434  model_b8ed7271", "      120s  ✗ unreachable",
                          "      checked 1m ago"]
    assert all(len(line) <= 40 for line in _plain(40))


def _stats_screen(columns: int) -> list[str]:
    import io
    import os

    from agent.commands.stats import ModelStatsReport
    from cli.output import Output
    from cli.views.stats import show_model_stats
    from registry.answer_log import AnswerRecord
    from registry.stats import log_stats

    records = [AnswerRecord(model_id=f"model_0000000{i}", model_name="llama3.1:8b",
                            url=f"http://127.0.0.1:1143{i}", via="active", status="ok",
                            ttft_ms=10 * i, tokens_per_s=5714.3, time="2026-12-07T09:00:00+00:00")
               for i in range(1, 4)]
    stdout = io.StringIO()
    os.environ["COLUMNS"] = str(columns)
    try:
        out = Output(stdout, io.StringIO())
        show_model_stats(ModelStatsReport(log_stats(records)), out)
    finally:
        del os.environ["COLUMNS"]
    return stdout.getvalue().splitlines()


def test_model_stats_is_whole_at_120_columns_and_stacked_at_60():
    wide = _stats_screen(120)
    assert any("first token p50" in line for line in wide) and not any("…" in l for l in wide)
    assert all(len(line.rstrip()) <= 120 for line in wide)
    narrow = _stats_screen(60)
    assert "Per model" in narrow and not any("…" in line for line in narrow)
    assert all(len(line.rstrip()) <= 60 for line in narrow)
    assert any(line.strip().startswith("first token p50") or " first token p50 " in line
               for line in narrow)  # a label never split over two lines

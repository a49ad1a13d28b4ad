"""`model list` with every column it can have (Caps, Speed, Load) never cuts a cell: whole in a
table when the widths allow, else stacked. Pure: the view over a built result."""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone

import pytest

from agent.commands.model_list import HostLoad, ModelList
from cli.output import Output
from cli.views.models import show_model_list
from registry.model import ModelConfig

ADDED = datetime(2026, 12, 7, tzinfo=timezone.utc)


def _screen(columns: int) -> list[str]:
    models = [ModelConfig(model_id=f"model_0000000{i}", model_type="general",
                          url=f"http://127.0.0.1:1150{i}", model_name="llama3.1:8b", timeout=120,
                          is_active=i == 1, added_at=ADDED, is_available=True, last_checked=ADDED)
              for i in range(1, 4)]
    result = ModelList(models, speeds={m.model_id: 10_000.0 for m in models},
                       load={m.model_id: HostLoad(0, 303, 1.0) for m in models})
    stdout = io.StringIO()
    os.environ["COLUMNS"] = str(columns)
    try:
        show_model_list(result, Output(stdout, io.StringIO()))
    finally:
        del os.environ["COLUMNS"]
    return stdout.getvalue().splitlines()


@pytest.mark.parametrize("columns", [80, 100, 140, 200])
def test_no_cell_is_cut_at_any_width(columns):
    screen = _screen(columns)
    text = "\n".join(screen)
    assert "10,000.0 tok/s" in text and "0 in flight" in text and "100% ok" in text
    assert "p50 303 ms" in text and "…" not in text
    assert all(len(line.rstrip()) <= columns for line in screen)

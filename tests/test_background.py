"""Background work (registry/background.py) is waited for at exit: a daemon thread still inside
httpx or Redis while the interpreter finalizes crashed one-off `ai-cli chat` runs."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from registry import background


def test_wait_for_all_joins_the_running_work_within_its_bound():
    done = threading.Event()
    background.start(lambda: (threading.Event().wait(0.2), done.set()), name="test-work")
    background.wait_for_all(5)
    assert done.is_set()
    stuck = threading.Event()
    background.start(stuck.wait, name="test-stuck")  # never ends by itself
    background.wait_for_all(0.05)  # returns at its bound all the same
    stuck.set()


def test_failing_work_raises_nowhere():
    background.start(lambda: 1 / 0, name="test-fails")
    background.wait_for_all(5)


@pytest.mark.process
def test_a_process_that_exits_waits_for_its_background_work(tmp_path):
    marker = tmp_path / "finished"
    code = (f"import time; from registry import background\n"
            f"background.start(lambda: (time.sleep(0.3), open({str(marker)!r}, 'w').close()),"
            f" name='late')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert marker.exists()  # the work ran to its end before the interpreter went away

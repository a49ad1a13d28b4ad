"""Tests that send SIGINT pass even when pytest itself runs with SIGINT ignored, as a background
job of a non-interactive shell does: every child a test interrupts is
started with `test_cli_support.restore_sigint`. This runs the Ctrl-C tests in such a pytest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_cli_support import ROOT

pytestmark = pytest.mark.process  # a pytest of its own in a child process

CTRL_C_TESTS = [
    "tests/test_chat.py::test_ctrl_c_stops_the_answer_and_keeps_what_arrived",
    "tests/test_chat_repl.py::test_chat_in_the_repl_ctrl_c_returns_to_the_prompt",
    "tests/test_repl.py::test_ctrl_c_at_the_prompt_does_not_leave",
]
IGNORING_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                   "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


def test_ctrl_c_tests_pass_under_a_runner_that_ignores_sigint(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AI_CLI_"))}
    if "AI_CLI_TEST_REDIS_URL" in os.environ:
        env["AI_CLI_TEST_REDIS_URL"] = os.environ["AI_CLI_TEST_REDIS_URL"]
    proc = subprocess.run(
        [sys.executable, "-c", IGNORING_SIGINT, "-m", "pytest", "-q", "-p", "no:randomly",
         "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'inner'}", *CTRL_C_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"{len(CTRL_C_TESTS)} passed" in proc.stdout

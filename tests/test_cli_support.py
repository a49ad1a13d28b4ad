"""Helpers for driving `ai-cli` as a real process: its own config, a real Redis, the test server.

Not tests themselves; imported by tests/test_cli_*.py, test_repl*.py and test_wizard*.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = [sys.executable, "-m", "cli"]  # what the ai-cli script runs


def restore_sigint() -> None:
    """`preexec_fn` for every child a test interrupts: SIGINT back to its default.

    A process started with SIGINT ignored (pytest as a background job of a non-interactive
    shell) passes that on to its children, and Python then never raises KeyboardInterrupt in
    them; a user's terminal never starts ai-cli that way.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Cli:
    """`ai-cli` pointed at one test's Redis prefix, config file and data dir."""

    env: dict
    cwd: Path
    config_path: Path
    config: dict = field(default_factory=dict)

    def run(self, *args: str, input: str | None = None, env: dict | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*PROGRAM, *args], cwd=self.cwd, env={**self.env, **(env or {})}, input=input,
            stdin=subprocess.DEVNULL if input is None else None,  # never the test runner's stdin
            capture_output=True, text=True, timeout=timeout,
        )

    def json(self, *args: str, expect: int = 0, **kwargs):
        proc = self.run(*args, "--json", **kwargs)
        assert proc.returncode == expect, (proc.returncode, proc.stdout, proc.stderr)
        return json.loads(proc.stdout)

    def spawn(self, *args: str, env: dict | None = None, timeout: float = 20):
        import pexpect

        child = pexpect.spawn(
            PROGRAM[0], [*PROGRAM[1:], *args], cwd=str(self.cwd), env={**self.env, **(env or {})},
            encoding="utf-8", timeout=timeout, dimensions=(50, 200), preexec_fn=restore_sigint,
        )
        return child

    def write_config(self, **sections) -> None:
        for name, values in sections.items():
            self.config.setdefault(name, {}).update(values)
        self.config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")


def make_cli(tmp_path: Path, redis_url: str, key_prefix: str, fallback_url: str) -> Cli:
    home = tmp_path / "cli"
    home.mkdir(exist_ok=True)
    # OLLAMA_HOST names the default model server: never the machine's, only a test's own
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AI_CLI_") and k != "OLLAMA_HOST"}
    env.update({
        "AI_CLI_REDIS_URL": redis_url,
        "AI_CLI_EMBEDDED_LINGER": "0",  # as conftest: stop with the last client
        "AI_CLI_CONFIG": str(home / "config.yaml"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "PYTHONPATH": str(ROOT),
    })
    cli = Cli(env, home, home / "config.yaml")
    cli.write_config(
        tinyollama={"url": fallback_url, "model": "tinyllama", "timeout": 5,
                    "disabled_features": ["code"]},
        redis={"url": "embedded", "key_prefix": key_prefix},
        defaults={"timeout": 30, "probe_timeout": 1, "availability_ttl": 30},
    )
    return cli


@pytest.fixture
def cli(tmp_path, redis_url, key_prefix, real_redis, dead_url) -> Cli:
    """ai-cli on the test Redis (this test's prefix, cleaned afterwards); fallback unreachable."""
    return make_cli(tmp_path, redis_url, key_prefix, dead_url)


class TextRecorder:
    """A pexpect `logfile_read` keeping everything the child wrote, to feed a terminal emulator."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

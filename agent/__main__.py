"""The `ai-cli` script (and `python -m agent`): the collector pauses before anything is imported
(agent/collector.py), then the program runs (agent/cli.py)."""

from __future__ import annotations

import sys


def run() -> int:
    from agent import collector

    collector.pause()
    from agent.cli import run as program

    return program()


if __name__ == "__main__":
    sys.exit(run())

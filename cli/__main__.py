"""The `ai-cli` script (and `python -m cli`): the collector pauses before anything is imported
(cli/collector.py), then the program runs (cli/main.py)."""

from __future__ import annotations

import sys


def run() -> int:
    from cli import collector

    collector.pause()
    from cli.main import run as program

    return program()


if __name__ == "__main__":
    sys.exit(run())

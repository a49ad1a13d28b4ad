"""Ctrl-C during a streamed answer, read off a terminal emulator (pyte) rather than the raw bytes:
Live redraws its region, so only the screen says how often a line really shows."""

from __future__ import annotations

import pexpect
import pyte

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import TextRecorder, cli  # noqa: F401

from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"
ROWS, COLUMNS = 50, 200  # cli.spawn's pty


def screen_lines(raw: str) -> list[str]:
    screen = pyte.HistoryScreen(COLUMNS, ROWS, history=2000)
    pyte.Stream(screen).feed(raw)
    scrolled = ["".join(char.data for char in row.values()) for row in screen.history.top]
    return [line.rstrip() for line in scrolled + screen.display]


def test_ctrl_c_shows_the_partial_answer_once(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    child = cli.spawn(timeout=60)
    recorder = TextRecorder()
    child.logfile_read = recorder
    child.expect(PROMPT)
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.2
    ollama_server.reply(*[f"line{i}\n\n" for i in range(200)])
    child.sendline("talk a lot")
    child.expect("line3")
    child.sendintr()
    child.expect(r"\(answer stopped\)")
    child.expect(PROMPT)
    lines = screen_lines("".join(recorder.parts))
    shown = [line for line in lines if line.startswith("line")]
    assert shown == [f"line{i}" for i in range(len(shown))], lines  # each once, in order
    assert len(shown) >= 4 and sum("(answer stopped)" in line for line in lines) == 1, lines
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

"""The REPL while Redis goes away and comes back, and colour on a terminal vs NO_COLOR."""

from __future__ import annotations

import re
import subprocess
import time

import pexpect

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.connection.embedded import redis_server_binary

PROMPT = r">(\x08)?(\x1b\[\d*C| )"
COLOUR = re.compile(r"\x1b\[[0-9;]*3[1-7]m")  # a foreground colour


def start_redis(folder):
    socket = folder / "own.sock"
    proc = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(socket),
                             "--dir", str(folder), "--save", ""], stdout=subprocess.DEVNULL)
    while not socket.exists():
        time.sleep(0.02)
    return proc, f"unix://{socket}"


def test_redis_lost_and_back_while_the_repl_runs(cli, tmp_path):
    folder = tmp_path / "own-redis"
    folder.mkdir()
    proc, url = start_redis(folder)
    child = cli.spawn(env={"AI_CLI_REDIS_URL": url})
    try:
        child.expect(PROMPT)
        child.sendline("/model general add http://127.0.0.1:9 m1 --force")
        child.expect_exact("Model registered successfully!")
        child.expect(PROMPT)
        proc.terminate()
        proc.wait()
        child.sendline("/model list")
        child.expect_exact("unreachable")
        child.expect(PROMPT)
        child.sendline("/help")
        child.expect_exact("/model status")
        child.expect(PROMPT)
        proc, url = start_redis(folder)  # same socket, empty data: a fresh server
        time.sleep(3.5)  # the registry tries Redis again at most every 3 s
        child.sendline("/model list")
        child.expect_exact("No models registered")
        child.expect(PROMPT)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        proc.terminate()
        proc.wait()


def banner_bytes(cli, env) -> str:
    child = cli.spawn(env=env)
    child.expect(PROMPT)
    text = child.before
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    return text


def test_colour_on_a_terminal_and_none_with_no_color(cli):
    coloured = banner_bytes(cli, {"NO_COLOR": "", "TERM": "xterm-256color"})
    assert COLOUR.search(coloured)
    plain_env = {"NO_COLOR": "1", "TERM": "xterm-256color"}
    plain = banner_bytes(cli, plain_env)
    assert "Limited mode" in plain and not COLOUR.search(plain)

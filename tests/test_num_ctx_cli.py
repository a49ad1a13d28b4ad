"""`model add --num-ctx N --parallel N` stored, shown and used, and an input too big for the
window refused before sending: real ai-cli processes over a real Redis and the Ollama-protocol
test server."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

pytestmark = pytest.mark.process


def test_num_ctx_and_parallel_given_on_add_are_stored_shown_and_used(cli, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.context_length = 32768
    added = cli.json("model", "general", "add", ollama_server.url, "llama3",
                     "--num-ctx", "2048", "--parallel", "3")
    assert (added["num_ctx"], added["parallel"]) == (2048, 3)
    [listed] = cli.json("model", "list")
    assert (listed["num_ctx"], listed["parallel"]) == (2048, 3)
    ollama_server.add_model("mistral")  # the same URL and model again would change nothing
    shown = cli.run("model", "general", "add", ollama_server.url, "mistral", "--no-activate")
    assert "Context: the model's window" in shown.stdout and "Parallel: 1" in shown.stdout
    for question in ("hi", "a longer question " * 50):
        assert cli.run("chat", question).returncode == 0
    assert [r.body["options"]["num_ctx"] for r in ollama_server.chat_requests] == [2048, 2048]
    assert cli.run("chat", "-o", "num_ctx", "4096", "again").returncode == 0
    assert ollama_server.chat_requests[-1].body["options"]["num_ctx"] == 4096


@pytest.mark.parametrize("flag, value, says", [
    ("--num-ctx", "12", "--num-ctx '12' is not valid: give a whole number of tokens from 256"),
    ("--num-ctx", "lots", "--num-ctx 'lots' is not valid"),
    ("--parallel", "0", "--parallel '0' is not valid: give a whole number of requests from 1"),
])
def test_a_bad_num_ctx_or_parallel_is_one_line_and_adds_nothing(cli, ollama_server, flag,
                                                                 value, says):
    ollama_server.add_model("llama3")
    proc = cli.run("model", "general", "add", ollama_server.url, "llama3", flag, value)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert cli.json("model", "list") == []


def test_a_file_too_big_for_the_window_is_not_sent_and_the_reason_is_one_line(
        cli, ollama_server, tmp_path):
    ollama_server.add_model("llama3")
    ollama_server.context_length = 65536
    cli.json("model", "general", "add", ollama_server.url, "llama3", "--num-ctx", "8192")
    big = tmp_path / "big.txt"
    big.write_text("token " * 24_000)  # 144,000 characters: about 41,000 tokens
    proc = cli.run("chat", "-f", str(big), "summarize this")
    assert proc.returncode == 2 and proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("✗ Not sent: the input is about 41,")
    assert "llama3's window (num_ctx) is 8,192 tokens" in line and "-o num_ctx " in line
    assert ollama_server.chat_requests == []
    assert cli.json("log") == []

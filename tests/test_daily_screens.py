"""What a daily user sees at 60 and 120 columns (and between 80 and 130 for the lists): a real
`ai-cli` on a pseudo-terminal of that size, its output read off a terminal emulator (pyte), with
a real Redis and the Ollama-protocol test server. Answers shown whole (links with their URL, code
blocks as the code, tables never cut), `-r` raw, and `model list` / `log` never cut."""

from __future__ import annotations

import pexpect
import pyte
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import PROGRAM, TextRecorder, cli, restore_sigint  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process

ROWS = 200  # tall enough that nothing scrolls away


def screen_of(cli, *args: str, columns: int, env: dict | None = None) -> tuple[list[str], int]:
    """`ai-cli args` run to its end on a `columns`-wide terminal: the screen's lines and the exit
    code."""
    child = pexpect.spawn(
        PROGRAM[0], [*PROGRAM[1:], *args], cwd=str(cli.cwd),
        env={**cli.env, "COLUMNS": str(columns), "LINES": str(ROWS), **(env or {})},
        encoding="utf-8", timeout=60, dimensions=(ROWS, columns), preexec_fn=restore_sigint)
    recorder = TextRecorder()
    child.logfile_read = recorder
    child.expect(pexpect.EOF)
    child.close()
    screen = pyte.Screen(columns, ROWS)
    pyte.Stream(screen).feed("".join(recorder.parts).replace("\n", "\r\n"))
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines, child.exitstatus


def one_general(real_redis, key_prefix, server, name="llama3"):
    server.add_model(name)
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", server.url, name, timeout=10)


CODE = ["def greet(name):", "    print(f'hello {name}')", "", "", "greet('world')"]
ANSWER = ("Read [the guide](http://127.0.0.1/guide) first.\n\n"
          "```python\n" + "\n".join(CODE) + "\n```\n\n"
          "| model | host | id |\n| --- | --- | --- |\n"
          "| llama3.1:8b-instruct-q4_K_M | http://gpu-box-in-the-basement.lan:11434 | "
          "model_1234abcd |\n")


@pytest.mark.parametrize("columns", [60, 120])
def test_an_answer_is_shown_whole(columns, cli, ollama_server, real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply(*[ANSWER[i:i + 7] for i in range(0, len(ANSWER), 7)])
    lines, code = screen_of(cli, "chat", "show me", columns=columns)
    assert code == 0, lines
    assert "Read the guide (http://127.0.0.1/guide) first." in lines
    start = lines.index(CODE[0])  # the code block from the first column, nothing added
    assert lines[start:start + len(CODE)] == CODE, lines
    text = "\n".join(lines)
    for cell in ("llama3.1:8b-instruct-q4_K_M", "http://gpu-box-in-the-basement.lan:11434",
                 "model_1234abcd"):
        assert cell in text, lines  # each cell whole, on one line
    assert "…" not in text
    if columns == 60:  # too narrow for the table: stacked
        assert "model: llama3.1:8b-instruct-q4_K_M" in lines
    else:
        assert any(line.split()[:3] == ["llama3.1:8b-instruct-q4_K_M",
                                        "http://gpu-box-in-the-basement.lan:11434",
                                        "model_1234abcd"] for line in lines), lines


@pytest.mark.parametrize("columns", [60, 120])
def test_raw_shows_the_markdown_as_typed(columns, cli, ollama_server, real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("# Title\n\n", "**bold** and ", "[a link](http://127.0.0.1/x)")
    lines, code = screen_of(cli, "-r", "chat", "show me", columns=columns)
    assert code == 0
    assert lines[-3:] == ["# Title", "", "**bold** and [a link](http://127.0.0.1/x)"], lines


@pytest.mark.parametrize("columns", [60, 80, 100, 120, 130])
def test_model_list_and_log_are_never_cut(columns, cli, ollama_server, real_redis, key_prefix):
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    ollama_server.add_model("llama3.1:8b-instruct-q4_K_M")
    long_host = ollama_server.url.replace("127.0.0.1", "localhost") + "/"
    models = [registry.add_model("general", ollama_server.url, "llama3.1:8b-instruct-q4_K_M",
                                 timeout=10),
              registry.add_model("coder", long_host, "qwen2.5-coder:32b-instruct-q8_0",
                                 timeout=300)]
    ollama_server.reply("ok")
    assert cli.run("chat", "-m", "llama3.1:8b-instruct-q4_K_M", "hi").returncode == 0
    listed, code = screen_of(cli, "model", "list", columns=columns)
    assert code == 0
    text = "\n".join(listed)
    assert "…" not in text
    for model in models:
        assert model.model_id in text and model.model_name in text, listed
    logged, code = screen_of(cli, "log", columns=columns)
    assert code == 0
    text = "\n".join(logged)
    assert "…" not in text and models[0].model_id in text, logged
    assert "requested" in text  # `-m` chose it
    if columns == 60:  # stacked, one answer in a few lines
        assert not any("┃" in line for line in listed + logged), listed + logged
    assert all(len(line) <= columns for line in listed + logged)


def test_extract_and_no_stream_in_a_pipe_and_on_a_terminal(cli, ollama_server, real_redis,
                                                           key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("Here:\n\n```bash\n", "ls -la | wc -l\n", "```\n\nIt counts.")
    piped = cli.run("-x", "count files")
    assert piped.returncode == 0 and piped.stdout == "ls -la | wc -l\n", piped.stderr
    ollama_server.reply("Zebras **graze**", " quietly.")
    lines, code = screen_of(cli, "--no-stream", "zebras?", columns=60)
    assert code == 0 and lines[-1] == "Zebras graze quietly.", lines

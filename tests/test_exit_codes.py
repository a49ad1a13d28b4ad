"""Exit codes and pipes as a daily user's scripts see them, through real `ai-cli` processes, a
real Redis and the Ollama-protocol test server: Ctrl-C during an answer (130, the answer kept),
`ai-cli ... | head` (quiet), `model status` with no route (1), `model use` of a model whose
server does not answer (0, with a warning)."""

from __future__ import annotations

import json
import shlex
import subprocess

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import PROGRAM, cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process


def one_general(real_redis, key_prefix, server, name="llama3"):
    server.add_model(name)
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", server.url, name, timeout=10)


def latest_answer(cli) -> dict:
    latest = cli.json("session", "list")[0]["session_id"]
    return cli.json("session", "show", latest)["messages"][-1]


def shell(cli, pipeline: str) -> subprocess.CompletedProcess:
    """`pipeline` in bash, with `AI_CLI` standing for the ai-cli command; prints the exit codes
    of its parts last."""
    program = " ".join(shlex.quote(p) for p in PROGRAM)
    script = pipeline.replace("AI_CLI", program) + '; echo "rc=${PIPESTATUS[*]}"'
    return subprocess.run(["bash", "-c", script], cwd=cli.cwd, env=cli.env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_ctrl_c_during_an_answer_exits_130_and_keeps_what_arrived(cli, ollama_server,
                                                                  real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.2
    ollama_server.reply(*[f"line{i}\n" for i in range(200)])
    child = cli.spawn("chat", "-c", "talk a lot", timeout=60)
    child.expect("line3")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    answer = latest_answer(cli)
    assert answer["role"] == "assistant" and answer["content"].startswith("line0\nline1\n")
    assert answer["interrupted"] is True
    assert cli.json("log")[0]["status"] == "stopped"


def test_a_reader_that_leaves_ends_ai_cli_quietly(cli, ollama_server, real_redis, key_prefix):
    one_general(real_redis, key_prefix, ollama_server)
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.05
    ollama_server.reply(*[f"line{i}\n" for i in range(400)])
    proc = shell(cli, "AI_CLI chat -c 'count' | head -n 2")
    assert proc.stdout.splitlines()[:2] == ["line0", "line1"]
    assert "Error" not in proc.stderr and "Exception" not in proc.stderr, proc.stderr
    assert proc.stdout.splitlines()[-1] == "rc=141 0"
    kept = latest_answer(cli)  # the answer so far is saved
    assert kept["interrupted"] is True and kept["content"].startswith("line0\nline1\n")
    listed = shell(cli, "AI_CLI model list | true")  # true is gone before ai-cli writes
    assert listed.stderr == "" and listed.stdout.splitlines()[-1] in ("rc=141 0", "rc=0 0")


def test_model_status_exits_1_when_no_route_can_answer(cli, ollama_server, real_redis,
                                                       key_prefix):
    nothing = cli.run("model", "status")  # no model, and the fallback is unreachable
    assert nothing.returncode == 1, nothing.stdout + nothing.stderr
    assert "General: no model" in nothing.stdout
    assert json.loads(cli.run("model", "status", "--json").stdout)["routes"]["general"][
        "model"] is None
    one_general(real_redis, key_prefix, ollama_server)
    working = cli.run("model", "status")
    assert working.returncode == 0, working.stdout + working.stderr


def test_model_use_of_an_unreachable_host_says_so_and_still_switches(cli, ollama_server,
                                                                    real_redis, key_prefix,
                                                                    dead_url):
    one_general(real_redis, key_prefix, ollama_server)
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    away = registry.add_model("general", dead_url, "mistral", timeout=10, set_active=False)
    proc = cli.run("model", "use", away.model_id)
    assert proc.returncode == 0, proc.stderr
    assert "is now active" in proc.stdout
    host = dead_url.removeprefix("http://")
    assert f"{host} does not answer now" in proc.stderr and "'ai-cli model check'" in proc.stderr
    assert registry.get_active_model("general").model_id == away.model_id
    assert registry.get_model(away.model_id).is_available is False
    reachable = cli.run("model", "general", "use", "llama3")
    assert reachable.returncode == 0 and "does not answer" not in reachable.stderr

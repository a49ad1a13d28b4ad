"""The agent under faults: an Ollama server that dies
mid-stream, hangs, answers 500 or garbage, through the real ChatOllama and `ai-cli` processes;
a REPL whose session disappears; `/code` whose every edit is refused; ai-cli SIGKILLed in the
middle of a `/code` write. Each fault gives one clear line, no traceback, and a consistent
session (a question is stored only with its answer, a partial answer marked)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from redis_process import RedisProcess
from test_cli_support import PROGRAM, cli, restore_sigint  # noqa: F401

SLOW = 90  # seconds pexpect waits for output: generous, a loaded machine is slow

from agent.sessions import SessionStore
from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def add_general(client, key_prefix, server, timeout=10):
    server.add_model("llama3")
    return ModelRegistry(client, key_prefix=key_prefix).add_model(
        "general", server.url, "llama3", timeout=timeout)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Unexpected error" not in stderr
    return lines[0]


# --- chat: each fault through a real `ai-cli --session ID chat` ----------------------------------

FAULTS = {
    # name: (chat_mode, die_after, model timeout, server delay, partial answer kept, words)
    "dies mid-stream": ("die_mid_stream", 2, 10, 0.2, "part one part two ", "broke off"),
    "silent mid-stream past the timeout": ("slow", 0, 1, 5, "part one ", "stopped: no token for 1 s"),
    "garbage mid-stream": ("garbage", 2, 10, 0.2, "part one part two ", "broke off"),
    "hangs before answering": ("hang", 0, 1, 0.2, None, "did not answer within its timeout"),
    "answers HTTP 500": ("error_500", 0, 10, 0.2, None, "HTTP 500"),
    "answers garbage": ("garbage", 0, 10, 0.2, None, "does not follow the Ollama API"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_chat_fault_is_one_line_and_the_session_stays_consistent(cli, ollama_server, real_redis,
                                                                  key_prefix, fault):
    mode, die_after, timeout, delay, partial, words = FAULTS[fault]
    add_general(real_redis, key_prefix, ollama_server, timeout=timeout)
    store = SessionStore(real_redis, key_prefix)
    sid = store.new().session_id
    ollama_server.reply("part one ", "part two ", "never sent")
    ollama_server.chat_mode, ollama_server.die_after, ollama_server.delay = mode, die_after, delay
    proc = cli.run("--session", sid, "chat", "the question")
    assert proc.returncode == 1
    assert words in one_line(proc.stderr)
    saved = store.history(sid)
    if partial is None:
        assert saved == [] and proc.stdout == ""
        return
    assert proc.stdout.startswith(partial) and "never sent" not in proc.stdout
    assert [(m.role, m.content) for m in saved] == [("user", "the question"),
                                                    ("assistant", partial)]
    assert saved[1].broken and not saved[1].interrupted
    assert "(broke off)" in cli.run("session", "show", sid).stdout
    # The next question carries the broken exchange along, like an interrupted one.
    ollama_server.chat_mode = None
    ollama_server.reply("fine now")
    assert cli.run("--session", sid, "chat", "again").stdout == "fine now\n"
    sent = [(m["role"], m["content"]) for m in ollama_server.chat_requests[-1].body["messages"]]
    assert sent == [("user", "the question"), ("assistant", partial), ("user", "again")]


def test_repl_survives_a_broken_stream_and_saves_it(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    child = cli.spawn(timeout=SLOW)
    child.expect(PROMPT)
    ollama_server.chat_mode, ollama_server.die_after = "die_mid_stream", 1
    ollama_server.reply("half ", "never")
    child.sendline("first")
    child.expect("broke off")
    child.expect(PROMPT)
    ollama_server.chat_mode = None
    ollama_server.reply("whole answer")
    child.sendline("second")
    child.expect("whole answer")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (session,) = SessionStore(real_redis, key_prefix).list()
    saved = SessionStore(real_redis, key_prefix).history(session.session_id)
    assert [(m.content, m.broken) for m in saved] == [
        ("first", False), ("half ", True), ("second", False), ("whole answer", False)]


# --- the REPL's session disappears ----------------------------------------------------------------


def chat_in_repl(child, question: str, answer: str) -> str:
    child.sendline(question)
    child.expect_exact(answer)
    child.expect(PROMPT)
    return child.before


def test_repl_starts_a_new_session_when_its_session_is_deleted(cli, ollama_server, real_redis,
                                                               key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    store = SessionStore(real_redis, key_prefix)
    ollama_server.default_reply = "an answer"
    child = cli.spawn(timeout=SLOW)
    child.expect(PROMPT)
    chat_in_repl(child, "one", "an answer")
    (first,) = store.list()
    store.delete(first.session_id)  # another process deletes it
    child.sendline("two")
    child.expect(f"Session {first.session_id} no longer exists")
    child.expect_exact("an answer")
    child.expect(PROMPT)
    later = chat_in_repl(child, "three", "an answer")
    assert "no longer exists" not in later and "not saved" not in later
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    (second,) = store.list()
    assert second.session_id != first.session_id
    assert [m.content for m in store.history(second.session_id) if m.role == "user"] == [
        "two", "three"]


def test_repl_carries_on_when_redis_is_killed_and_comes_back_empty(cli, ollama_server, tmp_path):
    own = RedisProcess(tmp_path / "own-redis-dir", "own.sock")
    own.folder.mkdir()
    own.start()
    try:
        import redis

        client = redis.Redis.from_url(own.url, decode_responses=True)
        add_general(client, "", ollama_server)
        cli.write_config(redis={"key_prefix": ""})
        ollama_server.default_reply = "an answer"
        child = cli.spawn(env={"AI_CLI_REDIS_URL": own.url}, timeout=SLOW)
        child.expect(PROMPT)
        chat_in_repl(child, "one", "an answer")
        (lost,) = SessionStore(client).list()
        own.proc.kill()  # SIGKILL: the session was never saved to disk
        own.proc.wait()
        own.proc = None
        own.socket.unlink(missing_ok=True)
        own.start()  # the same socket, empty
        add_general(client, "", ollama_server)
        time.sleep(3.5)  # the registry tries Redis again at most every 3 s
        child.sendline("two")
        child.expect(f"Session {lost.session_id} no longer exists")
        child.expect_exact("an answer")
        child.expect(PROMPT)
        later = chat_in_repl(child, "three", "an answer")
        assert "not saved" not in later and "no longer exists" not in later
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        (now,) = SessionStore(client).list()
        assert [m.content for m in SessionStore(client).history(now.session_id)
                if m.role == "user"] == ["two", "three"]
    finally:
        own.stop()


# --- /code: every edit refused is a failure; a SIGKILL mid-write leaves no half file ---------------


def add_coder(real_redis, key_prefix, server):
    server.add_model("coder-7b")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("coder", server.url, "coder-7b",
                                                               timeout=10)


def test_code_exits_1_when_every_edit_is_refused_or_fails(cli, ollama_server, real_redis,
                                                          key_prefix):
    add_coder(real_redis, key_prefix, ollama_server)
    (cli.cwd / "calc.py").write_text("x = 1\n")
    ollama_server.reply_tool_call("write_file", {"path": "../outside.txt", "content": "pwned"})
    ollama_server.reply_tool_call("edit_file", {"path": "calc.py", "old_text": "not there",
                                                "new_text": "y"})
    ollama_server.reply("I tried.")
    result = cli.json("code", "change things", "--yes", expect=1)
    assert result["ok"] is False and result["applied"] == []
    assert len(result["problems"]) == 2 and "outside.txt" in result["problems"][0]
    assert (cli.cwd / "calc.py").read_text() == "x = 1\n"
    ollama_server.reply_tool_call("write_file", {"path": "../outside.txt", "content": "pwned"})
    ollama_server.reply("I tried.")
    proc = cli.run("code", "change things", "--yes")
    assert proc.returncode == 1
    assert "every proposed edit was refused, declined or failed" in proc.stderr
    ollama_server.reply("Nothing needs changing.")  # no edit proposed: a success
    assert cli.json("code", "look only", "--yes")["ok"] is True


HOOK = '''\
import os, time
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(src).endswith(".ai-cli-tmp"):
        with open(os.environ["PAUSED_AT"], "w") as marker:
            marker.write(str(src))
        time.sleep(120)  # the test SIGKILLs the process here
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
'''


def test_sigkill_during_a_code_write_leaves_old_content_and_no_half_file(
        cli, ollama_server, real_redis, key_prefix, tmp_path):
    """ai-cli is paused by a test-only sitecustomize at the moment of the write — the new content
    written and synced to the temporary file, the rename not yet done — and SIGKILLed there."""
    add_coder(real_redis, key_prefix, ollama_server)
    target = cli.cwd / "big.txt"
    old = "old line\n" * 100
    new = "new line\n" * 500
    target.write_text(old)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)
    marker = tmp_path / "paused"
    env = {**cli.env, "PYTHONPATH": f"{hook}{os.pathsep}{cli.env['PYTHONPATH']}",
           "PAUSED_AT": str(marker)}
    ollama_server.reply_tool_call("write_file", {"path": "big.txt", "content": new})
    log = tmp_path / "stderr.txt"
    with open(log, "w") as errors:
        proc = subprocess.Popen([*PROGRAM, "code", "rewrite big.txt", "--yes"], cwd=cli.cwd,
                                env=env, stdout=subprocess.DEVNULL, stderr=errors,
                                preexec_fn=restore_sigint)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"ai-cli never reached the write: {log.read_text()[-2000:]}"
        temp = marker.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert target.read_text() == old  # the old content, whole
    leftovers = [p.name for p in cli.cwd.iterdir() if p.name not in ("big.txt", "config.yaml")]
    assert all(name.startswith(".big.txt.") and name.endswith(".ai-cli-tmp") for name in leftovers)
    assert os.path.basename(temp) in leftovers  # a hidden temp file, never the target itself
    # Without the pause the same write completes: the new content, whole.
    ollama_server.reply_tool_call("write_file", {"path": "big.txt", "content": new})
    ollama_server.reply("Done.")
    assert cli.run("code", "rewrite big.txt", "--yes").returncode == 0
    assert target.read_text() == new

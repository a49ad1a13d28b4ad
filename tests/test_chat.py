"""`ai-cli chat` and sessions as real processes: streaming, stdin, notices, history across
processes, the history bound, pinned models, and Ctrl-C mid-answer."""

from __future__ import annotations

import os
import signal
import subprocess

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import PROGRAM, cli, restore_sigint  # noqa: F401

from agent.sessions import SessionStore
from registry.manager import ModelRegistry


def add_general(real_redis, key_prefix, server, name="llama3", active=True):
    server.add_model(name)
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", server.url, name, timeout=10, set_active=active)


def sent_messages(server, index=-1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.chat_requests[index].body["messages"]]


def test_chat_streams_the_answer_to_stdout(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("Hello", " *there*", "\n\n- one\n- two")
    proc = cli.run("chat", "say hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello *there*\n\n- one\n- two\n"  # raw markdown when not a terminal
    assert sent_messages(ollama_server) == [("user", "say hi")]
    assert "Traceback" not in proc.stderr


def test_chat_reads_stdin_and_json(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("from stdin")
    proc = cli.run("chat", input="a question\non two lines\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from stdin\n"
    assert sent_messages(ollama_server) == [("user", "a question\non two lines")]
    ollama_server.reply("as json")
    reply = cli.json("chat", "q")
    assert reply["answer"] == "as json" and reply["interrupted"] is False
    assert reply["route"]["via"] == "active" and reply["route"]["model"]["model_name"] == "llama3"


def test_chat_without_a_message_is_bad_usage(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    proc = cli.run("chat", input="")
    assert proc.returncode == 2 and "empty" in proc.stderr


def test_notice_goes_to_stderr_before_the_answer(cli, ollama_servers, real_redis, key_prefix):
    first, second = ollama_servers(2)
    broken = add_general(real_redis, key_prefix, first, "llama3")
    first.remove_model("llama3")  # registered and active, but the server no longer has it
    add_general(real_redis, key_prefix, second, "mistral", active=False)
    second.reply("answer from mistral")
    proc = cli.run("chat", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answer from mistral\n"
    assert "Using mistral" in proc.stderr and broken.model_id in proc.stderr


def test_chat_never_asks_the_coder_models_server(cli, ollama_servers, real_redis, key_prefix):
    """Chat needs the general route only: a coder model on a server that hangs must not hold
    every message for a probe timeout (each time the availability cache has expired)."""
    general, coder = ollama_servers(2)
    add_general(real_redis, key_prefix, general)
    coder.add_model("qwen2.5-coder")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("coder", coder.url,
                                                               "qwen2.5-coder", timeout=10)
    coder.mode = "hang"
    general.reply("answered")
    proc = cli.run("chat", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "answered\n"
    assert coder.requests == []


def test_no_general_model_is_the_seed_warning(cli):
    proc = cli.run("chat", "hi")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "⚠ No general model available. Use 'ai-cli model general add' to configure a model.")
    assert proc.stdout == ""


def test_session_history_survives_across_processes(cli, ollama_server, real_redis, key_prefix):
    model = add_general(real_redis, key_prefix, ollama_server)
    session = cli.json("session", "new")
    sid = session["session_id"]
    ollama_server.reply("Noted: 42.")
    assert cli.run("--session", sid, "chat", "remember 42").returncode == 0
    ollama_server.reply("It was 42.")
    proc = cli.run("chat", "what number?", "--session", sid)
    assert proc.returncode == 0, proc.stderr
    assert sent_messages(ollama_server) == [
        ("user", "remember 42"), ("assistant", "Noted: 42."), ("user", "what number?")]
    shown = cli.json("--session", sid, "session", "show")
    assert shown["title"] == "remember 42" and shown["message_count"] == 4
    answers = [m for m in shown["messages"] if m["role"] == "assistant"]
    assert {(m["model_id"], m["model_name"]) for m in answers} == {(model.model_id, "llama3")}
    listed = cli.json("session", "list")
    assert [s["session_id"] for s in listed] == [sid]
    # The keys are the documented ones, under the configured prefix.
    assert real_redis.exists(f"{key_prefix}sessions:{sid}", f"{key_prefix}sessions:{sid}:messages",
                             f"{key_prefix}sessions:index") == 3
    assert cli.json("session", "delete", sid)["session_id"] == sid
    assert cli.json("session", "list") == []
    gone = cli.run("--session", sid, "chat", "hi")
    assert gone.returncode == 1 and "No session with id" in gone.stderr


def test_history_sent_is_bounded_by_config(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    cli.write_config(sessions={"max_history": 2})
    sid = cli.json("session", "new")["session_id"]
    for i in range(3):
        ollama_server.reply(f"a{i}")
        assert cli.run("--session", sid, "chat", f"q{i}").returncode == 0
    assert sent_messages(ollama_server) == [("user", "q1"), ("assistant", "a1"), ("user", "q2")]


def test_bad_session_config_is_one_line(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    cli.write_config(sessions={"max_history": "lots"})
    proc = cli.run("session", "list")
    assert proc.returncode == 2 and "sessions.max_history" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_pinned_model_is_used_and_unavailable_pin_is_said(cli, ollama_servers, real_redis,
                                                           key_prefix):
    first, second = ollama_servers(2)
    add_general(real_redis, key_prefix, first, "llama3")
    pinned = add_general(real_redis, key_prefix, second, "mistral", active=False)
    sid = cli.json("session", "new")["session_id"]
    proc = cli.run("--session", sid, "session", "model", "general", pinned.model_id)
    assert proc.returncode == 0, proc.stderr
    second.reply("from the pin")
    assert cli.run("--session", sid, "chat", "hi").stdout == "from the pin\n"
    assert [r.model for r in second.chat_requests] == ["mistral"] and first.chat_requests == []
    second.remove_model("mistral")
    first.reply("from the active one")
    proc = cli.run("--session", sid, "chat", "again")
    assert proc.stdout == "from the active one\n"
    assert pinned.model_id in proc.stderr and "unavailable" in proc.stderr
    wrong = cli.run("--session", sid, "session", "model", "coder", pinned.model_id)
    assert wrong.returncode == 1 and "is a general model" in wrong.stderr
    unpinned = cli.json("--session", sid, "session", "model", "general", "none")
    assert unpinned["pinned"] == {"general": None, "coder": None}


def test_session_commands_need_a_session(cli):
    proc = cli.run("session", "show")
    assert proc.returncode == 2 and "No session is in use" in proc.stderr
    proc = cli.run("session", "use", "session_00000000")
    assert proc.returncode == 1 and "No session with id 'session_00000000'" in proc.stderr


def test_ctrl_c_stops_the_answer_and_keeps_what_arrived(cli, ollama_server, real_redis,
                                                         key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    sid = cli.json("session", "new")["session_id"]
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.3
    ollama_server.reply(*[f"word{i} " for i in range(200)])
    proc = subprocess.Popen([*PROGRAM, "--session", sid, "chat", "talk a lot"], cwd=cli.cwd,
                            env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=restore_sigint)  # even if pytest runs with SIGINT ignored
    first = os.read(proc.stdout.fileno(), 100)
    assert first.startswith(b"word0")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err  # stopped by Ctrl-C: what arrived is kept, not whole
    text = (first + out).decode()
    assert "word0" in text and "word199" not in text
    assert "(answer stopped)" in err.decode() and "Traceback" not in err.decode()
    store = SessionStore(real_redis, key_prefix)
    saved = store.history(sid)
    assert [m.role for m in saved] == ["user", "assistant"]
    assert saved[1].interrupted and saved[1].content.startswith("word0")

"""Chat and /code in the REPL through a pseudo-terminal: streamed markdown, Ctrl-C back to the
prompt, sessions, the diff and yes/no question, /undo; and /code then undo as two processes."""

from __future__ import annotations

import pexpect

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from agent.sessions import SessionStore
from registry.manager import ModelRegistry

PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def start(cli):
    child = cli.spawn()
    child.expect("AI CLI v1.0.0")
    child.expect(PROMPT)
    return child


def finish(child) -> int:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_chat_in_the_repl_ctrl_c_returns_to_the_prompt(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    ollama_server.reply("# Title\n\nSome **bold** text.")
    child = start(cli)
    child.sendline("hello")
    child.expect("Title")
    child.expect(r"Some (\x1b\[[\d;]*m)*bold(\x1b\[[\d;]*m)* text")  # rendered: no ** left
    child.expect(PROMPT)
    ollama_server.chat_mode = "slow"
    ollama_server.delay = 0.3
    ollama_server.reply(*[f"chunk{i} " for i in range(200)])
    child.sendline("talk a lot")
    child.expect("chunk1")
    child.sendintr()
    child.expect(r"\(answer stopped\)")
    child.expect(PROMPT)
    ollama_server.chat_mode = None
    ollama_server.reply("still here")
    child.sendline("are you there?")
    child.expect("still here")
    child.expect(PROMPT)
    assert finish(child) == 0
    sessions = SessionStore(real_redis, key_prefix).list()
    assert len(sessions) == 1 and sessions[0].title == "hello"
    history = SessionStore(real_redis, key_prefix).history(sessions[0].session_id)
    assert [m.content for m in history if m.role == "user"] == ["hello", "talk a lot",
                                                                  "are you there?"]
    assert [m.interrupted for m in history if m.role == "assistant"] == [False, True, False]
    # The third request carried the whole conversation, the stopped answer included.
    roles = [m["role"] for m in ollama_server.chat_requests[-1].body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]


def test_session_commands_in_the_repl(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    child = start(cli)
    child.sendline("/session new")
    child.expect("A new session starts with your next message")
    ollama_server.reply("one")
    child.sendline("first question")
    child.expect("one")
    child.sendline("/session show")
    child.expect(r"Session (session_[0-9a-f]{8}): first question")
    first = child.match.group(1)
    child.sendline("/session new")
    child.expect("A new session starts with your next message")
    child.sendline("/session new")  # twice, unused: nothing is left behind
    child.expect("A new session starts with your next message")
    child.sendline(f"/session use {first}")
    child.expect(f"Session {first} in use")
    child.sendline("/session show")
    child.expect("first question")
    child.expect("llama3: one")
    child.sendline("/session list")
    child.expect(first)
    assert finish(child) == 0
    assert real_redis.zrange(f"{key_prefix}sessions:index", 0, -1) == [first]


def code_scene(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("coder-7b")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("coder", ollama_server.url,
                                                               "coder-7b", timeout=10)
    (cli.cwd / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    outside = cli.cwd.parent / "outside.txt"
    outside.write_text("keep\n")
    ollama_server.reply_tool_call("read_file", {"path": "calc.py"})
    ollama_server.reply_tool_call("write_file", {"path": "../outside.txt", "content": "pwned"})
    ollama_server.reply_tool_call("edit_file", {"path": "calc.py", "old_text": "a - b",
                                                "new_text": "a + b"})
    ollama_server.reply("Fixed.")
    return outside


def test_code_in_the_repl_asks_then_undo(cli, ollama_server, real_redis, key_prefix):
    outside = code_scene(cli, ollama_server, real_redis, key_prefix)
    child = start(cli)
    child.sendline("/code fix add in calc.py")
    child.expect(r"→ read_file\(path='calc.py'\)")
    child.expect(r"Refused '\.\./outside\.txt'")
    child.expect(r"-    return a - b")
    child.expect(r"\+    return a \+ b")
    child.expect(r"Apply this change to calc.py\? \[y\]es / \[n\]o / \[a\]ll")
    child.sendline("y")
    child.expect("Fixed.")
    child.expect(r"calc.py changed \(\+1 -1\)")
    child.expect(PROMPT)
    assert (cli.cwd / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    child.sendline("/undo")
    child.expect("Restored calc.py")
    child.expect(PROMPT)
    assert (cli.cwd / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    child.sendline("/undo")
    child.expect("Nothing to undo")
    assert finish(child) == 0
    assert outside.read_text() == "keep\n"


def test_code_then_undo_as_two_processes(cli, ollama_server, real_redis, key_prefix):
    outside = code_scene(cli, ollama_server, real_redis, key_prefix)
    proc = cli.run("code", "fix add in calc.py", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "+    return a + b" in proc.stdout and "Fixed." in proc.stdout
    assert (cli.cwd / "calc.py").read_text().endswith("a + b\n")
    undone = cli.json("undo")
    assert undone == {"restored": ["calc.py"], "skipped": [], "deleted": []}
    assert (cli.cwd / "calc.py").read_text().endswith("a - b\n")
    assert outside.read_text() == "keep\n"


def test_code_without_a_terminal_or_yes_changes_nothing(cli, ollama_server, real_redis,
                                                        key_prefix):
    code_scene(cli, ollama_server, real_redis, key_prefix)
    proc = cli.run("code", "fix add in calc.py", input="")
    assert proc.returncode == 1, proc.stderr  # every proposed edit declined: a failed /code
    assert "+    return a + b" in proc.stdout  # the diff is shown; why it was not applied is a
    assert "Run with --yes" in proc.stderr  # warning, on stderr with the others
    assert (cli.cwd / "calc.py").read_text().endswith("a - b\n")


def test_code_json_and_workspace_flag(cli, ollama_server, real_redis, key_prefix, tmp_path):
    code_scene(cli, ollama_server, real_redis, key_prefix)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    result = cli.json("code", "fix add", "--yes", "--workspace", str(other))
    assert result["mode"] == "tools" and result["steps"] == 3
    assert result["applied"] == ["calc.py changed (+1 -1)"] and result["stopped"] is None
    assert (other / "calc.py").read_text().endswith("a + b\n")
    assert (cli.cwd / "calc.py").read_text().endswith("a - b\n")


def test_code_is_off_without_a_coder_route(cli):
    proc = cli.run("code", "anything")
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        "⚠ No coder model available. Use 'ai-cli model coder add' to configure a model.")


def test_repl_started_with_session_continues_it(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    sid = cli.json("session", "new")["session_id"]
    ollama_server.reply("Noted.")
    assert cli.run("--session", sid, "chat", "my name is Ada").returncode == 0
    ollama_server.reply("You are Ada.")
    child = cli.spawn("--session", sid)
    child.expect(PROMPT)
    child.sendline("who am I?")
    child.expect("You are Ada.")
    child.expect(PROMPT)
    assert finish(child) == 0
    sent = [(m["role"], m["content"]) for m in ollama_server.chat_requests[-1].body["messages"]]
    assert sent == [("user", "my name is Ada"), ("assistant", "Noted."), ("user", "who am I?")]
    assert [s.session_id for s in SessionStore(real_redis, key_prefix).list()] == [sid]

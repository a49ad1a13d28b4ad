"""/code as a new user meets it: --json without a terminal is a dry run with the diffs, /undo of a
created file says it deleted it, and a fallback route's notice is said once per run."""

from __future__ import annotations

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry


def coder_scene(cli, ollama_server, real_redis, key_prefix, model_type="coder"):
    ollama_server.add_model("coder-7b")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model(model_type, ollama_server.url,
                                                               "coder-7b", timeout=10)
    (cli.cwd / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    ollama_server.reply_tool_call("read_file", {"path": "calc.py"})
    ollama_server.reply_tool_call("edit_file", {"path": "calc.py", "old_text": "a - b",
                                                "new_text": "a + b"})
    ollama_server.reply("Fixed.")


def test_json_code_without_terminal_or_yes_is_a_dry_run_with_diffs(cli, ollama_server,
                                                                   real_redis, key_prefix):
    coder_scene(cli, ollama_server, real_redis, key_prefix)
    result = cli.json("code", "fix add in calc.py")
    assert result["dry_run"] is True and "nothing was applied" in result["message"]
    assert result["applied"] == [] and result["declined"] == []
    [proposal] = result["proposed"]
    assert proposal["path"] == "calc.py"
    assert "-    return a - b" in proposal["diff"] and "+    return a + b" in proposal["diff"]
    assert (cli.cwd / "calc.py").read_text().endswith("a - b\n")


def test_undo_of_a_created_file_says_it_was_deleted(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("coder-7b")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("coder", ollama_server.url,
                                                               "coder-7b", timeout=10)
    ollama_server.reply_tool_call("write_file", {"path": "new.py", "content": "x = 1\n"})
    ollama_server.reply("Created.")
    assert cli.run("code", "create new.py", "--yes").returncode == 0
    assert (cli.cwd / "new.py").exists()
    proc = cli.run("undo")
    assert proc.returncode == 0, proc.stderr
    assert "Deleted new.py" in proc.stdout and "Restored" not in proc.stdout
    assert not (cli.cwd / "new.py").exists()
    assert cli.json("undo", expect=1)["error"].startswith("Nothing to undo")


def test_a_fallback_notice_is_said_once_per_code_run_in_one_line(cli, ollama_server, real_redis,
                                                                  key_prefix):
    coder_scene(cli, ollama_server, real_redis, key_prefix, model_type="general")
    proc = cli.run("code", "fix add in calc.py", "--yes")
    assert proc.returncode == 0, proc.stderr
    notices = [line for line in proc.stderr.splitlines() if "for code" in line]
    assert len(notices) == 1 and notices[0].startswith("ℹ Using general model coder-7b")
    assert len(ollama_server.chat_requests) == 3  # three requests, one notice

"""`ai-cli log`, `ai-cli model stats`, the `model list` speed column and `session show`'s usage
lines, as real processes over a real Redis and the Ollama-protocol test server (which reports a
1,024-token window and its own prompt_eval_count / eval_count)."""

from __future__ import annotations

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

LOG_FIELDS = {"time", "session_id", "model_id", "model_name", "url", "via", "input_tokens",
              "output_tokens", "ttft_ms", "total_ms", "tokens_per_s", "trimmed", "status",
              "message_id", "prompt", "response", "failure"}


def add_general(real_redis, key_prefix, server, name="llama3", active=True):
    server.add_model(name)
    server.context_length = 1024
    return ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", server.url, name, timeout=10, set_active=active)


def test_log_json_reports_exactly_the_servers_counts(cli, ollama_server, real_redis, key_prefix):
    model = add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("one", "two")
    assert cli.run("chat", "first question").returncode == 0
    ollama_server.reply("a", "b", "c")
    assert cli.run("chat", "second question").returncode == 0
    entries = cli.json("log")
    assert [set(e) for e in entries] == [LOG_FIELDS, LOG_FIELDS]
    newest, oldest = entries
    for entry, counts in zip((newest, oldest), reversed(ollama_server.counts)):
        assert entry["input_tokens"] == counts["prompt_eval_count"]
        assert entry["output_tokens"] == counts["eval_count"]
    assert (newest["output_tokens"], oldest["output_tokens"]) == (3, 2)
    assert newest["model_id"] == model.model_id and newest["url"] == ollama_server.url
    assert newest["status"] == "ok" and newest["via"] == "active"
    assert newest["session_id"] is not None  # a one-shot chat is logged, in its own session
    assert cli.json("log", "-n", "1") == [newest] == cli.json("log", "--count", "1")
    assert cli.json("log", "--model", "llama3") == entries
    assert cli.json("log", "--model", "mistral") == []
    proc = cli.run("log", "--count", "zero")
    assert proc.returncode == 2 and "--count" in proc.stderr


def test_model_stats_json_per_model_and_per_host(cli, ollama_servers, real_redis, key_prefix):
    fast, slow = ollama_servers(2)
    first = add_general(real_redis, key_prefix, fast, "llama3")
    add_general(real_redis, key_prefix, slow, "mistral", active=False)
    for _ in range(3):
        fast.reply("x", "y")
        assert cli.run("chat", "q").returncode == 0
    fast.chat_mode = "die_mid_stream"  # the fourth answer breaks off
    assert cli.run("chat", "q").returncode == 1
    fast.chat_mode = None
    fast.remove_model("llama3")  # the probe finds it gone: mistral answers
    proc = cli.run("chat", "q")
    assert proc.returncode == 0
    report = cli.json("model", "stats")
    assert report["entries"] == 5
    stats = {s["model_name"]: s for s in report["models"]}
    llama = stats["llama3"]
    assert llama["model_ids"] == [first.model_id] and llama["hosts"] == [fast.url[7:]]
    assert (llama["requests"], llama["ok"], llama["stopped"]) == (4, 3, 0)
    assert llama["failures"] == {"broken": 1, "failed_over": 0}
    assert llama["success_rate"] == 0.75
    assert llama["tokens_per_s_p50"] == round(2 / 700_000 * 1e9, 1)
    assert llama["ttft_ms_p50"] is not None
    assert llama["ttft_ms_p90"] >= llama["ttft_ms_p50"]
    assert (llama["in_flight"], llama["cooling_down_until"]) == (0, None)  # none running now
    assert (stats["mistral"]["requests"], stats["mistral"]["success_rate"]) == (1, 1.0)
    hosts = {h["host"]: h for h in report["hosts"]}
    assert hosts[fast.url[7:]]["models"] == ["llama3"] and hosts[fast.url[7:]]["parallel"] == 1
    assert hosts[slow.url[7:]]["failures"] == {"broken": 0, "failed_over": 0}
    table = cli.run("model", "stats").stdout
    assert "Per model" in table and "Per host" in table
    assert "llama3" in table and "mistral" in table and "failed over" in table
    speed = f"{round(2 / 700_000 * 1e9, 1):,.1f} tok/s"
    assert speed in cli.run("model", "list").stdout


def test_session_show_prints_tokens_and_timing_per_answer(cli, ollama_server, real_redis,
                                                          key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    session = cli.json("session", "new")["session_id"]
    ollama_server.reply("Bonjour", " !")
    assert cli.run("--session", session, "chat", "hello").returncode == 0
    shown = cli.json("session", "show", session)
    usage = shown["messages"][1]["usage"]
    assert usage["input_tokens"] == ollama_server.counts[-1]["prompt_eval_count"]
    assert usage["output_tokens"] == 2 and usage["session_id"] == session
    text = cli.run("session", "show", session).stdout
    assert f"{usage['input_tokens']} → 2 tokens · first token" in text
    assert "tokens/s" in text
    assert [e["session_id"] for e in cli.json("log", "--session", session)] == [session]


def test_a_long_session_is_trimmed_with_one_notice(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    session = cli.json("session", "new")["session_id"]
    for i in range(12):
        ollama_server.reply(f"answer {i} " + "blah " * 40)
        question = f"question {i} " + "word " * 40
        assert cli.run("--session", session, "chat", question).returncode == 0
    proc = cli.run("--session", session, "chat", "the newest question")
    assert proc.returncode == 0, proc.stderr
    sent = ollama_server.chat_requests[-1].body
    assert sent["messages"][-1]["content"] == "the newest question"
    assert sent["options"]["num_ctx"] <= 1024
    assert ollama_server.counts[-1]["prompt_eval_count"] < sent["options"]["num_ctx"]
    notices = [line for line in proc.stderr.splitlines() if "to fit" in line]
    assert notices == [f"ℹ {25 - len(sent['messages'])} earlier messages left out to fit "
                       "llama3's 1,024-token window"]
    assert cli.json("log", "--count", "1")[0]["trimmed"] == 25 - len(sent["messages"])
    proc = cli.run("--session", session, "chat", "-o", "num_ctx", "4096", "again")  # overrides
    sent = ollama_server.chat_requests[-1].body
    assert proc.returncode == 0 and "to fit" not in proc.stderr
    assert sent["options"]["num_ctx"] == 4096 and len(sent["messages"]) == 27


def test_the_log_is_empty_not_an_error_when_the_key_holds_something_else(
        cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    real_redis.set(f"{key_prefix}log:answers", "something else")
    proc = cli.run("chat", "still answers?")
    assert proc.returncode == 0 and proc.stdout == "Hello from the test server.\n"
    assert cli.json("log") == [] and cli.json("model", "stats")["entries"] == 0
    assert "No answers logged yet" in cli.run("log").stdout

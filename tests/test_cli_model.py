"""`ai-cli model ...` as processes: every /model subcommand, its bad inputs, --json and exit codes."""

from __future__ import annotations

import json
import re

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

ANSI = re.compile(r"\x1b\[")


def registry_of(real_redis, key_prefix) -> ModelRegistry:
    return ModelRegistry(real_redis, key_prefix=key_prefix)


def snapshot(real_redis, key_prefix) -> dict:
    """Every model key (the migration's schema/migrated markers and the shipped presets the
    first start adds are not models)."""
    markers = {f"{key_prefix}models:schema", f"{key_prefix}models:migrated"}
    return {k: real_redis.type(k) for k in real_redis.scan_iter(f"{key_prefix}*")
            if k not in markers and not k.startswith(f"{key_prefix}presets:")}


def test_list_empty_says_how_to_add(cli):
    proc = cli.run("model", "list")
    assert proc.returncode == 0, proc.stderr
    assert "No models registered" in proc.stdout
    assert "'ai-cli model general add" in proc.stdout  # the shell form, in the shell
    assert cli.json("model", "list") == []


def test_add_checks_the_server_and_prints_the_seed_block(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3.1:8b")
    proc = cli.run("model", "general", "add", ollama_server.url, "llama3.1:8b", "--timeout", "45")
    assert proc.returncode == 0, proc.stderr
    assert "Checking availability" in proc.stderr
    assert "Model registered successfully!" in proc.stdout
    for label in ("ID: model_", "Type: general", "Model: llama3.1:8b",
                  f"URL: {ollama_server.url}", "Status: Active"):
        assert label in proc.stdout
    assert "You can now start chatting!" in proc.stdout
    assert not ANSI.search(proc.stdout + proc.stderr)  # NO_COLOR and not a terminal
    active = registry_of(real_redis, key_prefix).get_active_model("general")
    assert (active.model_name, active.timeout, active.is_available) == ("llama3.1:8b", 45, True)


def test_add_json_is_the_model(cli, ollama_server):
    ollama_server.add_model("qwen2.5-coder:7b")
    model = cli.json("model", "coder", "add", ollama_server.url + "/", "qwen2.5-coder:7b")
    assert set(model) == {"model_id", "model_type", "url", "model_name", "timeout", "is_active",
                          "added_at", "last_checked", "is_available", "num_ctx", "parallel",
                          "capabilities", "capabilities_source", "capabilities_user"}
    assert model["num_ctx"] is None and model["parallel"] == 1
    assert model["model_type"] == "coder" and model["url"] == ollama_server.url
    assert model["timeout"] == 30 and model["is_active"] is True and model["is_available"] is True
    assert re.fullmatch(r"model_[0-9a-f]{8}", model["model_id"])


def test_add_refuses_a_model_the_server_lacks(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("other")
    proc = cli.run("model", "general", "add", ollama_server.url, "llama3")
    assert proc.returncode == 1
    assert "Not added" in proc.stderr and "ollama pull llama3" in proc.stderr
    assert "--force" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(real_redis, key_prefix) == {}
    error = cli.json("model", "general", "add", ollama_server.url, "llama3", expect=1)
    assert set(error) == {"error"} and "ollama pull llama3" in error["error"]


def test_add_refuses_an_unreachable_server_unless_forced(cli, dead_url, real_redis, key_prefix):
    proc = cli.run("model", "general", "add", dead_url, "llama3")
    assert proc.returncode == 1
    assert "refused" in proc.stderr and dead_url in proc.stderr
    assert snapshot(real_redis, key_prefix) == {}
    forced = cli.run("model", "general", "add", dead_url, "llama3", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Model registered successfully!" in forced.stdout
    assert "Added without a working server" in forced.stderr
    model = registry_of(real_redis, key_prefix).get_active_model("general")
    assert model.url == dead_url and model.is_available is False


def test_force_may_come_before_the_command_words(cli, dead_url):
    model = cli.json("--force", "model", "coder", "add", dead_url, "m1")
    assert model["is_available"] is False


def test_add_no_activate_keeps_the_active_model(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("a")
    ollama_server.add_model("b")
    ollama_server.add_model("c")
    first = cli.json("model", "general", "add", ollama_server.url, "a")
    second = cli.json("model", "general", "add", ollama_server.url, "b", "--no-activate")
    assert second["is_active"] is False
    proc = cli.run("model", "general", "add", ollama_server.url, "c", "--no-activate")
    assert "'ai-cli model general use model_" in proc.stdout
    assert registry_of(real_redis, key_prefix).get_active_model("general").model_id == first["model_id"]


BAD_ADDS = [
    (["model", "general", "add", "ftp://localhost:11434", "m"], "must start with http"),
    (["model", "general", "add", "http://127.0.0.1:1", "m", "--timeout", "0"], "timeout"),
    (["model", "general", "add", "http://127.0.0.1:1", "m", "--timeout", "abc"], "timeout"),
    (["model", "general", "add", "http://127.0.0.1:1", "m", "--timeout"], "needs a value"),
    (["model", "general", "add", "http://127.0.0.1:1"], "Missing <model_name>"),
    (["model", "general", "add", "http://127.0.0.1:1", "m", "extra"], "Unexpected 'extra'"),
    (["model", "general", "add", "http://127.0.0.1:1", "m", "--bogus"], "Unknown option '--bogus'"),
    (["model", "chat", "add", "http://127.0.0.1:1", "m"], "Unknown model type 'chat'"),
    (["model", "general", "zap"], "is not a command"),
    (["sesion", "list"], "Unknown command"),
    (["model", "general", "use"], "Missing <model_id>"),
    (["model", "general", "discover", "ftp://x"], "must start with http"),
    (["--config"], "needs a value"),
]


def test_bad_usage_exits_2_with_one_line_and_changes_nothing(cli, real_redis, key_prefix):
    for args, expected in BAD_ADDS:
        proc = cli.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert expected in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
        assert proc.stdout == ""
        error = json.loads(cli.run(*args, "--json").stdout)
        assert expected in error["error"]
    assert snapshot(real_redis, key_prefix) == {}


def test_list_shows_a_table_and_filters_by_type(cli, ollama_server):
    ollama_server.add_model("llama3")
    ollama_server.add_model("coder7b")
    general = cli.json("model", "general", "add", ollama_server.url, "llama3")
    coder = cli.json("model", "coder", "add", ollama_server.url, "coder7b", "--timeout", "90")
    proc = cli.run("model", "list")
    assert proc.returncode == 0
    for column in ("ID", "Type", "Model", "Host", "Timeout", "Availability", "Checked"):
        assert column in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if coder["model_id"] in line)
    assert "●" in row and "coder7b" in row and "90s" in row and "reachable" in row
    # Oldest first; two models added in the same second are ordered by id.
    assert {m["model_id"] for m in cli.json("model", "list")} == {general["model_id"], coder["model_id"]}
    assert [m["model_id"] for m in cli.json("model", "coder", "list")] == [coder["model_id"]]
    assert "No coder models" not in cli.run("model", "coder", "list").stdout


def test_piped_list_keeps_long_names_whole(cli, ollama_server):
    """Piped output has no terminal width; the table must not cut ids, names or URLs to '…'."""
    name = "library/a-rather-long-model-name-for-a-table:70b-instruct-q4_K_M"
    url = ollama_server.url + "/behind/a/long/reverse/proxy/path"
    added = cli.json("model", "general", "add", url, name, "--force")
    del cli.env["COLUMNS"]  # as in a real pipe
    listed = cli.run("model", "list").stdout
    row = next(line for line in listed.splitlines() if added["model_id"] in line)
    # the host and the proxy's path, without the scheme (docs/MODEL_MANAGEMENT.md, `list`); the
    # name on this row, or on its model's line above it when the list is stacked
    assert url.removeprefix("http://") in row and name in listed and "…" not in listed


def test_use_switches_and_refuses_unknown_or_wrong_type(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("a")
    ollama_server.add_model("b")
    a = cli.json("model", "general", "add", ollama_server.url, "a")
    b = cli.json("model", "general", "add", ollama_server.url, "b")
    used = cli.json("model", "general", "use", a["model_id"])
    assert used["model_id"] == a["model_id"] and used["is_active"] is True
    assert registry_of(real_redis, key_prefix).get_active_model("general").model_id == a["model_id"]
    proc = cli.run("model", "general", "use", b["model_id"])
    assert proc.returncode == 0 and "is now active" in proc.stdout
    unknown = cli.run("model", "general", "use", "model_00000000")
    assert unknown.returncode == 1 and "No model with id or name 'model_00000000'" in unknown.stderr
    wrong = cli.json("model", "coder", "use", a["model_id"], expect=1)
    assert "is a general model" in wrong["error"]
    assert registry_of(real_redis, key_prefix).get_active_model("general").model_id == b["model_id"]


def test_remove_returns_the_removed_model(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("a")
    a = cli.json("model", "general", "add", ollama_server.url, "a")
    proc = cli.run("model", "general", "remove", a["model_id"])
    assert proc.returncode == 0 and "removed" in proc.stdout
    assert "No general model is active now" in proc.stderr
    assert registry_of(real_redis, key_prefix).list_models() == []
    again = cli.json("model", "general", "remove", a["model_id"], expect=1)
    assert "No model with id" in again["error"]
    b = cli.json("model", "general", "add", ollama_server.url, "a")
    removed = cli.json("model", "general", "remove", b["model_id"])
    assert removed == {**b, "is_active": True}


def test_discover_lists_the_server_models(cli, ollama_server, dead_url):
    ollama_server.add_model("llama3")
    ollama_server.add_model("qwen2.5-coder:7b")
    found = cli.json("model", "general", "discover", ollama_server.url)
    assert found == {"url": ollama_server.url, "models": ["llama3:latest", "qwen2.5-coder:7b"]}
    proc = cli.run("model", "coder", "discover", ollama_server.url)
    assert "llama3:latest" in proc.stdout and "qwen2.5-coder:7b" in proc.stdout
    down = cli.run("model", "general", "discover", dead_url)
    assert down.returncode == 1 and "refused" in down.stderr


def test_check_probes_every_model_and_the_fallback(cli, ollama_servers, real_redis, key_prefix):
    up, down = ollama_servers(2)
    up.add_model("a")
    down.add_model("b")
    a = cli.json("model", "general", "add", up.url, "a")
    b = cli.json("model", "coder", "add", down.url, "b")
    down.mode = "down"
    results = cli.json("model", "check")
    by_id = {r["model_id"]: r for r in results}
    assert set(by_id) == {a["model_id"], b["model_id"], None}
    assert by_id[a["model_id"]]["is_available"] is True
    assert by_id[b["model_id"]]["is_available"] is False and "refused" in by_id[b["model_id"]]["reason"]
    assert by_id[None]["is_available"] is False
    assert registry_of(real_redis, key_prefix).get_model(b["model_id"]).is_available is False
    one = cli.json("model", "check", a["model_id"])
    assert [r["model_id"] for r in one] == [a["model_id"]]
    table = cli.run("model", "check")
    assert "fallback" in table.stdout and "unreachable" in table.stdout
    missing = cli.run("model", "check", "model_00000000")
    assert missing.returncode == 1 and "No model with id" in missing.stderr


def test_markup_in_a_model_name_is_shown_literally(cli, dead_url):
    cli.json("model", "general", "add", dead_url, "[bold]evil[/bold]", "--force")
    proc = cli.run("model", "list")
    assert "[bold]evil[/bold]" in proc.stdout


def test_redis_down_gives_one_line_naming_the_url(cli, dead_url):
    down = dead_url.replace("http://", "redis://")
    proc = cli.run("model", "list", env={"AI_CLI_REDIS_URL": down})
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and down in proc.stderr
    assert "unreachable" in proc.stderr
    error = cli.json("model", "general", "add", "http://127.0.0.1:9", "m", expect=1,
                     env={"AI_CLI_REDIS_URL": down})
    assert down in error["error"]


def test_version_and_help(cli):
    assert cli.run("--version").stdout.strip() == "ai-cli 1.0.0"
    helped = cli.run("--help")
    assert helped.returncode == 0 and "ai-cli model {general|coder|embedding} add" in helped.stdout
    one = cli.run("model", "general", "add", "--help")
    assert one.returncode == 0 and "--no-activate" in one.stdout
    assert cli.run("nothing", "--help").returncode == 2


def test_model_list_does_not_import_langchain(cli):
    probe = ("import runpy, sys; sys.argv = ['ai-cli', 'model', 'list', '--json']\n"
             "try:\n    runpy.run_module('cli', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'ollama', "
             "'fastapi', 'uvicorn', 'starlette'))),"
             " file=sys.stderr)")
    import subprocess, sys
    proc = subprocess.run([sys.executable, "-c", probe], cwd=cli.cwd, env=cli.env,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]"
    assert proc.stderr.strip().splitlines()[-1] == "[]"

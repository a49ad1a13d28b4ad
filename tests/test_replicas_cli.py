"""One model on several hosts, through real `ai-cli` processes: `model list` (a model once, its
hosts beneath, uncut at 80 and 120 columns), `add` of a duplicate and of another host, every way
to name a model in `-m`, `use` and `remove`."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

pytestmark = pytest.mark.process

LONG = "hf.co/someone/a-very-long-repository-name-for-a-model-GGUF:Q4_K_M"


def fleet(cli, real_redis, key_prefix, ollama_servers, count=3, name="llama3.1:8b"):
    """`name` on `count` servers (the first active), mistral:7b on the first."""
    servers = ollama_servers(count)
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    entries = []
    for i, server in enumerate(servers):
        server.add_model(name)
        entries.append(registry.add_model("general", server.url, name, timeout=10,
                                          set_active=i == 0))
    servers[0].add_model("mistral:7b")
    mistral = registry.add_model("general", servers[0].url, "mistral:7b", timeout=10,
                                 set_active=False)
    return servers, entries, mistral


def host(server) -> str:
    return server.url.split("://", 1)[1]


@pytest.mark.parametrize("columns", [80, 120])
def test_list_shows_a_model_once_with_every_host_uncut(cli, real_redis, key_prefix,
                                                        ollama_servers, columns):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers, name=LONG)
    proc = cli.run("model", "list", env={"COLUMNS": str(columns)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= columns for line in lines)
    text = proc.stdout
    for server, entry in zip(servers, entries):
        assert host(server) in text and entry.model_id in text  # whole, on one line each
        assert "http://" + host(server) not in text  # host:port, not the scheme
    # the long name is folded at the width, never cut: its pieces join back whole
    assert LONG in "".join(line.strip(" │|") for line in lines) or LONG in text


@pytest.mark.parametrize("columns", [80, 120])
def test_list_names_the_model_once(cli, real_redis, key_prefix, ollama_servers, columns):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers)
    proc = cli.run("model", "list", env={"COLUMNS": str(columns)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("llama3.1:8b") == 1
    for server, entry in zip(servers, entries):
        assert host(server) in proc.stdout and entry.model_id in proc.stdout


def test_list_json_gives_each_entry_its_model_s_replicas(cli, real_redis, key_prefix,
                                                         ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    listed = {m["model_id"]: m for m in cli.json("model", "list")}
    assert set(listed) == {e.model_id for e in entries} | {mistral.model_id}
    replicas = listed[entries[1].model_id]["replicas"]
    # oldest first, as the registry lists entries (ties within a second: by id)
    assert {r["model_id"]: r["host"] for r in replicas} == {
        e.model_id: host(s) for e, s in zip(entries, servers)}
    assert all(listed[e.model_id]["replicas"] == replicas for e in entries)
    for replica in replicas:
        assert set(replica) == {"model_id", "host", "url", "is_active", "is_available",
                                "last_checked", "in_flight", "ttft_p50_ms", "success_rate"}
        assert replica["is_active"] is (replica["model_id"] == entries[0].model_id)
        assert replica["in_flight"] == 0 and replica["url"].startswith("http://")
    assert [r["model_id"] for r in listed[mistral.model_id]["replicas"]] == [mistral.model_id]


def test_adding_the_same_url_and_model_again_changes_nothing(cli, real_redis, key_prefix,
                                                             ollama_servers):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers, count=1)
    before = cli.json("model", "list")
    again = cli.json("model", "general", "add", servers[0].url + "/", "llama3.1:8b")
    assert again["already"] is True and again["model_id"] == entries[0].model_id
    assert cli.json("model", "list") == before
    said = cli.run("model", "general", "add", servers[0].url, "llama3.1:8b")
    assert said.returncode == 0 and "already registered" in said.stdout
    assert "nothing changed" in said.stdout
    assert cli.json("model", "list") == before
    # another type is another registration
    coder = cli.json("model", "coder", "add", servers[0].url, "llama3.1:8b")
    assert "already" not in coder and coder["model_type"] == "coder"


def test_adding_the_model_on_a_new_host_says_how_many_serve_it(cli, real_redis, key_prefix,
                                                               ollama_servers):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers, count=2)
    (third,) = ollama_servers(1)
    third.add_model("llama3.1:8b")
    proc = cli.run("model", "general", "add", third.url, "llama3.1:8b", "--no-activate")
    assert proc.returncode == 0, proc.stderr
    assert "now served by 3 hosts" in proc.stdout


def test_chat_by_the_name_of_a_model_on_three_hosts(cli, real_redis, key_prefix,
                                                    ollama_servers):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers)
    for server in servers:
        server.reply("hello")
    proc = cli.run("chat", "-m", "llama3.1:8b", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello"


def test_chat_by_name_at_host_id_prefix_and_tagless_name(cli, real_redis, key_prefix,
                                                         ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    for server in servers:
        server.reply("hello")
    answered = cli.json("chat", "-m", f"llama3.1:8b@{host(servers[2])}", "hi")
    assert answered["route"]["model"]["model_id"] == entries[2].model_id
    assert [r.model for r in servers[2].chat_requests] == ["llama3.1:8b"]
    prefix = entries[1].model_id[:10]
    answered = cli.json("chat", "-m", prefix, "hi")
    assert answered["route"]["model"]["model_id"] == entries[1].model_id
    answered = cli.json("chat", "-m", "mistral", "hi")
    assert answered["route"]["model"]["model_id"] == mistral.model_id


def test_naming_errors_are_one_line_and_exit_2_or_1(cli, real_redis, key_prefix,
                                                    ollama_servers):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers)
    wrong_host = cli.run("chat", "-m", "llama3.1:8b@127.0.0.1:9", "hi")
    assert wrong_host.returncode == 1
    assert all(host(s) in wrong_host.stderr for s in servers)
    assert len(wrong_host.stderr.strip().splitlines()) == 1
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    registry.add_model("general", servers[1].url, "mistral:instruct", timeout=5,
                       set_active=False)
    ambiguous = cli.run("chat", "-m", "mistral", "hi")
    assert ambiguous.returncode == 2
    assert f"mistral:7b @ {host(servers[0])}" in ambiguous.stderr
    assert f"mistral:instruct @ {host(servers[1])}" in ambiguous.stderr


def test_use_of_a_name_on_several_hosts_picks_one_that_answers(cli, real_redis, key_prefix,
                                                               ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    cli.json("model", "general", "use", "mistral")
    servers[0].mode = "down"
    used = cli.json("model", "general", "use", "llama3.1:8b")
    # never the host that is down; which of the two others comes first is the registry's order
    assert used["model_id"] in {entries[1].model_id, entries[2].model_id}
    assert used["is_active"] is True


def test_remove_of_a_name_on_several_hosts_asks_for_one(cli, real_redis, key_prefix,
                                                        ollama_servers):
    servers, entries, _ = fleet(cli, real_redis, key_prefix, ollama_servers)
    refused = cli.run("model", "remove", "llama3.1:8b")
    assert refused.returncode == 2 and "served by 3 hosts" in refused.stderr
    assert "llama3.1:8b@HOST" in refused.stderr
    assert len(cli.json("model", "list")) == 4  # nothing removed
    removed = cli.json("model", "remove", f"llama3.1:8b@{host(servers[1])}")
    assert removed["model_id"] == entries[1].model_id
    assert len(cli.json("model", "list")) == 3



def test_chat_by_name_with_a_host_down_answers_from_another_and_says_which(
        cli, real_redis, key_prefix, ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    for server in servers:
        server.reply("hello")
    servers[0].chat_mode = "hang"  # the active host; its /api/tags still answers
    assert cli.run("model", "general", "balance", "off").returncode == 0  # active host first
    ModelRegistry(real_redis, key_prefix=key_prefix).update_availability(mistral.model_id, True)
    real_redis.hset(f"{key_prefix}models:{entries[0].model_id}", "timeout", "1")
    proc = cli.run("chat", "-m", "llama3.1:8b", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello"
    answered = [s for s in servers[1:] if s.chat_requests]
    assert len(answered) == 1 and f"same model on {host(answered[0])}" in proc.stderr
    assert [r.model for r in servers[0].chat_requests if r.model == "mistral:7b"] == []


def test_chat_pinned_to_a_host_that_is_down_says_so_and_asks_no_other(
        cli, real_redis, key_prefix, ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    for server in servers:
        server.reply("hello")
    servers[1].mode = "down"
    proc = cli.run("chat", "-m", f"llama3.1:8b@{host(servers[1])}", "hi")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "pinned" in proc.stderr and host(servers[1]) in proc.stderr
    assert "-m llama3.1:8b" in proc.stderr
    assert [len(s.chat_requests) for s in servers] == [0, 0, 0]



def test_check_of_a_name_probes_every_host_of_it(cli, real_redis, key_prefix, ollama_servers):
    servers, entries, mistral = fleet(cli, real_redis, key_prefix, ollama_servers)
    servers[2].mode = "down"
    rows = cli.json("model", "check", "llama3.1:8b")
    assert {r["model_id"]: r["is_available"] for r in rows} == {
        entries[0].model_id: True, entries[1].model_id: True, entries[2].model_id: False}
    (one,) = cli.json("model", "check", f"llama3.1:8b@{host(servers[1])}")
    assert one["model_id"] == entries[1].model_id

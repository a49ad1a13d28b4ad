"""Balancing seen from the outside, through real `ai-cli` processes: `model list` (JSON and at
80 columns) and `model stats` show each host's in-flight requests, p50 time to first token,
success rate and cooldown; `model TYPE balance on|off` and `routing.balance` in config.yaml."""

from __future__ import annotations

import time

import pytest

from ollama_fixtures import dead_url, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.fleet_state import FleetState
from registry.manager import ModelRegistry

pytestmark = pytest.mark.process

NAME = "llama3.1:8b"


@pytest.fixture
def two_hosts(cli, real_redis, key_prefix, ollama_servers):
    servers = ollama_servers(2)
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    entries = []
    for i, server in enumerate(servers):
        server.add_model(NAME)
        entries.append(registry.add_model("general", server.url, NAME, timeout=10,
                                          set_active=i == 0))
    return servers, entries, FleetState(registry)


def test_list_json_gives_each_host_its_load(cli, two_hosts):
    servers, entries, fleet = two_hosts
    assert cli.run("model", "general", "balance", "off").returncode == 0  # a answers
    assert cli.run("chat", "hi").returncode == 0
    lease = fleet.take(entries[1].model_id, 60)  # a request running on b right now
    listed = cli.json("model", "list")
    replicas = {r["model_id"]: r for r in listed[0]["replicas"]}
    a, b = replicas[entries[0].model_id], replicas[entries[1].model_id]
    assert (a["in_flight"], a["success_rate"]) == (0, 1.0) and a["ttft_p50_ms"] is not None
    assert (b["in_flight"], b["success_rate"], b["ttft_p50_ms"]) == (1, None, None)
    fleet.release(lease)


def test_list_at_80_columns_shows_each_host_s_load_uncut(cli, two_hosts):
    servers, entries, fleet = two_hosts
    assert cli.run("model", "general", "balance", "off").returncode == 0
    assert cli.run("chat", "hi").returncode == 0
    fleet.take(entries[1].model_id, 60)
    out = cli.run("model", "list", env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "1 in flight" in out and "100% ok" in out and "p50 " in out


def test_stats_show_in_flight_and_a_host_cooling_down(cli, two_hosts):
    servers, entries, fleet = two_hosts
    for entry in entries:  # one answer from each host: both are in the log
        assert cli.run("chat", "-m", f"{NAME}@{entry.host}", "hi").returncode == 0
    fleet.take(entries[0].model_id, 60)
    fleet.take(entries[1].model_id, 60)
    fleet.store_cooldown(entries[1].model_id, 120, time.time() + 120)
    report = cli.json("model", "stats")
    assert report["models"][0]["in_flight"] == 2
    hosts = {h["host"]: h for h in report["hosts"]}
    assert hosts[entries[0].host]["cooling_down_until"] is None
    assert hosts[entries[1].host]["cooling_down_until"] is not None
    assert [hosts[e.host]["in_flight"] for e in entries] == [1, 1]
    table = cli.run("model", "stats", env={"COLUMNS": "120"})
    assert f"{entries[1].host} is cooling down until" in table.stderr
    assert "in flight" in table.stdout


def test_balance_on_off_is_stored_and_said(cli, two_hosts):
    assert cli.json("model", "general", "balance") == {
        "model_type": "general", "balance": True, "source": "config"}
    off = cli.run("model", "general", "balance", "off")
    assert off.returncode == 0 and "off" in off.stdout
    assert cli.json("model", "general", "balance")["balance"] is False
    assert cli.json("model", "coder", "balance")["balance"] is True  # per type
    wrong = cli.run("model", "general", "balance", "maybe")
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1
    assert cli.json("model", "general", "balance")["balance"] is False  # nothing changed


def test_routing_balance_false_in_config_turns_it_off_until_the_command_says_on(cli, two_hosts):
    servers, entries, fleet = two_hosts
    cli.write_config(routing={"balance": False})
    assert cli.json("model", "general", "balance") == {
        "model_type": "general", "balance": False, "source": "config"}
    for _ in range(6):
        assert cli.run("chat", "hi").returncode == 0
    assert [len(s.chat_requests) for s in servers] == [6, 0]
    assert cli.json("model", "general", "balance", "on")["source"] == "command"

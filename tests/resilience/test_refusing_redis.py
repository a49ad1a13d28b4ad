"""A Redis that answers but refuses writes — out of memory under `noeviction`, a read-only
replica, a failed background save (MISCONF) — and a Redis that is unreachable or refuses the
password: one line saying which, chat still answers through the Ollama test server, and the
router never claims "No general model available" for them.

Each test runs its own redis-server(s), sets the fault up with real commands and reads the
setting back from the server (CONFIG GET, INFO), then runs `ai-cli` as a real process.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from redis_process import RedisProcess
from registry.connection.embedded import redis_server_binary
from registry.errors import RegistryRefusesWrites
from registry.manager import ModelRegistry
from test_cli_support import make_cli

pytestmark = pytest.mark.process

PREFIX = "t:"


def clean(proc, codes=(0,)):
    assert proc.returncode in codes, (proc.returncode, proc.stdout, proc.stderr)
    for text in (proc.stdout, proc.stderr):
        assert "Unexpected error" not in text and "Traceback" not in text, text
    return proc


def errors(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("✗")]


@pytest.fixture
def server(tmp_path):
    (tmp_path / "main").mkdir()
    with RedisProcess(tmp_path / "main", "main.sock") as started:
        yield started


def cli_on(tmp_path, url, dead_url):
    cli = make_cli(tmp_path, url, PREFIX, dead_url)
    cli.write_config(redis={"url": url})
    return cli


def registered(client, ollama_server) -> str:
    """A sound active general model on the test server, written while Redis still takes writes."""
    ollama_server.add_model("good")
    model = ModelRegistry(client, key_prefix=PREFIX).add_model("general", ollama_server.url, "good")
    client.set(f"{PREFIX}models:migrated", "2026-11-24T10:00:00+00:00")
    return model.model_id


def fill_past(client, megabytes: int) -> None:
    """Filler (outside the registry's prefix), so the server holds more than `megabytes`."""
    chunk = "x" * 64 * 1024
    for n in range(megabytes * 16 + 16):
        client.set(f"filler:{n}", chunk)


def assert_refuses_and_chat_answers(cli, ollama_server, client, model_id, words):
    # another model: adding "good" again would write nothing, and so be refused nothing
    added = clean(cli.run("model", "general", "add", ollama_server.url, "another", "--force"),
                  codes=(1,))
    assert len(errors(added)) == 1 and words in errors(added)[0], added.stderr
    assert "refuses writes" in errors(added)[0] and "nothing was changed" in errors(added)[0]
    used = clean(cli.run("model", "general", "use", model_id), codes=(1,))
    assert len(errors(used)) == 1 and words in errors(used)[0], used.stderr
    listed = clean(cli.run("model", "list", "--json"))
    assert model_id in listed.stdout
    ollama_server.reply("still answering")
    chat = clean(cli.run("chat", "hello"))
    assert "still answering" in chat.stdout
    said = [line for line in chat.stderr.splitlines() if "refuses writes" in line]
    assert len(said) == 1 and words in said[0], chat.stderr  # the log and probe, said once
    ollama_server.reply("answering in the REPL")
    repl = clean(cli.run(input="hello\n/quit\n"))  # its session cannot be saved: said once
    assert "answering in the REPL" in repl.stdout
    assert words in repl.stdout + repl.stderr
    session = clean(cli.run("session", "new"), codes=(1,))
    assert len(errors(session)) == 1 and words in errors(session)[0], session.stderr


def test_out_of_memory_under_noeviction(tmp_path, server, dead_url, ollama_server):
    client = redis.Redis.from_url(server.url, decode_responses=True)
    model_id = registered(client, ollama_server)
    fill_past(client, 2)  # then a limit below what it holds: every write is refused
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1mb")
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert client.config_get("maxmemory") == {"maxmemory": str(1024 * 1024)}
    assert client.info("memory")["used_memory"] > 1024 * 1024
    with pytest.raises(RegistryRefusesWrites):
        ModelRegistry(client, key_prefix=PREFIX).set_active_model(model_id)
    cli = cli_on(tmp_path, server.url, dead_url)
    assert_refuses_and_chat_answers(cli, ollama_server, client, model_id, "out of memory")


def test_a_read_only_replica(tmp_path, server, dead_url, ollama_server):
    primary = redis.Redis.from_url(server.url, decode_responses=True)
    model_id = registered(primary, ollama_server)
    (tmp_path / "replica").mkdir()
    with RedisProcess(tmp_path / "replica", "replica.sock") as replica_server:
        replica = redis.Redis.from_url(replica_server.url, decode_responses=True)
        # The replica reaches its primary over TCP: give the primary a loopback port.
        tcp = _free_port()
        primary.config_set("port", str(tcp))
        replica.execute_command("REPLICAOF", "127.0.0.1", str(tcp))
        assert replica.config_get("replica-read-only") == {"replica-read-only": "yes"}
        _wait_for(lambda: replica.info("replication").get("master_link_status") == "up"
                  and replica.exists(f"{PREFIX}models:{model_id}"))
        cli = cli_on(tmp_path, replica_server.url, dead_url)
        assert_refuses_and_chat_answers(cli, ollama_server, replica, model_id, "read-only replica")


def test_a_failed_background_save_misconf(tmp_path, server, dead_url, ollama_server):
    client = redis.Redis.from_url(server.url, decode_responses=True)
    model_id = registered(client, ollama_server)
    gone = tmp_path / "gone"
    gone.mkdir()
    client.config_set("dir", str(gone))
    client.config_set("save", "3600 1")  # MISCONF applies only to a server with save points
    client.config_set("stop-writes-on-bgsave-error", "yes")
    assert client.config_get("stop-writes-on-bgsave-error") == {
        "stop-writes-on-bgsave-error": "yes"}
    assert client.config_get("save") == {"save": "3600 1"}
    shutil.rmtree(gone)  # the save cannot create its file: BGSAVE fails
    client.bgsave()
    _wait_for(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "err"
              and not client.info("persistence")["rdb_bgsave_in_progress"])
    try:
        cli = cli_on(tmp_path, server.url, dead_url)
        assert_refuses_and_chat_answers(cli, ollama_server, client, model_id,
                                        "save to disk failed")
    finally:  # saving again, so the server stops when asked
        client.config_set("save", "")
        client.config_set("stop-writes-on-bgsave-error", "no")


def test_an_unreachable_redis_is_never_no_model_configured(tmp_path, dead_url, ollama_server):
    cli = cli_on(tmp_path, f"unix://{tmp_path / 'nothing.sock'}", dead_url)
    chat = clean(cli.run("chat", "hello"), codes=(1,))
    assert "unreachable" in chat.stderr
    assert "No general model available" not in chat.stderr
    assert "model general add" not in chat.stderr
    status = clean(cli.run("model", "status"), codes=(1,))  # no route can answer: rc 1
    assert "unreachable" in status.stderr and "No general model available" not in status.stderr


def test_a_refused_password_is_never_no_model_configured(tmp_path, dead_url, ollama_server):
    socket = tmp_path / "auth.sock"
    proc = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(socket),
                             "--requirepass", "right-pass", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: socket.exists())
        cli = cli_on(tmp_path, f"unix://:wrong-pass@{socket}", dead_url)
        chat = clean(cli.run("chat", "hello"), codes=(1,))
        assert "Authentication failed" in chat.stderr
        assert "No general model available" not in chat.stderr
        assert "wrong-pass" not in chat.stderr
        status = clean(cli.run("model", "status"), codes=(1,))  # no route can answer: rc 1
        assert "Authentication failed" in status.stderr
        assert "No general model available" not in status.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, attempts: int = 500) -> None:
    import time

    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the condition never held")


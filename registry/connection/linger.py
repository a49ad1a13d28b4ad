"""The embedded Redis lingers after its last client, so scripts that call `ai-cli` in a loop do
not start and stop a server on every call (that start and its `SHUTDOWN SAVE` are what a command
with no server running pays above one with a server held: bench/README.md).

Every ai-cli process that connects to the embedded server makes sure this watcher runs (one per
data dir: it holds `linger.lock` for its life, so a stale `linger.pid` naming a reused pid can
never stop a new one): `python -S registry/connection/linger.py DATA_DIR SOCKET SECONDS`, detached,
in a session of its own. It does not rely on anyone's exit handler: each ai-cli process holds a
shared lock on `redis.users` for its life, which the kernel drops however the process ends
(exit, SIGHUP of its terminal, SIGTERM, `kill -9`). Every `POLL` seconds the watcher looks: once
no process holds that lock and no other client (a `redis-cli` counts) has been connected for
`SECONDS`, it takes the users lock exclusively (so nobody connects meanwhile), looks once more,
and stops the server with `SHUTDOWN SAVE`.

Nothing can be lost by lingering: the server saves within a second of every change (`--save 1 1`)
and again on `SHUTDOWN SAVE`; a server that cannot save refuses SHUTDOWN SAVE and runs on. If the
watcher dies (kill -9), the server runs on until the next ai-cli process connects or leaves and
starts a new watcher. If the data dir is deleted (or deleted and made again) under it, there is
nothing to save into: the watcher stops the server with `SHUTDOWN NOSAVE`, and with SIGKILL if it
does not stop (the pid checked against the process's start time, never the pid alone).
The watcher also keeps `redis.log` bounded (`rotate_log`).

It runs as a script without site-packages, not `-m registry.connection.linger` (that would import
the `registry` package and redis-py with it), and speaks RESP on a raw socket (`Resp`): a watcher
costs one bare Python start, where redis-py's import alone would cost several times that in CPU
and memory for as long as it lingers (bench/README.md, "The linger's watcher"). So this file
imports nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket as sockets
import subprocess
import sys
import time
from pathlib import Path

NAME = "ai-cli-linger"  # the watcher's client name; clients of that name are not users
POLL = 0.5  # seconds between looks at the client list
DEFAULT_LINGER = 30.0  # seconds after the last client (config: redis.embedded_linger)
PIDFILE = "linger.pid"  # for people and tests: which process watches; never trusted alone
WATCHER_LOCK = "linger.lock"  # held by the one watcher for its life
OWNER_LOCK = "redis.lock"  # held by the server for its life (embedded.py)
USERS_LOCK = "redis.users"  # shared by every ai-cli process using the server (embedded.py)
LOG_LIMIT = 1_000_000  # bytes of redis.log before it is rotated to redis.log.1 (one kept)
STOP_WAIT = 5.0  # seconds a server told SHUTDOWN NOSAVE gets before SIGKILL
REFUSED_BACKOFF = 5.0  # seconds before asking a server that refused SHUTDOWN SAVE again


def user_clients(client_names: list[str]) -> list[str]:
    """The clients that keep the server in use: every one but watchers (and unnamed admin
    connections count, as a `redis-cli` a user left open should). Pure."""
    return [name for name in client_names if not name.startswith(NAME)]


def watching(client_names: list[str]) -> bool:
    """Whether a watcher is connected already. Pure."""
    return any(name.startswith(NAME) for name in client_names)


def idle_long_enough(last_used: float, now: float, linger: float) -> bool:
    """True once nobody has used the server for `linger` seconds. Pure."""
    return now - last_used >= linger


def same_dir(seen: tuple[int, int] | None, now: tuple[int, int] | None) -> bool:
    """Whether the data dir is still the one the server started in: not deleted, not deleted
    and made again (a new inode). Pure."""
    return seen is not None and seen == now


def rotate_log(log: Path, limit: int = LOG_LIMIT) -> None:
    """Move `log` to `log.1` (replacing the older one) once it is over `limit` bytes. redis-server
    opens its log file for every line it writes, so it goes on in a new file at once."""
    with contextlib.suppress(OSError):
        if log.stat().st_size > limit:
            os.replace(log, log.with_name(log.name + ".1"))


def start_watcher(data_dir: Path, socket: Path, linger: float) -> None:
    """Start a detached watcher unless one runs (its lock is held). Two started at once are
    harmless: the second finds the lock taken and exits."""
    if _held(Path(data_dir) / WATCHER_LOCK):
        return
    subprocess.Popen(
        [sys.executable, "-S", __file__, str(data_dir), str(socket), repr(linger)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C, the terminal's SIGHUP and the shell's exit leave it
        close_fds=True,  # never a copy of the caller's users lock
    )


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # a read-only dir: a lock still works


def _try(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _held(path: Path) -> bool:
    """Whether someone holds `path`'s lock right now (taken and let go at once if not)."""
    try:
        fd = _open(path)
    except OSError:
        return False
    try:
        if _try(fd, fcntl.LOCK_EX):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


class RespError(OSError):
    """An error reply from the server (its text, e.g. "LOADING ...", "MISCONF ...")."""


class Resp:
    """One RESP connection over a unix socket: just what the watcher sends."""

    def __init__(self, socket: Path, timeout: float = 10.0):
        self.conn = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        self.conn.settimeout(timeout)
        try:
            self.conn.connect(str(socket))
        except OSError:
            self.conn.close()
            raise
        self.buffer = b""

    def call(self, *words: str) -> bytes | None:
        """Send a command; its reply's payload (a bulk or simple string), None once the server
        closed the connection (SHUTDOWN's answer). An error reply raises RespError."""
        encoded = [w.encode() for w in words]
        self.conn.sendall(b"*%d\r\n" % len(encoded)
                          + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in encoded))
        head = self._line()
        if head is None:
            return None
        if head[:1] == b"-":
            raise RespError(head[1:].decode(errors="replace"))
        if head[:1] == b"$":
            try:
                size = int(head[1:])
            except ValueError:  # not RESP: as good as a broken connection to the caller
                raise OSError(f"not a Redis reply: {head[:40]!r}") from None
            return b"" if size < 0 else self._exactly(size + 2)[:-2]
        return head[1:]

    def _line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise OSError("the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def close(self) -> None:
        self.conn.close()


def client_names(conn: Resp) -> list[str]:
    listing = (conn.call("CLIENT", "LIST") or b"").decode(errors="replace")
    names = []
    for line in listing.splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        names.append(fields.get("name", ""))
    return names


def process_start(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), which tells a pid's process from
    a later one given the same pid; None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()[19]  # fields after "pid (comm)" start at field 3


def _dir_id(data_dir: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(data_dir)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


class Watch:
    """The watcher's state: the data dir it started in, its locks, its connection, the server."""

    def __init__(self, data_dir: Path, socket: Path, linger: float):
        self.data_dir, self.socket, self.linger = data_dir, socket, linger
        self.dir_id = _dir_id(data_dir)
        # Open once: after the dir is deleted these still name the files the server used.
        self.owner = _open(data_dir / OWNER_LOCK)
        self.users = _open(data_dir / USERS_LOCK)
        self.conn: Resp | None = None
        self.server: tuple[int, str | None] | None = None  # pid and its start time
        self.last_used = time.monotonic()

    def server_lives(self) -> bool:
        if _try(self.owner, fcntl.LOCK_EX):
            fcntl.flock(self.owner, fcntl.LOCK_UN)
            return False
        return True

    def connect(self) -> Resp:
        if self.conn is None:
            conn = Resp(self.socket, timeout=max(POLL * 4, 2.0))
            try:
                conn.call("CLIENT", "SETNAME", f"{NAME}-{os.getpid()}")
                info = (conn.call("INFO", "server") or b"").decode(errors="replace")
            except OSError:
                conn.close()
                raise
            for line in info.splitlines():
                if line.startswith("process_id:"):
                    pid = int(line.split(":", 1)[1])
                    self.server = (pid, process_start(pid))
            self.conn = conn
        return self.conn

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def step(self) -> bool:
        """One look; False once there is nothing left to watch."""
        rotate_log(self.data_dir / "redis.log")
        if not same_dir(self.dir_id, _dir_id(self.data_dir)):
            self.stop_without_saving()
            return False
        if not self.server_lives():
            self.drop()
            return False
        try:
            names = client_names(self.connect())
        except OSError:  # busy, loading, stopped, or just restarted: not idle, and not ours to end
            self.drop()
            self.last_used = time.monotonic()
            return True
        if user_clients(names) or not self.users_free():
            self.last_used = time.monotonic()
        elif idle_long_enough(self.last_used, time.monotonic(), self.linger):
            self.stop_if_unused()
        return True

    def users_free(self) -> bool:
        if _try(self.users, fcntl.LOCK_EX):
            fcntl.flock(self.users, fcntl.LOCK_UN)
            return True
        return False

    def stop_if_unused(self) -> None:
        """SHUTDOWN SAVE, holding the users lock so no process connects meanwhile, after one more
        look; a server that refuses (it cannot save) runs on."""
        if not _try(self.users, fcntl.LOCK_EX):
            self.last_used = time.monotonic()
            return
        try:
            conn = self.connect()
            if user_clients(client_names(conn)):
                self.last_used = time.monotonic()
                return
            conn.call("SHUTDOWN", "SAVE")  # refused (an error reply) when it cannot save
            self.drop()
            deadline = time.monotonic() + STOP_WAIT
            while self.server_lives() and time.monotonic() < deadline:
                time.sleep(0.01)  # its lock goes with its process: then a new start is safe
        except OSError:
            # It cannot save (disk full) or did not answer: it runs on, holding what it has, and
            # is asked again a while later (each try is a save in the foreground).
            self.drop()
            self.last_used = time.monotonic() + REFUSED_BACKOFF
        finally:
            fcntl.flock(self.users, fcntl.LOCK_UN)

    def stop_without_saving(self) -> None:
        """The data dir is gone: SHUTDOWN NOSAVE (SIGTERM would make it try to save, fail and run
        on), then SIGKILL of the same process if it did not stop."""
        with contextlib.suppress(OSError):
            self.connect().call("SHUTDOWN", "NOSAVE")
        self.drop()
        deadline = time.monotonic() + STOP_WAIT
        while self.server_lives() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.server_lives() and self.server is not None:
            pid, started = self.server
            if started is not None and process_start(pid) == started:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def watch(data_dir: Path, socket: Path, linger: float) -> None:
    """Watch the data dir's server until it stopped (by us or by itself) or its dir went."""
    state = Watch(data_dir, socket, linger)
    try:
        while state.step():
            time.sleep(POLL)
    finally:
        state.drop()
        os.close(state.owner)
        os.close(state.users)


def main(argv: list[str]) -> int:
    data_dir, socket, linger = Path(argv[0]), Path(argv[1]), float(argv[2])
    try:
        lock = _open(data_dir / WATCHER_LOCK)
    except OSError:
        return 0
    if not _try(lock, fcntl.LOCK_EX):
        return 0  # another watcher runs
    pidfile = data_dir / PIDFILE
    try:
        with contextlib.suppress(OSError):
            fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
        started_in = _dir_id(data_dir)
        while True:
            with contextlib.suppress(OSError):
                watch(data_dir, socket, linger)
            # Let go, then look again: a server started meanwhile saw the lock still held and
            # left the watching to us, so take it up again (unless a new watcher already has).
            fcntl.flock(lock, fcntl.LOCK_UN)
            if not (same_dir(started_in, _dir_id(data_dir)) and _held(data_dir / OWNER_LOCK)):
                break
            if not _try(lock, fcntl.LOCK_EX):
                break
    finally:
        with contextlib.suppress(OSError):
            if pidfile.read_text().strip() == str(os.getpid()):
                pidfile.unlink()
        os.close(lock)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal is no reason to stop
    sys.exit(main(sys.argv[1:]))

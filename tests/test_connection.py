"""Connecting to the registry's Redis by URL (registry/connection/client.py): the URL masked in
every message, the one quick retry (never of a timeout), the connect and read timeouts, str
replies, and the one line an authentication or ping failure becomes.

The embedded server is in test_embedded_server.py, the Redis Cluster branch in test_cluster.py.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from ollama_fixtures import silent_url  # noqa: F401
from registry.connection.client import _ping, auth_failed, connect_redis, describe_url, is_auth_failure
from registry.errors import RegistryAuthFailed, RegistryUnavailable


def unreachable_error(url: str, tmp_path, **kwargs) -> str:
    with pytest.raises(RegistryUnavailable) as caught:
        connect_redis(url, tmp_path, **kwargs)
    return str(caught.value)


# --- the URL in messages -------------------------------------------------------------------


def test_describe_url_masks_only_the_password():
    shown = describe_url("redis://user:hunter2@127.0.0.1:6380/0")
    assert shown == "redis://user:***@127.0.0.1:6380/0"
    assert describe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_an_unreachable_server_with_a_password_is_named_masked(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = unreachable_error(f"redis://user:hunter2@127.0.0.1:{port}/0", tmp_path)
    assert f"Redis at redis://user:***@127.0.0.1:{port}/0 (" in message


# --- one quick retry -----------------------------------------------------------------------


def test_a_connection_dropped_mid_command_is_retried_once(redis_url, real_redis, key_prefix,
                                                          tmp_path):
    """The server drops the connection while a command waits (CLIENT KILL, as a restart or a
    proxy would): the command is sent again on a new connection and its answer arrives."""
    client = connect_redis(redis_url, tmp_path)
    key = f"{key_prefix}queue"
    answer: list = []

    def wait():
        try:
            answer.append(client.blpop([key], timeout=4))
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            answer.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    killed = None
    deadline = time.monotonic() + 10
    while not answer and time.monotonic() < deadline:
        waiting = [c["id"] for c in real_redis.client_list() if c.get("cmd") == "blpop"]
        if killed is None and waiting:
            killed = waiting[0]
            real_redis.client_kill_filter(_id=killed)
        elif killed is not None and set(waiting) - {killed}:
            real_redis.lpush(key, "after the drop")
            break
        time.sleep(0.01)
    waiter.join(10)
    client.close()
    assert answer == [(key, "after the drop")]


def test_the_retry_is_one_and_quick(redis_url, tmp_path):
    """One retry, after a short pause: redis-py's default backs off for seconds per command."""
    client = connect_redis(redis_url, tmp_path)
    retry = client.get_retry()
    assert retry.get_retries() == 1
    assert retry._backoff.compute(1) <= 0.1
    client.close()


class NeverAnswers:
    """A loopback server that accepts connections and never replies; counts the connections."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        for sock in [*self.accepted, self.listener]:
            sock.close()


def test_a_server_that_times_out_is_not_asked_again(tmp_path):
    """A timeout is not a dropped connection: retrying it would double the wait."""
    server = NeverAnswers()
    try:
        message = unreachable_error(server.url, tmp_path, timeout=0.2)
        assert "Timeout reading" in message
        assert len(server.accepted) == 1
    finally:
        server.close()


# --- the connect timeout -------------------------------------------------------------------


def test_a_host_that_does_not_answer_is_a_timeout_error(silent_url, tmp_path):  # noqa: F811
    """Its connection attempts are dropped (full accept queue), as a firewalled host's are."""
    url = silent_url.replace("http://", "redis://") + "/0"
    message = unreachable_error(url, tmp_path)
    assert f"Redis at {url} (Timeout connecting to server)" in message


def test_the_connect_timeout_is_the_two_seconds_docs_promise(redis_url, tmp_path):
    """docs/REGISTRY.md: an unreachable server is reported within 2 seconds."""
    client = connect_redis(redis_url, tmp_path)
    assert client.connection_pool.connection_kwargs["socket_connect_timeout"] == 2.0
    client.close()


def test_bytes_that_are_not_utf8_are_read_as_replacement_characters(redis_url, real_redis,
                                                                     key_prefix, tmp_path):
    """A value another program stored is never a UnicodeDecodeError."""
    key = f"{key_prefix}not-utf8"
    with redis.Redis.from_url(redis_url) as raw:
        raw.set(key, b"ok\xff")
    client = connect_redis(redis_url, tmp_path)
    try:
        assert client.get(key) == "ok\ufffd"
    finally:
        client.close()


@pytest.mark.parametrize("timeout, read_timeout", [(2.0, 5.0), (7.0, 7.0)])
def test_a_server_that_stops_answering_is_given_up_on(redis_url, tmp_path, timeout, read_timeout):
    """A reply is waited for at least 5 s (a busy server is not an error), never forever."""
    client = connect_redis(redis_url, tmp_path, timeout=timeout)
    try:
        assert client.connection_pool.connection_kwargs["socket_timeout"] == read_timeout
        assert client.connection_pool.connection_kwargs["health_check_interval"] == 30
    finally:
        client.close()


# --- authentication failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, auth",
    [
        (redis.AuthenticationError("invalid password"), True),
        (redis.ResponseError("WRONGPASS invalid username-password pair"), True),
        (redis.ResponseError("NOAUTH Authentication required."), True),
        (redis.ResponseError("ERR AUTH <password> called without any password configured"), True),
        (redis.ResponseError("ERR unknown command 'FOO'"), False),
        (redis.ConnectionError("AUTH WRONGPASS"), False),  # not an answer of the server
    ],
)
def test_an_authentication_failure_is_told_from_other_errors(exc, auth):
    assert is_auth_failure(exc) is auth


def test_the_authentication_message_names_the_url_masked_and_says_what_to_do():
    error = auth_failed("redis://user:hunter2@127.0.0.1:6380/0", "WRONGPASS invalid password")
    assert str(error) == (
        "Authentication failed at the model registry's Redis redis://user:***@127.0.0.1:6380/0 "
        "(WRONGPASS invalid password). Put the right user and password in AI_CLI_REDIS_URL (or "
        "redis.url in config.yaml), e.g. redis://:PASSWORD@host:6379/0.")


class Fails:
    """A client whose PING raises `exc`: a failure without a message, which no test server
    produces on demand."""

    def __init__(self, exc):
        self.exc = exc

    def ping(self):
        raise self.exc


@pytest.mark.parametrize(
    "exc, error, message",
    [
        (redis.ConnectionError("Connection closed by server.\nmore"), RegistryUnavailable,
         "Cannot reach the model registry's Redis at redis://u:***@127.0.0.1:6380/0 (Connection "
         "closed by server.). Start that server, or set AI_CLI_REDIS_URL (or redis.url in "
         "config.yaml) to one that runs."),
        (redis.ConnectionError(""), RegistryUnavailable,
         "Cannot reach the model registry's Redis at redis://u:***@127.0.0.1:6380/0 "
         "(ConnectionError). Start that server, or set AI_CLI_REDIS_URL (or redis.url in "
         "config.yaml) to one that runs."),
        (redis.AuthenticationError(" "), RegistryAuthFailed,
         "Authentication failed at the model registry's Redis redis://u:***@127.0.0.1:6380/0 "
         "(AuthenticationError). Put the right user and password in AI_CLI_REDIS_URL (or "
         "redis.url in config.yaml), e.g. redis://:PASSWORD@host:6379/0."),
    ],
    ids=["first-line", "no-message", "auth-no-message"],
)
def test_a_failed_ping_is_one_line_with_the_first_line_or_the_kind_of_the_error(exc, error,
                                                                                message):
    with pytest.raises(error) as caught:
        _ping(Fails(exc), "redis://u:hunter2@127.0.0.1:6380/0")
    assert str(caught.value) == message

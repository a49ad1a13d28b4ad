"""registry/connection/failures.py: the one line a Redis or Redis Cluster failure becomes, exactly."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError, MovedError, SlotNotCoveredError, TimeoutError

from registry.connection import failures as redis_failures
from registry.errors import ConfigError, RegistryUnavailable

NODE = "redis://127.0.0.1:7000/0"
SAYS = "Redis is unreachable ({detail}). Start it."


@pytest.mark.parametrize(
    "exc, detail",
    [
        (SlotNotCoveredError("Slot 5 not covered"), "Slot 5 not covered"),
        (ConnectionError("Error 111 connecting to node X.\nsecond line"),
         "Error 111 connecting to node X"),
        (TimeoutError("  Timeout reading from socket.  "), "Timeout reading from socket"),
        (ConnectionError(""), "ConnectionError"),
    ],
)
def test_an_unavailable_cluster_says_what_happened_in_brackets(exc, detail):
    error = redis_failures.translate(exc, SAYS, clustered=True, prefix="{ai-cli}:", url=NODE)
    assert isinstance(error, RegistryUnavailable)
    assert str(error) == f"Redis is unreachable ({detail}). Start it."


def test_moved_on_a_plain_client_names_the_url():
    error = redis_failures.translate(MovedError("3999 127.0.0.1:7001"), SAYS, clustered=False,
                                     prefix="", url=NODE)
    assert isinstance(error, ConfigError)
    assert str(error).startswith(f"The Redis at {NODE} is a node of a Redis Cluster.")


def test_moved_on_a_cluster_client_is_unavailable_not_a_config_error():
    error = redis_failures.translate(MovedError("3999 127.0.0.1:7001"), SAYS, clustered=True,
                                     prefix="{ai-cli}:", url=NODE)
    assert isinstance(error, RegistryUnavailable)


def test_a_wrong_password_is_an_authentication_error_saying_where_to_fix_it():
    from redis.exceptions import AuthenticationError

    from registry.errors import RegistryAuthFailed

    error = redis_failures.translate(AuthenticationError("WRONGPASS invalid password."), SAYS,
                                     clustered=False, prefix="", url=NODE)
    assert isinstance(error, RegistryAuthFailed)
    assert str(error) == (
        f"Authentication failed at the Redis at {NODE} (WRONGPASS invalid password). Put the "
        "right password in AI_CLI_REDIS_URL (or redis.url in config.yaml).")

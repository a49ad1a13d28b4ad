"""Bad input and a wrong Redis password: one clear line, exit 2 (or 1), nothing changed.

What each refusal says, word for word and on one line, is tested on the validating functions in
test_model.py (`test_each_url_refusal_says_exactly_what_is_wrong`,
`test_each_model_name_refusal_says_exactly_what_is_wrong`); here, what `ai-cli` and a Redis
client do with bad input.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from ollama_fixtures import dead_url  # noqa: F401
from registry.connection.client import connect_redis
from registry.connection.embedded import redis_server_binary
from registry.errors import RegistryAuthFailed
from test_cli_support import PROGRAM, cli  # noqa: F401

pytestmark = pytest.mark.process  # ai-cli processes and a redis-server with a password

OK_URL = "http://127.0.0.1:9"


def test_cli_refuses_bad_urls_and_names_with_exit_2(cli, real_redis, key_prefix):
    cases = [
        ("http://" + "a" * 300 + ":11434", "m"),
        ("http://127.0.0.1:11434/" + "x" * 100_000, "m"),
        (OK_URL, "llama\u202e"),
        (OK_URL, "a\x9bb"),
    ]
    for url, name in cases:
        proc = cli.run("model", "general", "add", url, name, "--force")
        assert proc.returncode == 2, (proc.stdout, proc.stderr[:300])
        assert proc.stderr.count("\n") == 1 and "Unexpected error" not in proc.stderr
    assert list(real_redis.scan_iter(f"{key_prefix}models:model_*")) == []


def test_a_name_that_is_not_utf8_from_argv_is_refused(cli, real_redis, key_prefix):
    env = {k.encode(): v.encode() for k, v in cli.env.items()}
    proc = subprocess.run([a.encode() for a in PROGRAM]
                          + [b"model", b"general", b"add", OK_URL.encode(), b"caf\xe9\xff",
                             b"--force"],
                          cwd=cli.cwd, env=env, capture_output=True, timeout=60)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, stderr
    assert "not valid UTF-8" in stderr and stderr.count("\n") == 1
    assert "Unexpected error" not in stderr and "UnicodeEncodeError" not in stderr
    assert list(real_redis.scan_iter(f"{key_prefix}models:model_*")) == []


@pytest.fixture
def password_redis(tmp_path):
    """A real redis-server that requires a password, on a unix socket."""
    socket = tmp_path / "auth.sock"
    proc = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(socket),
                             "--requirepass", "right-pass", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    yield socket
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("password", ["wrong-pass", None])
def test_a_wrong_redis_password_is_reported_as_authentication(password_redis, password, tmp_path):
    url = f"unix://{':' + password + '@' if password else ''}{password_redis}"
    with pytest.raises(RegistryAuthFailed) as caught:
        connect_redis(url, tmp_path)
    message = str(caught.value)
    assert "Authentication failed" in message and "AI_CLI_REDIS_URL" in message
    assert "Start that server" not in message and "wrong-pass" not in message
    assert connect_redis(f"unix://:right-pass@{password_redis}", tmp_path).ping()


def test_cli_says_authentication_failed(cli, password_redis):
    url = f"unix://:wrong-pass@{password_redis}"
    for args in (("model", "list"), ("model", "general", "add", OK_URL, "m", "--force")):
        proc = cli.run(*args, env={"AI_CLI_REDIS_URL": url})
        assert proc.returncode == 1, proc.stderr
        assert "Authentication failed" in proc.stderr, proc.stderr
        assert "unreachable" not in proc.stderr and "wrong-pass" not in proc.stderr

"""Secrets are never printed: a password in a model URL is masked in every
output of the real CLI and REPL — add, list, status, check, discover, --json, the banner, router
notices, error messages, migration lines — and never reaches the REPL's history file."""

from __future__ import annotations

import pexpect

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

SLOW = 90  # seconds pexpect waits for output: generous, a loaded machine is slow

from cli.history import mask_urls, scrub

PASSWORD = "s3cretPW"
PROMPT = r">(\x08)?(\x1b\[\d*C| )"  # prompt_toolkit draws "> " with cursor moves


def with_password(url: str) -> str:
    return url.replace("http://", f"http://ada:{PASSWORD}@")


def hidden(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text, text


def run_all(cli, *argvs) -> list[str]:
    """stdout and stderr of each command, as text and with --json."""
    seen = []
    for argv in argvs:
        for extra in ((), ("--json",)):
            proc = cli.run(*argv, *extra)
            seen += [proc.stdout, proc.stderr]
    return seen


def test_cli_outputs_mask_a_model_password(cli, ollama_server, dead_url):
    ollama_server.add_model("llama3")
    secret_url = with_password(ollama_server.url)
    added = cli.run("model", "general", "add", secret_url, "llama3")
    assert added.returncode == 0, added.stderr
    assert "ada:***@127.0.0.1" in added.stdout
    added_json = cli.json("model", "coder", "add", secret_url, "llama3")
    assert added_json["url"] == secret_url.replace(PASSWORD, "***")
    # A second general model, dead, so `check` has a failure reason that names its URL.
    dead = cli.json("model", "general", "add", with_password(dead_url), "llama3", "--force",
                    "--no-activate")
    outputs = [added.stdout, added.stderr, *run_all(
        cli,
        ("model", "list"), ("model", "general", "list"), ("model", "status"),
        ("model", "check"), ("model", "check", dead["model_id"]),
        ("model", "general", "discover", secret_url),
        ("model", "general", "discover", with_password(dead_url)),  # its error quotes the URL
        ("model", "general", "use", dead["model_id"]),
    )]
    hidden(*outputs)
    assert any("ada:***@" in text for text in outputs)
    assert any("connection refused at http://ada:***@" in text for text in outputs)


def test_error_messages_mask_a_rejected_url(cli, dead_url):
    bad = [
        f"http://ada:{PASSWORD}@127.0.0.1:99999",  # invalid port
        f"ftp://ada:{PASSWORD}@127.0.0.1:11434",  # wrong scheme
        f"http://ada:{PASSWORD}@127.0.0.1:11434/?q=1",  # query
        with_password(dead_url),  # unreachable: refused at add
    ]
    outputs = run_all(cli, *[("model", "general", "add", url, "llama3") for url in bad])
    hidden(*outputs)
    assert sum("ada:***@" in text or "***@127.0.0.1" in text for text in outputs) >= len(bad)


def test_router_notice_and_fallback_mask_passwords(cli, ollama_servers, dead_url):
    live, fallback = ollama_servers(2)
    live.add_model("llama3")
    fallback.add_model("tinyllama")
    cli.write_config(tinyollama={"url": with_password(fallback.url)})
    dead = cli.json("model", "general", "add", with_password(dead_url), "llama3", "--force")
    cli.json("model", "general", "add", with_password(live.url), "llama3", "--no-activate")
    chat = cli.run("chat", "hello")
    assert chat.returncode == 0, chat.stderr
    assert dead["model_id"] in chat.stderr and "ada:***@" in chat.stderr  # the notice
    status = cli.json("model", "status")
    assert status["fallback"]["url"] == with_password(fallback.url).replace(PASSWORD, "***")
    hidden(chat.stdout, chat.stderr, *run_all(cli, ("model", "status"), ("model", "check")))


def test_banner_repl_output_and_history_file_mask_passwords(cli, ollama_server, tmp_path):
    ollama_server.add_model("llama3")
    secret_url = with_password(ollama_server.url)
    assert cli.run("model", "general", "add", secret_url, "llama3").returncode == 0
    child = cli.spawn(timeout=SLOW)
    transcript: list[str] = []
    child.logfile_read = _Collect(transcript)
    child.expect("General Model: llama3 @ ada:\\*\\*\\*@127.0.0.1")
    child.expect(PROMPT)
    typed = f"/model coder add {secret_url} llama3"
    child.sendline(typed)
    child.expect("Model registered successfully")
    child.sendline("/model list")
    child.expect("Registered models")
    child.sendline("/model status")
    child.expect("Features on")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    shown = "".join(transcript).replace(typed, "")  # the terminal echoes what the user typed
    assert "ada:***@" in shown
    hidden(shown)
    history = (tmp_path / "xdg-data" / "ai-cli" / "history").read_text()
    assert f"/model coder add {secret_url.replace(PASSWORD, '***')} llama3" in history
    hidden(history)


def test_whole_session_output_on_the_pty_is_masked(cli, ollama_server):
    ollama_server.add_model("llama3")
    secret_url = with_password(ollama_server.url)
    child = cli.spawn(timeout=SLOW)
    transcript = []
    child.logfile_read = _Collect(transcript)
    child.expect(PROMPT)
    typed = [f"/model general add {secret_url} llama3", f"/model general discover {secret_url}"]
    child.sendline(typed[0])
    child.expect("You can now start chatting")
    child.sendline(typed[1])
    child.expect("llama3:latest")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    text = "".join(transcript).replace(typed[0], "").replace(typed[1], "")  # the echo
    assert "ada:***@" in text
    hidden(text)


class _Collect:
    def __init__(self, into: list):
        self.into = into

    def write(self, data: str) -> None:
        self.into.append(data)

    def flush(self) -> None:
        pass


def test_history_written_by_an_older_version_is_scrubbed(tmp_path):
    path = tmp_path / "history"
    path.write_text(f"\n# 2026-11-01 10:00:00\n+/model general add http://ada:{PASSWORD}@h:1 x\n")
    scrub(path)
    assert path.read_text() == "\n# 2026-11-01 10:00:00\n+/model general add http://ada:***@h:1 x\n"
    assert path.stat().st_mode & 0o077 == 0


def test_mask_urls_masks_every_url_in_a_line_and_nothing_else():
    line = (f"/model general add http://ada:{PASSWORD}@h:11434 m --x "
            f"redis://:{PASSWORD}@r:6379/0 mail@example.org http://plain:11434")
    assert mask_urls(line) == ("/model general add http://ada:***@h:11434 m --x "
                               "redis://:***@r:6379/0 mail@example.org http://plain:11434")


def test_migration_lines_mask_a_legacy_password(cli, ollama_server):
    ollama_server.add_model("llama3")
    cli.write_config(ollama={"url": with_password(ollama_server.url), "model": "llama3",
                             "timeout": 30})
    outputs = run_all(cli, ("migrate", "--dry-run"), ("migrate",))
    hidden(*outputs)
    assert any("ada:***@127.0.0.1" in text for text in outputs)

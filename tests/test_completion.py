"""`ai-cli completion bash|zsh|fish`: scripts generated from the command table. The tree of words
is checked directly; the bash script is run in a real bash, completing words, options and the
model and session names it asks a real `ai-cli` (on a real Redis) for."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from ollama_fixtures import dead_url  # noqa: F401
from test_cli_support import ROOT, cli  # noqa: F401

from agent.commands.base import SUBCOMMAND, Slot
from cli.commands import terminal_table
from cli.completion import entries, script
from registry.errors import InvalidInput
from registry.manager import ModelRegistry

TABLE = terminal_table()


def by_key() -> dict[str, tuple[str, ...]]:
    return {e.key: e.words for e in entries(TABLE) if not e.after}


def test_every_command_of_the_table_is_in_the_tree():
    tree = by_key()
    for command in TABLE.for_face(SUBCOMMAND):
        for form in (command.words, *command.aliases):
            words: list[str] = []
            for word in form:
                choice = word.choices[0] if isinstance(word, Slot) else word
                assert choice in tree[" ".join(words)], (form, words)
                words.append(choice)
            for option in command.options:
                assert option.flag in tree[" ".join(words)], (form, option.flag)
    assert tree["model general"] == ("add", "list", "use", "remove", "discover",
                                   "balance")
    assert "--json" in tree[""] and "completion" in tree[""]
    names = {e.key: e.names for e in entries(TABLE) if not e.after and e.names}
    assert names["model use"] == "model" and names["session show"] == "session"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_script_holds_every_run_of_words(shell):
    text = script(shell, TABLE)
    asks = ("_ai_cli_names model", "_ai_cli_names session") if shell == "bash" else (
        "ai-cli completion names model", "ai-cli completion names session")
    assert all(ask in text for ask in asks)
    for entry in entries(TABLE):
        if entry.key:
            assert entry.key in text, (shell, entry.key)
    if shell == "zsh":
        assert text.startswith("#compdef ai-cli\n")
    with pytest.raises(InvalidInput):
        script("powershell", TABLE)


@pytest.mark.process
def test_the_bash_script_is_valid_bash():
    proc = subprocess.run(["bash", "-n"], input=script("bash", TABLE), text=True,
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr


def complete(script_path, words: list[str], env: dict) -> list[str]:
    """What bash's Tab offers after `words` (the last one being typed)."""
    line = " ".join(shlex.quote(w) for w in ["ai-cli", *words])
    program = (f"source {shlex.quote(str(script_path))}\n"
               f"COMP_WORDS=({line}); COMP_CWORD={len(words)}\n"
               "_ai_cli\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    proc = subprocess.run(["bash", "-c", program], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


@pytest.mark.process
def test_bash_completes_words_options_and_names_from_ai_cli(cli, real_redis, key_prefix,
                                                            tmp_path, dead_url):
    model = ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", dead_url, "llama3.1:8b", timeout=10)
    session = cli.json("session", "new")["session_id"]
    bin_dir = tmp_path / "bin"  # `ai-cli` on PATH, as installed
    bin_dir.mkdir()
    wrapper = bin_dir / "ai-cli"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cli \"$@\"\n")
    wrapper.chmod(0o755)
    env = {**cli.env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    generated = subprocess.run([str(wrapper), "completion", "bash"], env=env, cwd=cli.cwd,
                               capture_output=True, text=True, timeout=60)
    assert generated.returncode == 0, generated.stderr
    path = tmp_path / "ai-cli.bash"
    path.write_text(generated.stdout)
    assert complete(path, ["mo"], env) == ["model"]
    assert complete(path, ["model", "g"], env) == ["general"]
    assert complete(path, ["model", "general", ""], env) == [
        "add", "list", "use", "remove", "discover", "balance"]
    assert complete(path, ["model", "general", "add", "--t"], env) == ["--timeout"]
    assert set(complete(path, ["model", "use", ""], env)) == {model.model_id, "llama3.1:8b", f"llama3.1:8b@{model.host}"}
    assert sorted(complete(path, ["chat", "-m", "ll"], env)) == [
        "llama3.1:8b", f"llama3.1:8b@{model.host}"]
    assert complete(path, ["session", "show", "sess"], env) == [session]
    assert complete(path, ["completion", ""], env) == ["bash", "zsh", "fish", "names"]


def _installed(shell: str) -> bool:
    import shutil

    return shutil.which(shell) is not None


def ai_cli_on_path(cli, tmp_path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "ai-cli"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cli \"$@\"\n")
    wrapper.chmod(0o755)
    return {**cli.env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT)}


@pytest.mark.process
@pytest.mark.skipif(not _installed("zsh"), reason="zsh is not installed (apt-get install zsh)")
def test_zsh_completes_words_and_names(cli, real_redis, key_prefix, tmp_path, dead_url):
    model = ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", dead_url, "llama3.1:8b", timeout=10)
    path = tmp_path / "_ai-cli"
    path.write_text(script("zsh", TABLE))
    program = "\n".join([  # compadd and compdef exist only inside zsh's completion system:
        "compdef() { :; }",  # here they print what would be offered
        'compadd() { [[ "$1" == "--" ]] && shift; print -l -- "$@"; }',
        f"source {shlex.quote(str(path))}",
        'words=(ai-cli model general ""); CURRENT=4; _ai_cli; print -- "|"',
        'words=(ai-cli model use ""); CURRENT=4; _ai_cli',
    ])
    proc = subprocess.run(["zsh", "-c", program], env=ai_cli_on_path(cli, tmp_path),
                          cwd=cli.cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    words, names = proc.stdout.split("|\n")
    assert words.split() == ["add", "list", "use", "remove", "discover", "balance"]
    assert set(names.split()) == {model.model_id, "llama3.1:8b", f"llama3.1:8b@{model.host}"}


@pytest.mark.process
@pytest.mark.skipif(not _installed("fish"), reason="fish is not installed (apt-get install fish)")
def test_fish_completes_words_and_names(cli, real_redis, key_prefix, tmp_path, dead_url):
    model = ModelRegistry(real_redis, key_prefix=key_prefix).add_model(
        "general", dead_url, "llama3.1:8b", timeout=10)
    path = tmp_path / "ai-cli.fish"
    path.write_text(script("fish", TABLE))

    def offered(line: str) -> list[str]:
        proc = subprocess.run(
            ["fish", "--no-config", "-c", f"source {shlex.quote(str(path))}; complete -C{shlex.quote(line)}"],
            env=ai_cli_on_path(cli, tmp_path), cwd=cli.cwd, capture_output=True, text=True,
            timeout=60)
        assert proc.returncode == 0, proc.stderr
        return [w.split("\t")[0] for w in proc.stdout.splitlines()]

    assert offered("ai-cli model g") == ["general"]
    assert offered("ai-cli model general add --t") == ["--timeout"]
    assert set(offered("ai-cli model use ")) == {model.model_id, "llama3.1:8b", f"llama3.1:8b@{model.host}"}
    assert sorted(offered("ai-cli chat -m ll")) == ["llama3.1:8b", f"llama3.1:8b@{model.host}"]

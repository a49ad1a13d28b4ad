"""The questionary wizard (`ai-cli setup`, `/model wizard`) through a pseudo-terminal."""

from __future__ import annotations

import pexpect

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry

DOWN, ENTER, CLEAR, CTRL_C = "\x1b[B", "\r", "\x15", "\x03"
PROMPT = r">(\x08)?(\x1b\[\d*C| )"


def registry_of(real_redis, key_prefix) -> ModelRegistry:
    return ModelRegistry(real_redis, key_prefix=key_prefix)


def ended(child) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_setup_adds_a_model_picked_from_the_server(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ollama_server.add_model("qwen:7b")
    child = cli.spawn("setup")
    child.expect_exact("What do you want to do?")
    child.send(ENTER)  # "Add a model" (the only action with an empty registry)
    child.expect_exact("Which kind of model?")
    child.send(ENTER)  # general
    child.expect_exact("Which Ollama server?")
    child.expect_exact("http://127.0.0.1:11434")  # Ollama's default is offered
    child.send(DOWN + ENTER)  # "Another server (type its URL)…"
    child.expect_exact("Ollama server URL:")
    child.send(CLEAR + "ftp://x" + ENTER)
    child.expect_exact("must start with http://")  # validated in place, nothing moves on
    child.send(CLEAR + ollama_server.url + ENTER)
    child.expect_exact("Which model?")
    child.expect_exact("qwen:7b")
    child.send(DOWN + ENTER)  # the second name: qwen:7b
    child.expect_exact("Request timeout (seconds):")
    child.send(CLEAR + "45" + ENTER)
    child.expect_exact("as the active general model?")
    child.send("y")
    child.expect_exact("Model registered successfully!")
    assert ended(child) == 0
    model = registry_of(real_redis, key_prefix).get_active_model("general")
    assert (model.model_name, model.url, model.timeout) == ("qwen:7b", ollama_server.url, 45)


def test_ctrl_c_at_any_step_changes_nothing(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    steps = [
        [("What do you want to do?", "")],
        [("What do you want to do?", ENTER), ("Which kind of model?", "")],
        [("What do you want to do?", ENTER), ("Which kind of model?", DOWN + ENTER),
         ("Which Ollama server?", DOWN + ENTER),
         ("Ollama server URL:", CLEAR + ollama_server.url + ENTER), ("Which model?", "")],
        [("What do you want to do?", ENTER), ("Which kind of model?", ENTER),
         ("Which Ollama server?", DOWN + ENTER),
         ("Ollama server URL:", CLEAR + ollama_server.url + ENTER), ("Which model?", ENTER),
         ("Request timeout", ENTER), ("as the active", "")],
    ]
    for script in steps:
        child = cli.spawn("setup")
        for question, keys in script:
            child.expect_exact(question)
            child.send(keys)
        child.send(CTRL_C)
        child.expect_exact("Wizard cancelled; the registry is unchanged.")
        assert ended(child) == 1
        assert registry_of(real_redis, key_prefix).list_models() == []


def test_switch_and_remove_by_picking_from_a_list(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("a")
    ollama_server.add_model("b")
    cli.json("model", "general", "add", ollama_server.url, "a")
    cli.json("model", "general", "add", ollama_server.url, "b")
    registry = registry_of(real_redis, key_prefix)
    first, second = registry.list_models()  # the order the wizard lists them in
    # "b" (added last) is active. It is listed second, unless both adds fell in the same second
    # (added_at has whole seconds): then the ids decide, and it may be listed first.
    active = registry.get_active_model("general")
    other = first if active.model_id == second.model_id else second

    child = cli.spawn("setup")
    child.expect_exact("What do you want to do?")
    child.send(DOWN + ENTER)  # Switch the active model
    child.expect_exact("Which model?")
    child.expect_exact(f"● general  {active.model_name} @ {active.host}  ({active.model_id})"
                       "  [active]")  # the active one is marked as in /model list
    child.send(ENTER if other is first else DOWN + ENTER)  # the one not active
    child.expect_exact("is now active")
    assert ended(child) == 0
    assert registry.get_active_model("general").model_id == other.model_id

    child = cli.spawn("setup")
    child.expect_exact("What do you want to do?")
    child.send(DOWN + DOWN + ENTER)  # Remove a model
    child.expect_exact("Remove which model?")
    child.send(DOWN + ENTER)  # the second
    child.expect_exact(f"({second.model_id})?")
    child.send("y")
    child.expect_exact("removed")
    assert ended(child) == 0
    assert [m.model_id for m in registry.list_models()] == [first.model_id]


def test_unreachable_server_lets_you_type_a_name_and_refuse(cli, dead_url, real_redis, key_prefix):
    child = cli.spawn("setup")
    child.expect_exact("What do you want to do?")
    child.send(ENTER)
    child.expect_exact("Which kind of model?")
    child.send(DOWN + ENTER)  # coder
    child.expect_exact("Which Ollama server?")
    child.send(DOWN + ENTER)  # another one
    child.expect_exact("Ollama server URL:")
    child.send(CLEAR + dead_url + ENTER)
    child.expect_exact("You can still type a model name.")
    child.expect_exact("Model name (as Ollama knows it):")
    child.send("qwen2.5-coder:7b" + ENTER)
    child.expect_exact("Request timeout (seconds):")
    child.send(ENTER)
    child.expect_exact("Add it anyway")
    child.send("n")
    child.expect_exact("Wizard cancelled; the registry is unchanged.")
    assert ended(child) == 1
    assert registry_of(real_redis, key_prefix).list_models() == []


def test_wizard_inside_the_repl_returns_to_the_prompt(cli, ollama_server, real_redis, key_prefix):
    child = cli.spawn()
    child.expect(PROMPT)
    child.sendline("/model wizard")
    child.expect_exact("What do you want to do?")
    child.send(CTRL_C)
    child.expect_exact("Wizard cancelled")
    child.expect(PROMPT)
    child.sendline("/quit")
    assert ended(child) == 0
    assert registry_of(real_redis, key_prefix).list_models() == []


def test_without_a_terminal_it_points_to_the_subcommands(cli):
    for args in (["setup"], ["model", "wizard"], ["setup", "--json"]):
        proc = cli.run(*args)
        assert proc.returncode == 2
        text = proc.stdout + proc.stderr
        assert "The wizard needs a terminal" in text
        assert "ai-cli model general add <url> <model_name>" in text


# A sitecustomize that writes, at exit, whether the collector was on (nothing else changes).
COLLECTOR_AT_EXIT = """
import atexit, gc, os
atexit.register(lambda: open(os.environ["COLLECTOR_LOG"], "w").write(str(gc.isenabled())))
"""


def test_the_wizard_waits_on_a_person_with_the_collector_on(cli, tmp_path):
    # `ai-cli setup` starts no warm-up: the wizard itself ends the start-up pause
    # (cli/collector.py), as a person may take minutes over its questions.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(COLLECTOR_AT_EXIT)
    log = tmp_path / "collector.log"
    child = cli.spawn("setup", env={"PYTHONPATH": f"{hooks}:{cli.env['PYTHONPATH']}",
                                    "COLLECTOR_LOG": str(log)})
    child.expect_exact("What do you want to do?")
    child.send(CTRL_C)
    child.expect_exact("Wizard cancelled; the registry is unchanged.")
    assert ended(child) == 1
    assert log.read_text() == "True"

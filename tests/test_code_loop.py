"""/code end to end through the real Router, the real ChatOllama and the Ollama test server.

The server plays a coding model: each test scripts the tool calls it makes; ai-cli runs them
against a real workspace; files outside the workspace must never change.
"""

from __future__ import annotations

import io
import os

import pytest

from agent.code.edits import EditApplier, Gate, UndoJournal
from agent.code.loop import CodeSettings, run_code
from agent.code.tools import ToolContext
from agent.code.workspace import Workspace
from cli.output import Output
from cli.terminal_face import TerminalFace
from cli.views import show
from ollama_fixtures import dead_url, ollama_server  # noqa: F401 - fixtures
from registry.availability import AvailabilityChecker
from registry.config import ConfigManager
from router.errors import NoModelAvailable
from router.router import Router

OUTSIDE_TEXT = "outside: never changed\n"


class Scene:
    """A workspace, a file outside it, a router over a registry, and the user's answers."""

    def __init__(self, tmp_path, registry, server, fallback_url):
        self.root = tmp_path / "ws"
        (self.root / "pkg").mkdir(parents=True)
        (self.root / "pkg" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
        self.outside = tmp_path / "outside.txt"
        self.outside.write_text(OUTSIDE_TEXT)
        os.symlink(self.outside, self.root / "sneaky.txt")
        self.server = server
        self.registry = registry
        config = ConfigManager(None, {"tinyollama": {"url": fallback_url, "model": "tinyllama",
                                                     "timeout": 5, "disabled_features": ["code"]}})
        self.checker = AvailabilityChecker(registry, probe_timeout=2, ttl=30)
        self.router = Router(registry, config, self.checker)
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.output = Output(self.stdout, self.stderr)
        self.face = TerminalFace(self.output, "shell")  # what the terminal shows of the run
        self.answers: list[str] = []
        self.journal = UndoJournal(tmp_path / "data" / "undo.json")

    def run(self, instruction: str, assume_yes: bool = False, **settings):
        ask = (lambda q: self.answers.pop(0)) if self.answers or not assume_yes else None
        gate = Gate(self.face.report, ask, assume_yes=assume_yes)
        ctx = ToolContext(Workspace.open(self.root),
                          EditApplier(gate, self.journal, self.root),
                          max_output=settings.get("max_tool_output", 20000))
        try:
            return run_code(self.router, self.face.report, instruction, ctx,
                            supports_tools=self.checker.supports_tools,
                            settings=CodeSettings(**settings))
        finally:
            self.face.close()

    def calc(self) -> str:
        return (self.root / "pkg" / "calc.py").read_text()

    def tool_results(self) -> list[str]:
        """What ai-cli answered to the model's tool calls, from the last request."""
        last = self.server.chat_requests[-1].body["messages"]
        return [m["content"] for m in last if m["role"] == "tool"]


@pytest.fixture
def scene(tmp_path, registry, ollama_server, dead_url):  # noqa: F811
    ollama_server.add_model("coder-7b")
    registry.add_model("coder", ollama_server.url, "coder-7b", timeout=10)
    return Scene(tmp_path, registry, ollama_server, dead_url)


def test_read_edit_confirm_cycle_and_undo(scene):
    scene.server.reply_tool_call("list_files", {})
    scene.server.reply_tool_call("read_file", {"path": "pkg/calc.py"})
    scene.server.reply_tool_call("edit_file", {"path": "pkg/calc.py", "old_text": "a - b",
                                               "new_text": "a + b"})
    scene.server.reply("Fixed add() to add.")
    scene.answers.append("y")
    outcome = scene.run("fix add in pkg/calc.py")
    assert outcome.mode == "tools" and outcome.steps == 3 and outcome.stopped is None
    assert scene.calc() == "def add(a, b):\n    return a + b\n"
    assert outcome.applied == ["pkg/calc.py changed (+1 -1)"]
    assert scene.tool_results() == [
        "pkg/calc.py",  # sneaky.txt leads outside: not listed
        "def add(a, b):\n    return a - b\n",
        "Done: pkg/calc.py changed (+1 -1).",
    ]
    first = scene.server.chat_requests[0].body
    assert sorted(t["function"]["name"] for t in first["tools"]) == [
        "edit_file", "list_files", "read_file", "search_text", "write_file"]
    assert "-    return a - b" in scene.stdout.getvalue()
    assert "+    return a + b" in scene.stdout.getvalue()
    assert "Fixed add() to add." in scene.stdout.getvalue()
    report = scene.journal.undo(scene.root)
    assert report.restored == ["pkg/calc.py"]
    assert scene.calc() == "def add(a, b):\n    return a - b\n"


def test_refusal_leaves_the_file_and_tells_the_model(scene):
    scene.server.reply_tool_call("write_file", {"path": "pkg/calc.py", "content": "broken\n"})
    scene.server.reply("OK, leaving it.")
    scene.answers.append("n")
    outcome = scene.run("rewrite calc")
    assert scene.calc() == "def add(a, b):\n    return a - b\n"
    assert outcome.declined == ["pkg/calc.py"] and outcome.applied == []
    assert "declined" in scene.tool_results()[0]


def test_all_answers_yes_to_the_rest(scene):
    scene.server.reply_tool_calls([("write_file", {"path": "one.txt", "content": "1\n"}),
                                   ("write_file", {"path": "two.txt", "content": "2\n"})])
    scene.server.reply("done")
    scene.answers.append("a")
    outcome = scene.run("make two files")
    assert (scene.root / "one.txt").read_text() == "1\n" and (scene.root / "two.txt").read_text() == "2\n"
    assert len(outcome.applied) == 2


@pytest.mark.parametrize("call", [
    ("read_file", {"path": "../outside.txt"}),
    ("write_file", {"path": "../outside.txt", "content": "pwned"}),
    ("write_file", {"path": "sneaky.txt", "content": "pwned"}),
    ("edit_file", {"path": "sneaky.txt", "old_text": "outside", "new_text": "pwned"}),
    ("write_file", {"path": "{outside}", "content": "pwned"}),
])
def test_escapes_are_refused_and_outside_never_changes(scene, call):
    name, args = call
    args = {k: v.format(outside=scene.outside) for k, v in args.items()}
    scene.server.reply_tool_call(name, args)
    scene.server.reply("I could not.")
    outcome = scene.run("escape", assume_yes=True)
    assert scene.outside.read_text() == OUTSIDE_TEXT
    assert not (scene.root / "sneaky.txt").is_file() or os.path.islink(scene.root / "sneaky.txt")
    assert scene.tool_results()[0].startswith("Error: Refused")
    assert outcome.applied == []


def test_malformed_calls_are_answered_and_the_loop_goes_on(scene):
    scene.server.reply_tool_call("rm_rf", {"path": "/"})
    scene.server.reply_tool_call("read_file", {})
    scene.server.reply_tool_call("read_file", {"path": 7})
    scene.server.reply_tool_call("edit_file", {"path": "pkg/calc.py", "old_text": "nope",
                                               "new_text": "x"})
    scene.server.reply("giving up")
    outcome = scene.run("do things", assume_yes=True)
    assert outcome.steps == 4 and outcome.stopped is None and outcome.answer == "giving up"
    results = scene.tool_results()
    assert results[0].startswith("Error: there is no tool 'rm_rf'")
    assert results[1] == "Error: bad arguments for read_file: path: Field required."
    assert "path: Input should be a valid string" in results[2]
    assert "was not found in pkg/calc.py" in results[3]
    assert scene.calc() == "def add(a, b):\n    return a - b\n"


def test_tool_call_with_arguments_that_are_not_json_goes_back_to_the_model(scene):
    scene.server.reply_raw_tool_call("read_file", "{not json")
    scene.server.reply_tool_call("edit_file", {"path": "pkg/calc.py", "old_text": "a - b",
                                               "new_text": "a + b"})
    scene.server.reply("Fixed.")
    outcome = scene.run("fix add", assume_yes=True)
    assert outcome.stopped is None and outcome.answer == "Fixed."
    assert scene.calc().endswith("a + b\n")
    told = [m["content"] for m in scene.server.chat_requests[1].body["messages"]
            if m["role"] == "user"][-1]
    assert told.startswith("Error: ai-cli could not read your last reply")
    assert "tool_calls.0.function.arguments" in told
    notices = scene.stderr.getvalue().splitlines()
    assert notices[0] == ("  coder-7b @ " + scene.server.url.split("://")[1] + " (" +
                          outcome.route.model.model_id + "): the answer does not follow the "
                          "Ollama API (message.tool_calls.0.function.arguments: Input should be "
                          "a valid dictionary).")
    assert "Traceback" not in scene.stderr.getvalue()


def test_unreadable_replies_count_against_the_step_limit(scene):
    for _ in range(5):
        scene.server.reply_raw_tool_call("list_files", "[1, 2]")
    outcome = scene.run("loop", max_steps=2)
    assert outcome.stopped == "step_limit" and outcome.steps == 2
    assert len(scene.server.chat_requests) == 3


def test_step_limit_stops_a_looping_model(scene):
    scene.server.default_reply = ""
    for _ in range(10):
        scene.server.reply_tool_call("list_files", {})
    outcome = scene.run("loop forever", max_steps=3)
    assert outcome.stopped == "step_limit" and outcome.steps == 3
    assert len(scene.server.chat_requests) == 4  # three answered calls, the fourth is refused
    out = io.StringIO()
    show(outcome, Output(out, out))
    assert "Stopped after 3 tool calls" in out.getvalue()


def test_tool_output_is_capped(scene):
    (scene.root / "big.txt").write_text("y" * 5000)
    scene.server.reply_tool_call("read_file", {"path": "big.txt"})
    scene.server.reply("ok")
    scene.run("read big", max_tool_output=100)
    result = scene.tool_results()[0]
    assert result.startswith("y" * 100) and "4900 more characters not shown" in result


def test_json_file_content_stays_text(scene):
    """langchain-ollama turns a JSON-looking string argument into a dict; the file still gets text."""
    scene.server.reply_tool_call("write_file", {"path": "conf.json", "content": '{"a": 1}'})
    scene.server.reply("ok")
    scene.run("write json", assume_yes=True)
    assert (scene.root / "conf.json").read_text() == '{\n  "a": 1\n}'


def test_plaintext_format_for_a_model_without_tools(scene, registry):
    scene.server.add_model("plain-coder", capabilities=("completion",))
    plain = registry.add_model("coder", scene.server.url, "plain-coder", timeout=10)
    scene.server.reply(
        "Here is the fix.\n\npkg/calc.py\n```python\n<<<<<<< SEARCH\n    return a - c\n=======\n"
        "    return a + b\n>>>>>>> REPLACE\n```\n"
    )
    scene.server.reply(
        "Sorry.\n\npkg/calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n"
        "    return a + b\n>>>>>>> REPLACE\n```\n"
    )
    scene.answers.append("y")
    outcome = scene.run("fix add in calc.py")
    assert outcome.mode == "plaintext" and outcome.route.model.model_id == plain.model_id
    assert scene.calc() == "def add(a, b):\n    return a + b\n"
    requests = scene.server.chat_requests
    assert "tools" not in requests[0].body or not requests[0].body["tools"]
    assert "SEARCH/REPLACE" in requests[0].body["messages"][0]["content"]
    assert "return a - b" in requests[0].body["messages"][1]["content"]  # calc.py was named
    retry = requests[1].body["messages"][-1]["content"]
    assert "does not match the file exactly; did you mean:\n    return a - b" in retry
    scene.journal.undo(scene.root)
    assert scene.calc() == "def add(a, b):\n    return a - b\n"


def test_plaintext_gives_up_after_three_retries(scene, registry):
    scene.server.add_model("plain-coder", capabilities=("completion",))
    registry.add_model("coder", scene.server.url, "plain-coder", timeout=10)
    scene.server.default_reply = "x.py\n<<<<<<< SEARCH\nnot there\n=======\ny\n>>>>>>> REPLACE\n"
    outcome = scene.run("edit x.py", assume_yes=True)
    assert outcome.stopped == "edits_failed" and len(scene.server.chat_requests) == 4


def test_no_coder_route_is_the_seed_warning(tmp_path, registry, dead_url):  # noqa: F811
    scene = Scene(tmp_path, registry, None, dead_url)
    with pytest.raises(NoModelAvailable, match="No coder model available"):
        scene.run("anything")


def test_a_stream_that_breaks_after_an_edit_keeps_it_undoable(scene):
    from router.errors import StreamBroken

    # die_mid_stream sends `die_after` parts then drops: the tool-call reply (one call part and
    # the final part) arrives whole; the long answer after it breaks off.
    scene.server.chat_mode = "die_mid_stream"
    scene.server.die_after = 2
    scene.server.reply_tool_call("write_file", {"path": "new.txt", "content": "made\n"})
    scene.server.reply("this answer will break off before it ends")
    with pytest.raises(StreamBroken):
        scene.run("make a file", assume_yes=True)
    assert (scene.root / "new.txt").read_text() == "made\n"
    assert "Changed before the error: new.txt. '/undo' restores them." in scene.stderr.getvalue()
    assert scene.journal.undo(scene.root).deleted == ["new.txt"]  # /code created it
    assert not (scene.root / "new.txt").exists()


def test_big_tool_outputs_overflow_first_and_the_notice_comes_once(scene):
    scene.server.context_length = 1024
    for name in ("big1.txt", "big2.txt"):
        (scene.root / name).write_text((name[:4] + " line\n") * 400)  # ~4,000 characters each
    scene.server.reply_tool_call("read_file", {"path": "big1.txt"})
    scene.server.reply_tool_call("read_file", {"path": "big2.txt"})
    scene.server.reply_tool_call("read_file", {"path": "pkg/calc.py"})
    scene.server.reply("Read them all.")
    outcome = scene.run("read the big files")
    assert outcome.steps == 3 and outcome.stopped is None
    last = scene.server.chat_requests[-1].body
    assert last["messages"][1] == {"role": "user", "content": "read the big files"}
    results = scene.tool_results()
    assert "left out to fit the context window" in results[0]  # the oldest output was cut
    assert results[-1] == "def add(a, b):\n    return a - b\n"  # the newest is whole
    assert last["options"]["num_ctx"] <= 1024
    assert scene.server.counts[-1]["prompt_eval_count"] < last["options"]["num_ctx"]
    assert scene.stderr.getvalue().count("to fit coder-7b's 1,024-token window") == 1

"""Terminal escape injection: text from Redis, a model or a server reaches a
terminal inert, and piped output stays byte-exact.

The pure function `inert` is tested directly; then `ai-cli session show`, `session list` and
`chat` run on a real pseudo-terminal (pexpect) with hostile text stored in Redis or streamed by
the Ollama test server, and every byte read back is searched for the injected sequences.
"""

from __future__ import annotations

import io
import json
import subprocess

import pexpect
import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import PROGRAM, cli, restore_sigint  # noqa: F401

SLOW = 90  # seconds pexpect waits for output: generous, a loaded machine is slow

from cli.output import Output
from agent.sessions import SessionStore, StoredMessage
from cli.inert import inert, inert_json, unsafe_spans
from registry.manager import ModelRegistry

TITLE = "\x1b]0;pwned title\x07"  # OSC: sets the window title
CLEAR = "\x1b[2J"  # CSI: clears the screen
C1_CSI = "\u009b31m"  # the one-character CSI of C1
BIDI = "\u202eevil"  # right-to-left override
HOSTILE = f"before {TITLE} mid {CLEAR} then {C1_CSI} and {BIDI} end"
RAW = ("\x1b]", "\x1b[2J", "\u009b", "\u202e", "\x07")  # none may reach the terminal


# --- the function ----------------------------------------------------------------------------


def test_inert_shows_controls_as_caret_text_and_keeps_newlines_and_tabs():
    assert inert("a\x1b[2Jb") == "a^[[2Jb"
    assert inert(TITLE) == "^[]0;pwned title^G"
    assert inert("\x00\x08\x7f") == "^@^H^?"
    assert inert("x\u009by\u0080\u009f") == "x<U+009B>y<U+0080><U+009F>"
    assert inert("\u202a\u202e\u2066\u2069") == "<U+202A><U+202E><U+2066><U+2069>"
    assert inert("line\nnext\tcol\r\nwin") == "line\nnext\tcol\r\nwin"
    assert inert("over\rwrite") == "over^Mwrite"
    assert inert("plain ascii, émoji ✓ 日本") == "plain ascii, émoji ✓ 日本"


def test_inert_is_idempotent_and_leaves_nothing_a_terminal_obeys():
    every = "".join(chr(i) for i in range(0x00, 0xA0)) + "\u202a\u202b\u202c\u202d\u202e" \
        "\u2066\u2067\u2068\u2069"
    shown = inert(every)
    assert inert(shown) == shown
    bad = [c for c in shown if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F
           or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]
    assert bad == []


def test_inert_json_keeps_the_value_and_escapes_what_json_leaves_raw():
    value = {"content": HOSTILE}
    text = json.dumps(value, ensure_ascii=False)
    safe = inert_json(text)
    assert json.loads(safe) == value
    assert not any(seq in safe for seq in RAW)


# --- the edges of every range it makes inert ---------------------------------------------------
#
# The ranges are module-level regular expressions, which mutmut does not mutate: these tests pin
# them by hand, one character on each side of each edge.

SHOWN = {
    "\x00": "^@", "\x08": "^H", "\x0b": "^K", "\x0c": "^L", "\x0e": "^N", "\x1b": "^[",
    "\x1f": "^_", "\x7f": "^?", "\x80": "<U+0080>", "\x9b": "<U+009B>", "\x9f": "<U+009F>",
    "\u202a": "<U+202A>", "\u202e": "<U+202E>", "\u2066": "<U+2066>", "\u2069": "<U+2069>",
    "\r": "^M",
}
KEPT = ["\t", "\n", "\r\n", " ", "~", "\xa0", "é", "\u2029", "\u2065", "\u206a", "\u202f"]


@pytest.mark.parametrize("char, shown", SHOWN.items())
def test_inert_shows_each_edge_of_each_range(char, shown):
    assert inert(f"a{char}b") == f"a{shown}b"
    assert unsafe_spans(f"a{char}b") == [(1, 2)]


@pytest.mark.parametrize("text", KEPT)
def test_inert_keeps_what_a_terminal_only_prints(text):
    assert inert(f"a{text}b") == f"a{text}b"
    assert unsafe_spans(f"a{text}b") == []


@pytest.mark.parametrize("char", ["\x7f", "\x80", "\x9b", "\x9f", "\u202a", "\u202e", "\u2066",
                                  "\u2069"])
def test_inert_json_escapes_what_json_dumps_leaves_raw(char):
    raw = json.dumps({"v": f"a{char}b"}, ensure_ascii=False)
    made = inert_json(raw)
    assert made == raw.replace(char, f"\\u{ord(char):04x}")
    assert json.loads(made) == {"v": f"a{char}b"}


@pytest.mark.parametrize("char", ["~", "\xa0", "é", "\u2065", "\u206a"])
def test_inert_json_leaves_printable_text_alone(char):
    raw = json.dumps({"v": f"a{char}b"}, ensure_ascii=False)
    assert inert_json(raw) == raw


# --- Output on a terminal and on a pipe ----------------------------------------------------------


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_output_makes_every_path_inert_on_a_terminal_only(tty):
    from rich.markdown import Markdown
    from rich.table import Table
    from rich.text import Text

    stdout, stderr = _Stream(tty), _Stream(tty)
    out = Output(stdout, stderr)
    out.line(HOSTILE)
    out.print(Markdown(f"# {HOSTILE}\n\n**{HOSTILE}**"))
    table = Table()
    table.add_column("title")
    table.add_row(Text(HOSTILE))
    out.print(table)
    out.write(HOSTILE)
    out.json({"x": HOSTILE})
    for say in (out.notice, out.info, out.warn, out.error):
        say(HOSTILE)
    written = stdout.getvalue() + stderr.getvalue()
    if tty:
        assert not any(seq in written for seq in RAW)
        assert "^[]0;pwned title" in written and "<U+202E>evil" in written
    else:  # piped: write() and json() keep the text as it came
        assert HOSTILE in stdout.getvalue()
        assert json.dumps({"x": HOSTILE}, ensure_ascii=False, indent=2) in stdout.getvalue()


# --- real processes on a pseudo-terminal ----------------------------------------------------------


def read_all(child) -> str:
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    return child.before


def stored_session(real_redis, key_prefix) -> str:
    store = SessionStore(real_redis, key_prefix)
    session = store.new()
    store.append(session.session_id, StoredMessage("user", HOSTILE),
                 StoredMessage("assistant", HOSTILE, model_name=f"llama3{CLEAR}"))
    return session.session_id


def assert_inert(text: str) -> None:
    found = [seq for seq in RAW if seq in text]
    assert found == [], f"raw control sequences reached the terminal: {found!r}"
    assert "^[]0;pwned title" in text and "^[[2J" in text
    assert "<U+009B>31m" in text and "<U+202E>evil" in text


def test_session_show_and_list_on_a_pty_are_inert(cli, real_redis, key_prefix):
    sid = stored_session(real_redis, key_prefix)
    shown = read_all(cli.spawn("session", "show", sid, timeout=SLOW))
    assert_inert(shown)
    assert "before" in shown and "end" in shown
    listed = read_all(cli.spawn("session", "list", timeout=SLOW))
    assert sid in listed
    assert not any(seq in listed for seq in RAW)
    assert "^[]0;pwned" in listed  # the title: the first user message


def test_session_show_piped_and_json_keep_the_text(cli, real_redis, key_prefix):
    sid = stored_session(real_redis, key_prefix)
    data = cli.json("session", "show", sid)
    assert [m["content"] for m in data["messages"]] == [HOSTILE, HOSTILE]
    child = cli.spawn("session", "show", sid, "--json", timeout=SLOW)
    text = read_all(child).replace("\r\n", "\n")
    assert not any(seq in text for seq in RAW)  # JSON on a terminal: \\u escapes, same value
    assert json.loads(text)["messages"][1]["content"] == HOSTILE


def add_general(real_redis, key_prefix, server):
    server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", server.url, "llama3",
                                                               timeout=10)


def test_streamed_answer_on_a_pty_is_inert(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("ok ", HOSTILE[:12], HOSTILE[12:40], HOSTILE[40:])  # split mid-sequence
    shown = read_all(cli.spawn("chat", "hello", timeout=SLOW))
    assert_inert(shown)


def test_streamed_answer_in_the_repl_on_a_pty_is_inert(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    ollama_server.reply("ok ", HOSTILE)
    child = cli.spawn(timeout=SLOW)
    child.expect("AI CLI v1.0.0")
    child.sendline("hello")
    child.expect("end")
    child.sendline("/quit")
    assert_inert(child.before + read_all(child))


def test_piped_answer_is_byte_exact(cli, ollama_server, real_redis, key_prefix):
    add_general(real_redis, key_prefix, ollama_server)
    answer = HOSTILE + "\r\nnext\rline"
    ollama_server.reply(answer[:20], answer[20:])
    proc = subprocess.run([*PROGRAM, "chat", "hello"], cwd=cli.cwd, env=cli.env,
                          capture_output=True, timeout=60, preexec_fn=restore_sigint)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (answer + "\n").encode()


def test_model_names_and_urls_from_redis_on_a_pty_are_inert(cli, real_redis, key_prefix):
    """A hash written straight into Redis (not through `add`, which refuses such names)."""
    real_redis.hset(f"{key_prefix}models:model_0000abcd", mapping={
        "model_id": "model_0000abcd", "model_type": "general",
        "url": "http://127.0.0.1:9/\x1b[2J", "model_name": f"evil{TITLE}{BIDI}{C1_CSI}",
        "timeout": "30", "is_active": "0", "added_at": "2026-11-24T10:00:00+00:00",
        "last_checked": "", "is_available": ""})
    real_redis.sadd(f"{key_prefix}models:index:general", "model_0000abcd")
    shown = read_all(cli.spawn("model", "list", timeout=SLOW))
    assert "model_0000abcd" in shown
    assert not any(seq in shown for seq in RAW)
    assert "^[]0;pwned" in shown

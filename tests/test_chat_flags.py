"""Per-request chat flags as `llm` users type them, through real `ai-cli` processes, a real
Redis and the Ollama-protocol test server: -m, -s, -o, -c, -f, piped stdin, `--`, unknown
flags, and the shell's session in use (`ai-cli session use ID` ... `session use none`)."""

from __future__ import annotations

import stat

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from registry.manager import ModelRegistry


def registry_of(real_redis, key_prefix):
    return ModelRegistry(real_redis, key_prefix=key_prefix)


def setup_two(real_redis, key_prefix, server):
    server.add_model("llama3")
    server.add_model("mistral:7b")
    registry = registry_of(real_redis, key_prefix)
    a = registry.add_model("general", server.url, "llama3", timeout=10)
    b = registry.add_model("general", server.url, "mistral:7b", timeout=10, set_active=False)
    return a, b


def sent(server, index=-1):
    return [(m["role"], m["content"]) for m in server.chat_requests[index].body["messages"]]


def test_piped_text_then_the_message(cli, ollama_server, real_redis, key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    proc = cli.run("chat", "explain this code", input="def f():\n    return 1\n")
    assert proc.returncode == 0, proc.stderr
    assert sent(ollama_server) == [("user", "def f():\n    return 1\n\nexplain this code")]


def test_model_by_name_for_one_request_and_unknown_flags(cli, ollama_server, real_redis,
                                                         key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    proc = cli.run("chat", "-m", "mistral:7b", "hi")
    assert proc.returncode == 0, proc.stderr
    assert ollama_server.chat_requests[-1].model == "mistral:7b"
    assert sent(ollama_server) == [("user", "hi")]
    assert registry_of(real_redis, key_prefix).get_active_model("general").model_name == "llama3"
    count = len(ollama_server.chat_requests)
    bad = cli.run("chat", "-q", "hi")
    assert bad.returncode == 2 and "Unknown option '-q'" in bad.stderr
    assert "Usage: ai-cli chat [-m MODEL]" in bad.stderr
    unknown = cli.run("chat", "-m", "nosuch", "hi")
    assert unknown.returncode == 1 and "No model with id or name 'nosuch'" in unknown.stderr
    assert len(ollama_server.chat_requests) == count  # nothing was sent
    literal = cli.run("chat", "--", "-m", "is", "a", "flag")
    assert literal.returncode == 0, literal.stderr
    assert sent(ollama_server) == [("user", "-m is a flag")]


def test_options_are_checked_and_sent(cli, ollama_server, real_redis, key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    proc = cli.run("chat", "q", "-o", "temperature", "0.2", "-o", "seed", "3", "-o", "stop", "##")
    assert proc.returncode == 0, proc.stderr
    options = ollama_server.chat_requests[-1].body["options"]
    assert options["temperature"] == 0.2 and options["seed"] == 3 and options["stop"] == ["##"]
    count = len(ollama_server.chat_requests)
    for args, words in ((("-o", "temp", "1"), "Unknown option 'temp'"),
                        (("-o", "seed", "x"), "takes a whole number"),
                        (("-o", "seed"), "needs a value")):
        bad = cli.run("chat", "q", *args)
        assert bad.returncode == 2 and words in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert len(ollama_server.chat_requests) == count


def test_system_prompt_is_stored_with_the_session_and_continue(cli, ollama_server, real_redis,
                                                               key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    session = cli.json("session", "new")["session_id"]
    ollama_server.reply("one")
    assert cli.run("chat", "-s", "Answer in French.", "first").returncode == 0
    assert sent(ollama_server) == [("system", "Answer in French."), ("user", "first")]
    ollama_server.reply("two")
    assert cli.run("chat", "second").returncode == 0  # the session in use, with its system prompt
    assert sent(ollama_server) == [("system", "Answer in French."), ("user", "first"),
                                   ("assistant", "one"), ("user", "second")]
    assert cli.json("session", "show", session)["system"] == "Answer in French."
    assert cli.run("session", "use", "none").returncode == 0
    assert cli.run("chat", "alone").returncode == 0
    assert sent(ollama_server) == [("user", "alone")]
    assert cli.run("chat", "-c", "third").returncode == 0  # the most recent exchange: "alone"
    assert sent(ollama_server)[0] == ("user", "alone")
    assert sent(ollama_server)[-1] == ("user", "third") and len(sent(ollama_server)) == 3


def test_session_use_is_kept_for_later_commands_in_a_private_file(cli, ollama_server, real_redis,
                                                                  key_prefix, tmp_path):
    setup_two(real_redis, key_prefix, ollama_server)
    first = cli.json("session", "new")["session_id"]
    assert cli.run("session", "use", "none").returncode == 0
    assert cli.run("chat", "a one-off").returncode == 0  # a session of its own, not `first`
    assert cli.json("session", "show", first)["message_count"] == 0
    used = cli.run("session", "use", first)
    assert used.returncode == 0 and "session use none" in used.stderr
    files = [p for p in (tmp_path / "xdg-data").rglob("session") if p.is_file()]
    assert [p.read_text().strip() for p in files] == [first]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert cli.run("chat", "saved").returncode == 0
    assert cli.json("session", "show", first)["message_count"] == 2
    listing = cli.run("session", "list")
    assert first in listing.stdout


def test_session_defaults_system_and_options(cli, ollama_server, real_redis, key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    cli.json("session", "new")
    assert cli.run("session", "system", "Be terse.").returncode == 0
    assert cli.run("session", "option", "temperature", "0.1").returncode == 0
    bad = cli.run("session", "option", "temprature", "1")
    assert bad.returncode == 2 and "Unknown option 'temprature'" in bad.stderr
    shown = cli.json("session", "show")
    assert shown["system"] == "Be terse." and shown["options"] == {"temperature": 0.1}
    assert cli.run("chat", "q", "-o", "seed", "5").returncode == 0
    body = ollama_server.chat_requests[-1].body
    assert body["options"]["temperature"] == 0.1 and body["options"]["seed"] == 5
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert cli.run("session", "option", "temperature", "none").returncode == 0
    assert cli.run("session", "system", "none").returncode == 0
    shown = cli.json("session", "show")
    assert shown["system"] is None and shown["options"] == {}


def test_files_go_into_the_prompt_under_their_names(cli, ollama_server, real_redis, key_prefix):
    setup_two(real_redis, key_prefix, ollama_server)
    (cli.cwd / "a.py").write_text("print('a')\n")
    proc = cli.run("chat", "-f", "a.py", "what does it print?")
    assert proc.returncode == 0, proc.stderr
    assert sent(ollama_server) == [("user", "a.py\n```\nprint('a')\n```\n\nwhat does it print?")]
    missing = cli.run("chat", "-f", "nope.py", "q")
    assert missing.returncode == 2 and "Cannot read nope.py" in missing.stderr


def test_names_resolve_within_the_type_and_ambiguity_exits_2(cli, ollama_server, real_redis,
                                                             key_prefix):
    a, b = setup_two(real_redis, key_prefix, ollama_server)
    # mistral:7b on a second host is the same model (registry/replicas.py); a second tag makes
    # the tagless name ambiguous
    registry_of(real_redis, key_prefix).add_model("general", "http://127.0.0.1:9",
                                                  "mistral:instruct", timeout=5, set_active=False)
    used = cli.json("model", "general", "use", "llama3")
    assert used["model_id"] == a.model_id
    ambiguous = cli.run("model", "general", "use", "mistral")
    assert ambiguous.returncode == 2 and b.model_id in ambiguous.stderr
    assert "More than one model is named 'mistral'" in ambiguous.stderr
    inferred = cli.json("model", "use", b.model_id)
    assert inferred["model_id"] == b.model_id and inferred["is_active"] is True
    wrong = cli.run("model", "coder", "use", "llama3")
    assert wrong.returncode == 1 and "is a general model, not a coder model" in wrong.stderr

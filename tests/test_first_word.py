"""`ai-cli "question"` as `llm "question"`: the first-word rule (cli/first_word.py), pure, and
through real `ai-cli` processes against the Ollama-protocol test server."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401

from agent.errors import UnknownCommand
from cli.commands import terminal_table
from cli.first_word import as_command_words, one_edit_apart
from registry.manager import ModelRegistry

TABLE = terminal_table()


@pytest.mark.parametrize("words, expected", [
    (["why", "is", "the", "sky", "blue"], ["chat", "why", "is", "the", "sky", "blue"]),
    (["log my day in three lines"], ["chat", "log my day in three lines"]),
    (["help me write a haiku"], ["chat", "help me write a haiku"]),
    (["hi"], ["chat", "hi"]),
    (["-m", "llama3", "hi"], ["chat", "-m", "llama3", "hi"]),
    (["--system=be brief", "hi"], ["chat", "--system=be brief", "hi"]),
    (["log"], ["log"]),
    (["Model", "list"], ["Model", "list"]),
    (["chat", "hi"], ["chat", "hi"]),
    (["edit", "this", "sentence"], ["chat", "edit", "this", "sentence"]),  # a REPL-only word
    (["models", "are", "fun"], None),  # one edit from `model`: a typo
])
def test_a_first_word_that_is_not_a_command_is_a_question(words, expected):
    if expected is None:
        with pytest.raises(UnknownCommand):
            as_command_words(TABLE, words)
    else:
        assert as_command_words(TABLE, words) == expected


@pytest.mark.parametrize("words, guess", [
    (["modle", "list"], "ai-cli model"),
    (["sesion"], "ai-cli session"),
    (["lgo"], "ai-cli log"),
    (["models"], "ai-cli model list"),
    (["ls"], "ai-cli model list"),  # a word people try for a command, typed alone
])
def test_a_typo_of_a_command_gets_did_you_mean_and_how_to_ask(words, guess):
    with pytest.raises(UnknownCommand) as caught:
        as_command_words(TABLE, words)
    message = caught.value.message
    assert f"Did you mean {guess}" in message and "ai-cli chat " in message
    assert len(message.splitlines()) == 1


def test_words_that_go_on_past_a_command_say_how_to_ask():
    from agent.errors import UsageError
    from cli.first_word import with_question_hint

    extra = with_question_hint(UsageError("Unexpected 'me'. Usage: ai-cli help"),
                               ["help", "me", "write"])
    assert extra.message == ("Unexpected 'me'. To ask a model instead: ai-cli chat "
                             "'help me write'. Usage: ai-cli help")
    missing = UsageError("Missing <model_name>. Usage: ai-cli model ...")
    assert with_question_hint(missing, ["model", "general", "add", "u"]) is missing


def test_one_edit():
    assert one_edit_apart("modle", "model") and one_edit_apart("mode", "model")
    assert one_edit_apart("models", "model") and one_edit_apart("cod", "code")
    assert not one_edit_apart("model", "model") and not one_edit_apart("hi", "help")
    assert not one_edit_apart("sky", "session") and not one_edit_apart("mdoel", "modle")


@pytest.mark.process
def test_ai_cli_question_sends_a_chat(cli, ollama_server, real_redis, key_prefix):
    ollama_server.add_model("llama3")
    ModelRegistry(real_redis, key_prefix=key_prefix).add_model("general", ollama_server.url,
                                                               "llama3", timeout=10)
    ollama_server.reply("Rayleigh scattering.")
    proc = cli.run("why is the sky blue?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Rayleigh scattering.\n"
    body = ollama_server.chat_requests[-1].body
    assert body["messages"][-1] == {"role": "user", "content": "why is the sky blue?"}
    ollama_server.reply("ok")
    words = cli.run("log", "my", "day")  # `log` is a command: not sent, but how to is said
    assert words.returncode == 2 and "Unexpected 'my'" in words.stderr
    assert "To ask a model instead: ai-cli chat 'log my day'" in words.stderr
    spaced = cli.run("log my day")
    assert spaced.returncode == 0 and spaced.stdout == "ok\n"
    assert ollama_server.chat_requests[-1].body["messages"][-1]["content"] == "log my day"
    count = len(ollama_server.chat_requests)
    typo = cli.run("sesion", "list")
    assert typo.returncode == 2 and "Did you mean ai-cli session?" in typo.stderr
    assert len(ollama_server.chat_requests) == count


# The command table itself brings the Redis client (every command reads the registry); the
# decision must add nothing: no LangChain, web, terminal drawing or prompt.
HEAVY = ("rich", "langchain_core", "langchain_ollama", "fastapi", "prompt_toolkit", "httpx",
         "questionary")


@pytest.mark.process
def test_the_decision_imports_nothing_heavy():
    import subprocess
    import sys

    from test_cli_support import ROOT

    program = (
        "import sys\n"
        "from cli.commands import terminal_table\n"
        "from cli.first_word import as_command_words\n"
        "table = terminal_table()\n"
        "as_command_words(table, ['why', 'is', 'the', 'sky', 'blue'])\n"
        "as_command_words(table, ['model', 'list'])\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

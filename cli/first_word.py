"""`ai-cli "question"`: whether the words after `ai-cli` are a command or a chat message, as with
`llm "question"`. Pure: no I/O, and nothing heavy imported (the table is the catalog, already read).

The rule (docs/COMMANDS.md, "A question without `chat`"):

- a first word that is a command's first word (`model`, `log`, `chat`, ...) is that command;
- a first word with a space in it (`ai-cli "log my day"`) is a chat message, whatever it starts
  with;
- a first word one edit away from a command's (`modle`, `sesion`), or a word people try for one
  typed alone (`models`, `ls`, `clear`), is a typo: "Did you mean ...?", nothing is sent;
- anything else is a chat message: all the words, joined by spaces (`ai-cli why is the sky blue`);
- a first word that is one of `chat`'s own flags (`ai-cli -m llama3 "question"`) is chat too.
"""

from __future__ import annotations

from agent.commands.base import SUBCOMMAND
from agent.errors import UnknownCommand

CHAT = "chat"


def command_words(table) -> set[str]:
    """Every first word of an `ai-cli` command (the REPL's own, `edit`, `raw`, `quit`, are
    words of a question here)."""
    return command_words_of(table.for_face(SUBCOMMAND))


def command_words_of(commands) -> set[str]:
    words: set[str] = set()
    for command in commands:
        for form in (command.words, *command.aliases):
            if form and isinstance(form[0], str):
                words.add(form[0])
    return words


def one_edit_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter added, dropped, changed, or two neighbours swapped
    (and not equal). Pure."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diffs) == 1:
            return True
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def chat_flags(table) -> set[str]:
    chat = next((c for c in table.commands if c.words == (CHAT,)), None)
    return {name for option in (chat.options if chat else ()) for name in option.names}


def as_command_words(table, words: list[str]) -> list[str]:
    """The words to parse as a command: `words` themselves, or `chat` and `words` when they are
    a question. Raises UnknownCommand (with a did-you-mean) for a typo of a command."""
    if not words:
        return words
    first = words[0]
    if first.startswith("-"):
        flag = first.split("=", 1)[0]
        return [CHAT, *words] if flag in chat_flags(table) else words
    if any(space in first for space in (" ", "\t", "\n")):
        return [CHAT, *words]
    word = first.lower()
    known = command_words(table)
    if word in known:
        return words
    near = sorted(w for w in known if one_edit_apart(word, w))
    synonym = len(words) == 1 and any(word in c.synonyms for c in table.for_face(SUBCOMMAND))
    if near or synonym:
        guesses = table.suggest(word, SUBCOMMAND, "ai-cli ") if synonym else [
            f"ai-cli {w}" for w in near]
        maybe = f" Did you mean {' or '.join(guesses)}?" if guesses else ""
        raise UnknownCommand(f"Unknown command 'ai-cli {first}'.{maybe} {ask_instead(words)}")
    return [CHAT, *words]


def ask_instead(words: list[str]) -> str:
    """The hint for words that were taken as a command but may have been a question."""
    import shlex

    return f"To ask a model instead: ai-cli chat {shlex.quote(' '.join(words))}"


def with_question_hint(exc, words: list[str]):
    """A command's own "does not fit" error for words that begin with a command's word but go on
    like a sentence (`ai-cli help me write a haiku`, `ai-cli log my day`): the same error, and
    how to ask instead. Other errors (a missing argument, a bad URL) are returned as they are."""
    message = exc.message
    if len(words) < 2 or words[0].startswith("-") or words[0].lower() == CHAT:
        return exc
    if not (message.startswith("Unexpected ") or "is not a command" in message):
        return exc
    head, marker, usage = message.partition(" Usage: ")
    return type(exc)(f"{head} {ask_instead(words)}.{marker}{usage}")


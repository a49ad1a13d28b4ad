"""Parsing a command line against the command table. Pure: no I/O.

The REPL gives a raw line (`/model general add URL NAME --timeout 30`); a subcommand gives argv
(`model general add URL NAME --timeout 30`). Both find the command by its words (the longest
match wins), then bind positionals and options. A `rest` argument takes the remaining text
verbatim, so `/code don't touch main.py` needs no quoting.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from agent.commands.base import REPL, SUBCOMMAND, Args, Command, Slot
from agent.errors import UnknownCommand, UsageError
from registry.errors import InvalidInput

SLASH = "/"
PROGRAM = "ai-cli "


@dataclass(frozen=True)
class Invocation:
    command: Command
    args: Args


class CommandTable:
    def __init__(self, commands: list[Command]):
        self.commands = list(commands)

    def for_face(self, face: str) -> list[Command]:
        return [c for c in self.commands if face in c.faces]

    # --- the two entry points ------------------------------------------------------------

    def parse_line(self, line: str) -> Invocation:
        """A REPL line starting with '/'."""
        text = line.strip()
        if text.startswith(SLASH):
            text = text[1:]
        words = text.split()
        if not words:
            raise UnknownCommand("Type a command after '/', for example /help.")
        command, used = self._match(words, REPL, SLASH)
        args = self._bind(command, _after_words(text, used), None, SLASH)
        return Invocation(command, _with_slots(command, words, args))

    def parse_argv(self, argv: list[str]) -> Invocation:
        """`ai-cli` arguments after the global flags were taken out."""
        if not argv:
            raise UnknownCommand("No command given. Run 'ai-cli --help' for the list.")
        command, used = self._match(argv, SUBCOMMAND, PROGRAM)
        rest = argv[used:]
        args = self._bind(command, " ".join(rest), rest, PROGRAM)
        return Invocation(command, _with_slots(command, argv, args))

    def find(self, words: list[str], face: str) -> Command | None:
        """The command these words name (for `--help` on one command), or None."""
        try:
            return self._match(words, face, "")[0]
        except InvalidInput:  # no such command, or a slot refused its word
            return None

    def group(self, words: list[str], face: str) -> list[Command]:
        """Every command whose words begin with `words` (`model`, `session model`): group help."""
        return [c for c in self.for_face(face)
                if words and _match_words(c.words, words)[0] == len(words) <= len(c.words)]

    def suggest(self, word: str, face: str, prefix: str) -> list[str]:
        """Commands a mistyped or foreign first word (`models`, `clear`) probably meant."""
        import difflib

        word = word.lower()
        named: dict[str, list[str]] = {}
        for command in self.for_face(face):
            for form in _word_forms(command):
                named.setdefault(str(form[0]), []).append(prefix + str(form[0]))
            for synonym in command.synonyms:
                shown = prefix + " ".join(w if isinstance(w, str) else w.usage()
                                          for w in command.words)
                named.setdefault(synonym, []).insert(0, shown)
        found: list[str] = []
        synonyms = {syn for c in self.for_face(face) for syn in c.synonyms}
        close = [word] if word in synonyms else difflib.get_close_matches(word, list(named), n=2,
                                                                           cutoff=0.6)
        for near in close:
            for shown in named[near]:
                if shown not in found:
                    found.append(shown)
        return found[:2]

    # --- matching the words ----------------------------------------------------------------

    def _match(self, tokens: list[str], face: str, prefix: str) -> tuple[Command, int]:
        best: tuple[Command, int] | None = None
        deepest = 0  # how many words some command matched before it failed
        slot_miss: tuple[Slot, str] | None = None
        for command in self.for_face(face):
            for words in _word_forms(command):
                matched, miss = _match_words(words, tokens)
                if matched == len(words):
                    if best is None or matched > best[1]:
                        best = (command, matched)
                elif matched > deepest or (matched == deepest and miss and not slot_miss):
                    deepest, slot_miss = matched, miss
        if best is not None:
            return best
        if slot_miss is not None and slot_miss[0].check is not None:
            slot_miss[0].check(slot_miss[1])  # raises the slot's own message
        raise self._no_command(tokens, deepest, face, prefix)

    def _no_command(self, tokens: list[str], depth: int, face: str, prefix: str):
        typed = prefix + " ".join(tokens[: depth + 1])
        group = [c for c in self.for_face(face)
                 if depth and _match_words(c.words, tokens)[0] >= depth]
        help_hint = "/help" if prefix == SLASH else "ai-cli --help"
        if group and len(tokens) > depth:  # a wrong word after a group: one line, what may come
            following = []
            for command in group:
                word = command.words[depth] if len(command.words) > depth else None
                shown = word.usage() if isinstance(word, Slot) else word
                if shown and shown not in following:
                    following.append(shown)
            after = prefix + " ".join(tokens[:depth])
            return UsageError(f"'{typed}' is not a command. After '{after}' comes one of: "
                              f"{' | '.join(following)}.")
        if group:  # only a group's first words: its commands, one a line
            listed = "".join(f"\n  {c.usage(prefix)}" for c in group)
            return UsageError(f"'{typed}' is not a whole command. Use one of:{listed}")
        guesses = self.suggest(tokens[0], face, prefix) if depth == 0 else []
        maybe = f" Did you mean {' or '.join(guesses)}?" if guesses else ""
        return UnknownCommand(f"Unknown command '{typed}'.{maybe} Type {help_hint} for the list.")

    # --- binding arguments and options ---------------------------------------------------------

    def _bind(self, command: Command, remainder: str, argv: list[str] | None, prefix: str) -> Args:
        args = Args({o.dest: o.default() for o in command.options})
        usage = f"Usage: {command.usage(prefix)}"
        positional = command.args
        if positional and positional[-1].signed:
            return _bind_signed(command, argv if argv is not None else _split(remainder, usage),
                                args, usage)
        if positional and positional[-1].rest:
            if argv is not None:  # argv: flags anywhere, the other words form the text
                words = _take_flags(command, argv, args, usage)
                bound = self._bind_rest(command, " ".join(words), args, usage)
                if words and bound[positional[-1].name] is None:
                    bound[positional[-1].name] = ""  # typed, but blank (`ai-cli chat ""`)
                return bound
            return self._bind_rest(command, _leading_flags(command, remainder, args, usage),
                                   args, usage)
        tokens = argv if argv is not None else _split(remainder, usage)
        values = _take_flags(command, tokens, args, usage)
        required = [a for a in positional if not a.optional]
        if len(values) < len(required):
            missing = required[len(values)]
            raise UsageError(f"Missing <{missing.name}>. {usage}")
        if len(values) > len(positional):
            extra = values[len(positional)]
            raise UsageError(f"Unexpected {extra!r}. {usage}")
        for arg, value in zip(positional, values):
            args[arg.name] = value
        return args

    def _bind_rest(self, command: Command, remainder: str, args: Args, usage: str) -> Args:
        *before, rest = command.args
        text = remainder.strip()
        for arg in before:  # plain args ahead of the rest take one word each
            head, _, text = text.partition(" ")
            if not head:
                raise UsageError(f"Missing <{arg.name}>. {usage}")
            args[arg.name] = head
            text = text.strip()
        if not text and not rest.optional:
            raise UsageError(f"Missing <{rest.name}>. {usage}")
        args[rest.name] = text or None
        return args


FLAG_RE = re.compile(r"^--?[A-Za-z]")  # `-m`, `--model`; `-5` and `-` are words
END_OF_FLAGS = "--"
SIGNED_RE = re.compile(r"^-[a-z][a-z0-9_-]*\Z")  # `-tools`: a word for a `signed` argument


def _bind_signed(command: Command, tokens: list[str], args: Args, usage: str) -> Args:
    """Plain args take one word each; the last (`signed`) the list of the words left, `-word`
    among them (hidden from the flag parser behind a NUL, which no typed word holds)."""
    hidden = ["\0" + t if SIGNED_RE.match(t) and command.option(t) is None else t
              for t in tokens]
    values = [v.removeprefix("\0") for v in _take_flags(command, hidden, args, usage)]
    *before, last = command.args
    required = [a for a in before if not a.optional]
    if len(values) < len(required):
        raise UsageError(f"Missing <{required[len(values)].name}>. {usage}")
    for arg, value in zip(before, values):
        args[arg.name] = value
    args[last.name] = values[len(before):]
    return args


def _is_flag(token: str) -> bool:
    return bool(FLAG_RE.match(token))


def _take_flags(command: Command, tokens: list[str], args: Args, usage: str) -> list[str]:
    """Bind every flag in `tokens` (anywhere; `--` ends them) and return the other words."""
    values: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == END_OF_FLAGS:
            values.extend(tokens[i + 1:])
            break
        if _is_flag(token):
            i = _take_option(command, tokens, i, args, usage)
            continue
        values.append(token)
        i += 1
    return values


TOKEN_RE = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|\S+)""")


def _leading_flags(command: Command, text: str, args: Args, usage: str) -> str:
    """A REPL line's flags before its free text (`/chat -m llama3 -s "be brief" hi there`):
    bound into `args`; returns the text after them verbatim. `--` ends the flags."""
    tokens: list[str] = []
    position = 0
    while True:  # the flags and their values, one word at a time (quotes allowed)
        match = TOKEN_RE.match(text, position)
        if match is None:
            break
        word = match.group(1)
        if not tokens or not (_wants_value(command, tokens) or _maybe_value(command, tokens, word)):
            if word == END_OF_FLAGS:
                position = match.end()
                break
            if not _is_flag(word):
                break
        tokens.append(_split(word, usage)[0] if word[:1] in "\"'" else word)
        position = match.end()
    if tokens:
        leftover = _take_flags(command, tokens, args, usage)
        if leftover:  # an option's value went missing at the end of the line
            raise UsageError(f"Unexpected {leftover[0]!r}. {usage}")
    return text[position:]


def _maybe_value(command: Command, tokens: list[str], word: str) -> bool:
    """Whether `word` is the optional value of the flag just before it (`--think high`)."""
    option = command.option(tokens[-1]) if _is_flag(tokens[-1]) else None
    return option is not None and word in option.maybe and "=" not in tokens[-1]


def _wants_value(command: Command, tokens: list[str]) -> bool:
    """Whether the next word is a value of the last flag among `tokens`."""
    for back in range(1, 3):
        if len(tokens) < back:
            return False
        option = command.option(tokens[-back]) if _is_flag(tokens[-back]) else None
        if option is not None and "=" not in tokens[-back]:
            return option.takes_value and option.values >= back
    return False


def _take_option(command: Command, tokens: list[str], i: int, args: Args, usage: str) -> int:
    token = tokens[i]
    option = command.option(token)
    if option is None:
        known = ", ".join("/".join(o.names) for o in command.options) or "none"
        raise UsageError(f"Unknown option {token.split('=', 1)[0]!r} (options here: {known}). {usage}")
    if not option.takes_value:
        if option.maybe and "=" in token and token.split("=", 1)[1] in option.maybe:
            args[option.dest] = token.split("=", 1)[1]
            return i + 1
        if "=" in token:
            raise UsageError(f"{option.flag} takes no value. {usage}")
        if option.maybe and i + 1 < len(tokens) and tokens[i + 1] in option.maybe:
            args[option.dest] = tokens[i + 1]
            return i + 2
        args[option.dest] = True
        return i + 1
    if "=" in token and option.values == 1:
        words, end = [token.split("=", 1)[1]], i + 1
    else:
        words, end = tokens[i + 1:i + 1 + option.values], i + 1 + option.values
        if len(words) < option.values:
            raise UsageError(f"{'/'.join(option.names)} needs a value ({option.metavar}). {usage}")
    value = words[0] if option.values == 1 else tuple(words)
    if option.repeat:
        args[option.dest] = [*args[option.dest], value]
    else:
        args[option.dest] = value
    return end


def _with_slots(command: Command, tokens: list[str], args: Args) -> Args:
    for word, token in zip(command.words, tokens):
        if isinstance(word, Slot):
            args[word.name] = token.lower()
    return args


def _word_forms(command: Command) -> list[tuple]:
    return [command.words, *command.aliases]


def _match_words(words: tuple, tokens: list[str]) -> tuple[int, tuple[Slot, str] | None]:
    """How many leading words match, and the slot that refused a token (if that stopped it)."""
    for i, word in enumerate(words):
        if i >= len(tokens):
            return i, None
        token = tokens[i]
        if isinstance(word, Slot):
            if token.lower() not in word.choices:
                return i, (word, token)
        elif token.lower() != word:
            return i, None
    return len(words), None


def _after_words(text: str, count: int) -> str:
    """The raw text after the first `count` whitespace-separated words."""
    match = re.match(r"\s*(?:\S+\s*){%d}" % count, text)
    return text[match.end():] if match else ""


def _split(text: str, usage: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError(f"A quote is not closed. {usage}") from None

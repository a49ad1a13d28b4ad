"""The shared shape of a command: its words, arguments, options, help and handler.

One `Command` serves every face: the REPL slash form (`/model general add URL NAME`), the
`ai-cli model general add URL NAME` subcommand, `/help`, tab completion and docs/COMMANDS.md.
A handler gets the `App` and the parsed `Args`, does its work through the registry/router, and
returns a `Result`: data, whose `to_json()` is the `--json` output and the web API's answer (the
terminal draws it, cli/views/), or raises an `AiCliError` subclass, which each face translates
in exactly one place (cli/dispatch.py, ui/app.py).

Every command is declared once, in catalog.py; its handler is named there as "module:function" and
imported when the command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:  # imports for type hints only: importing this module stays cheap
    from agent.app import App

REPL = "repl"
SUBCOMMAND = "subcommand"
BOTH = frozenset({REPL, SUBCOMMAND})


@dataclass(frozen=True)
class Slot:
    """A word position that takes one of a few values, e.g. the model type in `/model general add`."""

    name: str  # the key it is bound to in Args
    choices: tuple[str, ...]
    check: Callable[[str], Any] | None = None  # raises the user-ready InvalidInput on a bad value

    def usage(self) -> str:
        return "{" + "|".join(self.choices) + "}"


Word = str | Slot


@dataclass(frozen=True)
class Arg:
    """A positional argument after the command words."""

    name: str
    help: str = ""
    optional: bool = False
    rest: bool = False  # takes the rest of the line verbatim (an instruction, a chat message)
    complete: str | None = None  # what tab completion offers: "model_id", "url"
    # The last argument only: every word left, as a list, where `-word` (not an option of the
    # command) is a word too: `model caps llama3 +vision -tools`.
    signed: bool = False

    def usage(self) -> str:
        shown = f"<{self.name}>" + ("..." if self.rest or self.signed else "")
        return f"[{shown}]" if self.optional else shown


@dataclass(frozen=True)
class Option:
    """A `--flag` (no value), `--name VALUE` or `--name KEY VALUE` option of one command."""

    flag: str  # "--timeout"
    help: str = ""
    metavar: str | None = None  # None: a boolean flag; "KEY VALUE": two words (see `values`)
    short: str | None = None  # "-m"
    repeat: bool = False  # may be given again: the values collect into a list, in order
    values: int = 1  # words a value takes: 2 binds a (KEY, VALUE) pair
    # A flag without a metavar that may be followed by one of these words, its value
    # (`--think`, `--think high`); alone it binds True.
    maybe: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.short, self.flag) if self.short else (self.flag,)

    @property
    def shown(self) -> str:
        """`-m/--model ID|NAME`, as help and the docs list it."""
        names = "/".join(self.names)
        if self.maybe:
            return f"{names} [{'|'.join(self.maybe)}]"
        return f"{names} {self.metavar}" if self.takes_value else names

    def default(self):
        if self.repeat:
            return []
        return None if self.takes_value else False

    def usage(self) -> str:
        shown = f"{self.names[0]} {self.metavar}" if self.takes_value else self.names[0]
        if self.maybe:
            shown = f"{self.names[0]} [{'|'.join(self.maybe)}]"
        return f"[{shown}]" + ("..." if self.repeat else "")


class Result(Protocol):
    """What a handler returns: data, with its JSON shape."""

    def to_json(self) -> Any: ...


@dataclass(frozen=True)
class Message:
    """A result that is just a line of text (JSON: {"message": text})."""

    text: str
    style: str | None = None

    def to_json(self) -> Any:
        return {"message": self.text}


class Args(dict):
    """Parsed arguments: slot values, positionals and options, by name; missing ones read as None."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


Handler = Callable[["App", Args], "Result | None"]


@dataclass(frozen=True)
class Command:
    words: tuple[Word, ...]  # ("model", TYPE_SLOT, "add")
    help: str  # one line for /help
    handler: Handler | str  # a function, or "module:function", imported when the command runs
    args: tuple[Arg, ...] = ()
    options: tuple[Option, ...] = ()
    needs: str | None = None  # a router feature this command needs: "chat" | "code" | "code_tools"
    faces: frozenset = BOTH  # where it exists: REPL (slash form), SUBCOMMAND (ai-cli ...)
    aliases: tuple[tuple[str, ...], ...] = ()  # other literal words, e.g. (("exit",),) for quit
    details: str = ""  # longer text for docs/COMMANDS.md and `--help`
    group: str = ""  # heading in /help and the docs; defaults to the first word
    synonyms: tuple[str, ...] = ()  # words users try for it (e.g. "clear"): did-you-mean only

    @property
    def heading(self) -> str:
        return self.group or str(self.words[0])

    def usage(self, prefix: str = "/") -> str:
        """`/model {general|coder} add <url> <model_name> [--timeout SECONDS]` (prefix "ai-cli ")."""
        parts = [w.usage() if isinstance(w, Slot) else w for w in self.words]
        args = [a.usage() for a in self.args]
        options = [o.usage() for o in self.options]
        # flags ahead of free text, where the REPL takes them (`/chat -m NAME question`)
        parts += options + args if self.args and self.args[-1].rest else args + options
        return prefix + " ".join(parts)

    def option(self, token: str) -> Option | None:
        name = token.split("=", 1)[0]
        return next((o for o in self.options if name in o.names), None)

    def run(self, app: "App", args: Args) -> "Result | None":
        return self.resolved_handler()(app, args)

    def resolved_handler(self) -> Handler:
        if not isinstance(self.handler, str):
            return self.handler
        import importlib

        module, _, function = self.handler.partition(":")
        return getattr(importlib.import_module(module), function)

    def off_reason(self, app: "App") -> str | None:
        """Why this command cannot run right now (a feature is off), or None when it can."""
        if self.needs is None:
            return None
        return app.feature_off_reason(self.needs)


def model_type_slot(types: tuple[str, ...] | None = None) -> Slot:
    """The `{general|coder|embedding}` word of the /model grammar (or just `types`), checked
    with the registry's own message."""
    from registry.model import MODEL_TYPES, validate_model_type

    return Slot("model_type", types or MODEL_TYPES, validate_model_type)


class LeaveRepl(BaseException):
    """Raised by /quit and /exit: the REPL ends cleanly. Not an error, so (like SystemExit) it
    passes every `except Exception` on its way out."""

"""`ai-cli log`: the answer log (registry/answer_log.py) for people and scripts.

`log` lists recent answers newest first, like `llm logs` (`model stats` sums them up:
agent/commands/stats.py). It reads the `log:answers` stream every ai-cli process writes to and
imports neither the router nor langchain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.commands.base import Args
from agent.commands.catalog import DEFAULT_LOG_COUNT
from registry.errors import InvalidInput

if TYPE_CHECKING:  # the log loads when used, not with the command table
    from registry.answer_log import AnswerLog, AnswerRecord



def answer_log(app) -> AnswerLog:
    from registry.answer_log import AnswerLog

    return AnswerLog(app.registry)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecentAnswers:
    records: list[AnswerRecord]
    with_text: bool = True  # `--no-text`: the compact table

    def to_json(self) -> Any:
        return [r.to_json() for r in self.records]


# --- handlers --------------------------------------------------------------------------------


def show_log(app, args: Args) -> RecentAnswers:
    count = _count(args.count)
    since = _since(args.get("since"))
    query = args.get("query")
    if query is not None and not query.strip():
        raise InvalidInput("-q/--query needs some text to look for. Example: ai-cli log -q redis")
    # `--session ID` is the global flag (cli/main.py): `ai-cli log --session ID` filters by it
    records = answer_log(app).recent(count, model=args.model, session_id=app.flags.session,
                                     query=query, since=since, preset=args.get("preset"))
    return RecentAnswers(records, with_text=not args.get("no_text"))


def _since(text: str | None):
    if text is None:
        return None
    from registry.answer_log import parse_since
    from registry.model import now_utc

    try:
        return parse_since(text, now_utc())
    except ValueError as exc:
        raise InvalidInput(f"{exc} Example: ai-cli log --since 1h") from None


def _count(text: str | None) -> int:
    if text is None:
        return DEFAULT_LOG_COUNT
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(f"-n/--count takes a whole number of at least 1, not {text!r}. "
                           "Example: ai-cli log -n 50")
    return value

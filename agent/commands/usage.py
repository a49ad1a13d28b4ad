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

    def to_json(self) -> Any:
        return [r.to_json() for r in self.records]


# --- handlers --------------------------------------------------------------------------------


def show_log(app, args: Args) -> RecentAnswers:
    count = _count(args.count)
    # `--session ID` is the global flag (cli/main.py): `ai-cli log --session ID` filters by it
    return RecentAnswers(answer_log(app).recent(count, model=args.model,
                                                session_id=app.flags.session))


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

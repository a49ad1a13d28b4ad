"""`model stats` (and `GET /models/stats`): the answer log summed up per model and per host
(registry/stats.py), so a user with several Ollama hosts sees which answers well and fast.
Reads the `log:answers` stream and the registry's entries (for each host's `parallel`); imports
neither the router nor langchain."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.commands.base import Args

if TYPE_CHECKING:  # loaded when the command runs, not with the command table
    from registry.stats import LogStats


@dataclass(frozen=True)
class ModelStatsReport:
    stats: LogStats

    def to_json(self) -> Any:
        return self.stats.to_json()


def stats(app, args: Args) -> ModelStatsReport:
    from registry.answer_log import STATS_WINDOW, AnswerLog
    from registry.stats import log_stats, parallel_by_host, with_load

    records = AnswerLog(app.registry).recent(STATS_WINDOW)
    models = app.read_registry(lambda r: r.list_models())
    stats = log_stats(records, parallel_by_host(models))
    return ModelStatsReport(with_load(stats, models, _loads(app, models), time.time()))


def _loads(app, models) -> dict | None:
    """In-flight counts and cooldowns of the entries, from the balancer's shared state."""
    from registry.fleet_state import FleetState

    return FleetState(app.registry).loads(m.model_id for m in models if not m.corrupt)

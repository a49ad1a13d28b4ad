"""`model TYPE balance [on|off]`: whether requests spread over a model's hosts (router/fleet.py).

Stored in Redis (`fleet:balance:{type}`, docs/ARCHITECTURE.md), so every ai-cli process and the
web API follow it at their next request; when never set, `routing.balance` in config.yaml
decides (default on). Off means "active host first": the other hosts only on failover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import Args
from registry.errors import InvalidInput, RegistryUnavailable

WORDS = {"on": True, "off": False}


@dataclass(frozen=True)
class BalanceState:
    model_type: str
    on: bool
    source: str  # "command" (stored in Redis) | "config" (routing.balance, or its default)
    style: str | None = None

    @property
    def text(self) -> str:
        how = ("requests spread over the hosts of each model served by several"
               if self.on else "the active host first; other hosts only on failover")
        where = ("set with 'model TYPE balance'" if self.source == "command"
                 else "from config.yaml routing.balance")
        return f"Balancing of {self.model_type} models is {'on' if self.on else 'off'}: {how} " \
               f"({where})."

    def to_json(self) -> Any:
        return {"model_type": self.model_type, "balance": self.on, "source": self.source}


def balance(app, args: Args) -> BalanceState:
    from registry.fleet_state import FleetState

    state = FleetState(app.online_registry())
    if args.state is not None:
        word = str(args.state).strip().lower()
        if word not in WORDS:
            raise InvalidInput(f"'{args.state}' is not on or off: run 'ai-cli model "
                               f"{args.model_type} balance on' (or off).")
        try:
            state.set_balance(args.model_type, WORDS[word])
        except Exception as exc:  # noqa: BLE001 - Redis refused or went away: say so, exit 1
            raise RegistryUnavailable(f"Cannot store the balance setting in Redis "
                                      f"({type(exc).__name__}); nothing was changed.") from exc
    stored = state.balance_setting(args.model_type)
    if stored is not None:
        return BalanceState(args.model_type, stored, "command")
    return BalanceState(args.model_type, app.config.routing_balance, "config")

"""`/model caps`: what a model can do, and the user's override of it (stored on the entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.commands.base import Args
from registry.model import ModelConfig


@dataclass(frozen=True)
class CapsShown:
    """A model's capabilities after `caps` (shown, changed or reset)."""

    model: ModelConfig
    what: str  # "shown" | "changed" | "reset"

    def to_json(self) -> Any:
        return self.model.to_json()


def caps(app, args: Args) -> CapsShown:
    from agent.commands.model import find_model
    from registry import capabilities as caps_rules
    from registry.errors import InvalidInput

    changes = args.changes or []
    if changes and args.reset:
        raise InvalidInput("Give changes (+vision -tools) or --reset, not both.")
    override = caps_rules.parse_override(changes) if changes else None
    if override is None and not args.reset:  # just show: read the server once if never read
        model = app.read_registry(lambda r: find_model(app, args.model_id, registry=r))
        if model.server_capabilities is None and not model.corrupt:
            with app.face.waiting(f"Asking {model.host} about {model.model_name}..."):
                app.checker.capabilities(model)
            model = app.registry.get_model(model.model_id) or model
        return CapsShown(model, "shown")
    registry = app.online_registry()
    model = find_model(app, args.model_id, registry=registry)
    words = () if args.reset else caps_rules.merge_override(model.capabilities_user, override)
    registry.update_capabilities(model.model_id, {"capabilities_user": ",".join(words)})
    changed = registry.get_model(model.model_id) or model.with_changes(capabilities_user=words)
    return CapsShown(changed, "reset" if args.reset else "changed")

"""What `/model add`, `use` and `remove` (and the wizard) return: rendered by rich or as JSON
(agent/commands/model_views.py has the shared parts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.output import OK, Output, esc
from registry.model import ModelConfig


@dataclass(frozen=True)
class ModelAdded:
    model: ModelConfig
    probe_reason: str | None = None  # set when it was added despite failing the probe

    def to_json(self) -> Any:
        return self.model.to_json()

    def render(self, out: Output) -> None:
        m = self.model
        out.line("Model registered successfully!", style="bold green")
        for label, value in (
            ("ID", m.model_id), ("Type", m.model_type), ("Model", m.model_name), ("URL", m.shown_url),
            ("Status", "Active" if m.is_active else "Inactive"),
        ):
            out.print(f"  [bold]{label}:[/bold] {esc(value)}")
        if self.probe_reason:
            out.warn(f"Added without a working server: {self.probe_reason}")
        out.line()
        if m.is_active and m.model_type == "general":
            out.line("You can now start chatting!")
        elif m.is_active:
            out.line("Code features are now available via '/code'.")
        else:
            out.line(f"Make it active with '/model {m.model_type} use {m.model_id}'.")


@dataclass(frozen=True)
class ModelChanged:
    """`use` and `remove`: the model, and what happened to it."""

    model: ModelConfig
    what: str  # "now active" | "removed"
    note: str | None = None

    def to_json(self) -> Any:
        return self.model.to_json()

    def render(self, out: Output) -> None:
        m = self.model
        out.print(
            f"[green]{OK}[/green] {esc(m.model_type.capitalize())} model {esc(m.model_name)} "
            f"@ {esc(m.host)} ({esc(m.model_id)}) {self.what}."
        )
        if self.note:
            out.info(self.note)

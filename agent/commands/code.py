"""`/code <instruction>` and `/undo`: the coder model edits files in the workspace, with consent."""

from __future__ import annotations

from dataclasses import dataclass

from agent.commands.base import Args
from registry.errors import AiCliError


def code(app, args: Args):
    from agent.code.edits import EditApplier, Gate, UndoJournal
    from agent.code.loop import CodeSettings, run_code
    from agent.code.tools import ToolContext
    from agent.code.workspace import Workspace

    settings = CodeSettings.from_config(app.config)
    workspace = Workspace.open(app.workspace)
    face = app.face
    gate = Gate(face.report, face.ask if face.can_ask else None, assume_yes=app.flags.yes)
    applier = EditApplier(gate, UndoJournal.in_dir(app.config.data_dir), workspace.root)
    context = ToolContext(workspace, applier, settings.max_tool_output)
    if not app.flags.yes and not face.can_ask and not app.flags.json:
        from agent.events import Notice

        # Said before the model runs (which may take minutes), not after each change.
        face.report(Notice("No terminal to confirm changes on: /code will show the changes it "
                           "proposes and apply none. Run with --yes to apply them.", "warn"))
    preset, model_id = _preset_and_model(app, args)
    outcome = run_code(
        app.router, face.report, args.instruction, context,
        supports_tools=app.router.checker.supports_tools,
        settings=settings, pinned_model_id=_pinned_coder(app), model_id=model_id,
        options=dict(preset.options) if preset else None,
        preset=preset.name if preset else None,
        system=(preset.system or None) if preset else None,
    )
    if app.flags.json and not app.flags.yes and not face.can_ask:
        from agent.code.loop import as_dry_run

        return as_dry_run(outcome, applier)  # --json with nobody to ask: the diffs, not applied
    return outcome


def undo(app, args: Args) -> "Undone":
    from agent.code.edits import UndoJournal
    from agent.code.workspace import Workspace

    workspace = Workspace.open(app.workspace)
    report = UndoJournal.in_dir(app.config.data_dir).undo(workspace.root)
    return Undone(report.restored, report.skipped, report.deleted)


@dataclass(frozen=True)
class Undone:
    restored: list[str]
    skipped: list[str]
    deleted: list[str] = ()  # files /code created, removed again

    def to_json(self) -> dict:
        return {"restored": self.restored, "skipped": self.skipped, "deleted": list(self.deleted)}


def _preset_and_model(app, args: Args):
    """`-p NAME` and `-m ID|NAME`: the preset (its model and options) and the model for this
    run only (-m first; a coder one when a name is both). A preset naming the general route
    means the general route's model."""
    from agent.events import Notice
    from agent.preset_request import model_for_code, plan_request, preset_for_request

    preset = preset_for_request(app, args.preset) if args.preset is not None else None
    notices: list[str] = []
    planned = plan_request(app, preset, "coder", notices, args.model)
    for line in notices:
        app.face.report(Notice(line, "warn"))
    return preset, model_for_code(app, planned)


def _pinned_coder(app) -> str | None:
    if app.session_id is None:
        return None
    try:
        from agent.commands.session import session_store

        return session_store(app).get(app.session_id).pinned.get("coder")
    except AiCliError:
        return None  # sessions unreachable: the active coder model serves

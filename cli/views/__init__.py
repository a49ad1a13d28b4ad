"""The terminal's view of every result a command returns: `show(result, out)`.

Results are data (agent/commands/*, agent/chat.py, agent/code/loop.py); how each is drawn is
here, one function per result type, in the module named beside it below. The module is imported
only when such a result is shown, so `ai-cli model list --json` never loads a view.
"""

from __future__ import annotations

import importlib

from cli.output import Output

# result type name -> (module under cli.views, function)
VIEWS = {
    "ModelList": ("models", "show_model_list"),
    "ModelAdded": ("models", "show_model_added"),
    "ModelChanged": ("models", "show_model_changed"),
    "Discovered": ("models", "show_discovered"),
    "CheckResult": ("models", "show_check"),
    "Status": ("models", "show_status"),
    "RepairReport": ("models", "show_repair"),
    "SessionResult": ("sessions", "show_session_result"),
    "SessionList": ("sessions", "show_session_list"),
    "SessionShow": ("sessions", "show_session"),
    "RecentAnswers": ("usage", "show_recent_answers"),
    "AnswerStats": ("usage", "show_answer_stats"),
    "CodeOutcome": ("code", "show_code_outcome"),
    "Undone": ("code", "show_undone"),
    "Help": ("general", "show_help"),
    "Message": ("general", "show_message"),
    "ChatReply": ("general", "show_chat_reply"),
    "MigrationResult": ("general", "show_migration"),
}


def show(result, out: Output) -> None:
    module, function = VIEWS[type(result).__name__]
    getattr(importlib.import_module(f"cli.views.{module}"), function)(result, out)


# result type name -> (module, function) giving a renderable of the result while it fills in
PROGRESS = {
    "CheckResult": ("models", "check_table"),
}


def progress(result):
    module, function = PROGRESS[type(result).__name__]
    return getattr(importlib.import_module(f"cli.views.{module}"), function)(result)

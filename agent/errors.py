"""The engine's errors: command lines that do not parse, sessions, /code's workspace and edits."""

from __future__ import annotations

from registry.errors import AiCliError, InvalidInput


class UsageError(InvalidInput):
    """A command line that does not fit the command's grammar."""


class UnknownCommand(InvalidInput):
    """A command word the command table does not know."""


class Cancelled(AiCliError):
    """The user stopped an interactive step (Ctrl-C, or answered no); nothing was changed."""

    exit_code = 1
    http_status = 400


class NeedsTerminal(InvalidInput):
    """An interactive command was run without a terminal."""


class AddRefused(AiCliError):
    """`add` refused a model whose server does not answer or lacks the model ."""

    http_status = 409


class SessionNotFound(AiCliError):
    """No saved session has that id."""

    http_status = 404

    def __init__(self, session_id: str):
        super().__init__(
            f"No session with id {session_id!r}. Run '/session list' to see the saved sessions."
        )
        self.session_id = session_id


class SessionDamaged(AiCliError):
    """A saved session whose keys hold something ai-cli cannot read (another Redis type, a hash
    without its id): listed and deletable, never continued."""

    http_status = 409

    def __init__(self, session_id: str, problem: str):
        super().__init__(
            f"Session {session_id} is damaged ({problem}). Delete it with "
            f"'ai-cli session delete {session_id}'."
        )
        self.session_id = session_id


class PathRefused(InvalidInput):
    """A /code tool was asked for a path outside the workspace; nothing was read or written.

    `reason` names the check that refused (`empty`, `nul`, `dotdot`, `outside`, `symlink`,
    `not_a_folder`), so a test can tell the checks apart whatever the message says.
    """

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.reason = reason


class EditFailed(AiCliError):
    """A planned file edit cannot be applied as given (text not found, not unique, not a file)."""

    http_status = 409


class NothingToUndo(AiCliError):
    """`/undo` found no /code change to restore."""

    http_status = 409


class ProposalNotFound(AiCliError):
    """`POST /code/{id}/apply` for an id this server does not hold (unknown, or already applied)."""

    http_status = 404

    def __init__(self, proposal_id: str):
        super().__init__(
            f"No /code proposal with id {proposal_id!r} is waiting (it was applied already, or "
            "the server restarted). Send the instruction to POST /code again."
        )


class ChangedSinceProposed(EditFailed):
    """A file /code is about to write no longer holds what the change was planned on (another
    program, or another /code, wrote it meanwhile); nothing was written."""


class WorkspaceBusy(AiCliError):
    """Another ai-cli held a /code lock (workspace or undo journal) for too long."""

    http_status = 409


class AttachmentNotFetched(AiCliError):
    """An attachment's URL did not give its bytes (refused, timed out, HTTP error)."""

    http_status = 502

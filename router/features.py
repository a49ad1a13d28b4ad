"""Which features work right now, derived from the routes: the banner, `/help` and the web UI show it."""

from __future__ import annotations

from dataclasses import dataclass, field

from router.chain import Route, describe


@dataclass(frozen=True)
class Features:
    chat: bool
    code: bool
    code_tools: bool
    reasons: dict[str, str] = field(default_factory=dict)  # feature -> one line, when off/limited

    def to_json(self) -> dict:
        return {"chat": self.chat, "code": self.code, "code_tools": self.code_tools}


def features_from_routes(general: Route, coder: Route, coder_tools: bool) -> Features:
    """`coder_tools`: whether the coder route's model can call tools (`/api/show`)."""
    reasons: dict[str, str] = {}
    if not general.available:
        reasons["chat"] = general.notice
    if not coder.available:
        reasons["code"] = coder.notice
        reasons["code_tools"] = coder.notice
    elif not coder_tools:
        reasons["code_tools"] = (
            f"{describe(coder.model)} cannot call tools: /code asks it for plain-text edits."
        )
    return Features(
        chat=general.available,
        code=coder.available,
        code_tools=coder.available and coder_tools,
        reasons=reasons,
    )

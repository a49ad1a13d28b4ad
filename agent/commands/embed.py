"""`ai-cli embed [TEXT | -f FILE | stdin] [-m MODEL] [--lines]`: the text's vector as JSON, from
the embedding route (router/embed.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent.commands.base import Args
from agent.errors import UsageError


@dataclass(frozen=True)
class EmbedResult:
    """The vectors; printed as JSON: one array, or one per line with `--lines` (JSON Lines)."""

    embedded: Any  # router.embed.Embedded
    lines: bool

    @property
    def text(self) -> str:
        vectors = self.embedded.vectors
        if self.lines:
            return "".join(json.dumps(v) + "\n" for v in vectors)
        return json.dumps(vectors[0]) + "\n"

    def to_json(self) -> Any:
        return self.embedded.to_json()


def embed(app, args: Args) -> EmbedResult:
    from agent.events import Notice, RouteChosen
    from router.embed import embed as embed_texts

    text = _input(app, args)
    texts = [line for line in text.splitlines() if line.strip()] if args.lines else [text]
    if not texts or not any(t.strip() for t in texts):
        raise UsageError('Nothing to embed. Usage: ai-cli embed "text" (or -f FILE, or pipe it '
                         "in).")
    model_id = _requested_model(app, args.model)
    embedded = embed_texts(app.router, texts, model_id,
                           on_notice=lambda line: app.face.report(Notice(line)))
    app.face.report(RouteChosen(embedded.route))  # the route's notice, when it switched
    return EmbedResult(embedded, bool(args.lines))


def _input(app, args: Args) -> str:
    if args.file:
        from agent.commands.chat import _read_file

        return _read_file(args.file)[1]
    if args.text:
        return args.text
    return app.face.piped_text() or ""


def _requested_model(app, text: str | None) -> str | None:
    if text is None:
        return None
    from agent.commands.model import requested_model

    return requested_model(app, text, "embedding")

"""One gateway request run as engine work (agent/relay.py) in a thread of its own, read by the
response (ui/events.py's `EventStream`, as `POST /chat` does): a failure before the answer began
is raised to the route (an HTTP error in the API's own shape); after it, it is the last piece.
When the client goes away, the work is stopped and the request to the model closed.
"""

from __future__ import annotations

from typing import Iterator
from urllib.parse import quote

from agent.events import Notice, RouteChosen, Thinking, Token
from agent.relay import RelayRequest, Relayed, relay
from router.chain import describe
from ui.events import EventStream

ROUTE_HEADER = "X-AI-CLI-Route"
NOTICE_HEADER = "X-AI-CLI-Notice"


class GatewayAnswer:
    def __init__(self, web, request: RelayRequest):
        app = web.state.app
        slot = web.state.model_slots.take()

        def work(report):
            try:
                return relay(app.router, request, report)
            finally:
                slot.release()

        self.stream = EventStream(work, name="ai-cli-gateway")
        self.before = self.stream.until_answer()  # raises what failed before the answer

    def headers(self) -> dict[str, str]:
        """The route and the notices said before the answer, as response headers (the body
        stays exactly what the client expects). Headers are ASCII: the rest is %-escaped."""
        route = next((e.route for e in reversed(self.before) if isinstance(e, RouteChosen)),
                     None)
        headers = {}
        if route is not None and route.model is not None:
            headers[ROUTE_HEADER] = header_text(f"{describe(route.model)}; via={route.via}")
        notices = [e.text for e in self.before if isinstance(e, Notice)]
        if notices:
            headers[NOTICE_HEADER] = header_text(" | ".join(notices))
        return headers

    def pieces(self) -> Iterator[Token | Thinking | BaseException]:
        """The answer's pieces in order; an error after the answer began comes last as a value."""
        for event in self.stream.events():
            if isinstance(event, (Token, Thinking, BaseException)):
                yield event

    def whole(self) -> Relayed:
        """Wait for the whole answer (raises an error that came after it began)."""
        for piece in self.pieces():
            if isinstance(piece, BaseException):
                raise piece
        return self.stream.result


def header_text(text: str) -> str:
    return quote(text, safe=" @:/()|;,.'=-_+!?[]{}\"<>")

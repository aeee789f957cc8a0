"""HTTP method semantics FastAPI leaves out: HEAD on every GET route, and the full `Allow` list on a 405."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Route HEAD as GET and send only the headers (FastAPI's routes answer GET alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body: nothing of it goes out, only its end
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        # Content-Length stays as GET computed it: that is what HEAD promises (RFC 9110 9.3.2).
        await self.app({**scope, "method": "GET"}, receive, headers_only)


METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers on this path (a path can be served by several routes, one per method).

    Asked of the routes themselves, method by method, so included routers are covered without knowing their insides.
    """
    routes = list(routes)
    methods = {m for m in METHODS if any(r.matches({**scope, "method": m})[0] is Match.FULL for r in routes)}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)

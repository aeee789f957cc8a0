"""Around every request: its id (X-Request-ID in and out), its count and latency in the metrics, its access line.

`Observed` wraps the app's whole stack, Starlette's own 500 answers included (ObservedAPI puts it outside
ServerErrorMiddleware), so every answer carries X-Request-ID and is counted: the widgets' fast path too, which
only names its route template (`Observation.route`). Labels and access lines carry the route template, never the
raw path (a form link /r/{token} has a token in it) and never the query string.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviews_service.cache import request_header
from reviews_service.logs import ACCESS_LOGGER, REQUEST_ID, RequestIds
from reviews_service.metrics import UNMATCHED, Metrics

_ACCESS = "%s %s %d %.2f ms"  # an access line's message: method, route template, status, duration
OBSERVATION = "reviews.observation"  # the scope key of a request's Observation (kept by scope copies, e.g. HEAD)


class Observation:
    """What inner layers tell the observer about a request: the route template, when they answer it themselves."""

    __slots__ = ("route",)

    def __init__(self) -> None:
        self.route: str | None = None


def observation(scope: Scope) -> Observation | None:
    """The request's Observation, if an Observed layer is around it."""
    found: Observation | None = scope.get(OBSERVATION)
    return found


class Observed:
    """Set the request id (contextvar and response header), count the answer, log one access line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.ids = RequestIds()
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = self.ids.of(request_header(scope, b"x-request-id"))
        id_header = (b"x-request-id", request_id.encode())
        token = REQUEST_ID.set(request_id)
        seen = scope[OBSERVATION] = Observation()
        status = 500  # what the client gets if nothing is sent at all (the server closes with a 500)

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]  # a new list: the old may be shared
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            seconds = time.perf_counter() - started
            route = seen.route or UNMATCHED
            self.metrics.observe_request(route, scope["method"], status, seconds)
            if self.log.isEnabledFor(logging.INFO):
                self._access_line(scope, route, status, seconds)
            REQUEST_ID.reset(token)

    def _access_line(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        client = scope.get("client")
        method = scope["method"]
        duration_ms = round(seconds * 1000, 2)
        fields = {
            "method": method, "route": route, "status": status, "duration_ms": duration_ms,
            "client": client[0] if client else None,
        }  # fmt: skip
        # makeRecord + handle: Logger.info's caller lookup (a frame walk per line) is of no use for this one line
        args = (method, route, status, duration_ms)
        self.log.handle(self.log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, _ACCESS, args, None, extra=fields))


class RouteNoted:
    """Innermost layer: tell the Observation which route template the router chose (it leaves the route in the
    scope it was given; outer layers may hold a copy of that scope, as HeadAsGet does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            seen, route = scope.get(OBSERVATION), scope.get("route")
            template = getattr(route, "path", None)
            if seen is not None and isinstance(template, str):
                seen.route = template


class ObservedAPI(FastAPI):
    """FastAPI with its whole middleware stack inside Observed (the service state's metrics)."""

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack, ServerErrorMiddleware and all, wrapped so that its 500s are stamped and counted."""
        return Observed(super().build_middleware_stack(), self.state.service_state.metrics)

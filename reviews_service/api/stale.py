"""Public GETs while the store is known down (see outage.py): summaries and JSON-LD answer from their last bytes,
every other public GET that reads the store answers 503 at once (`store_needed`) instead of waiting for the store
to time out again (up to 10 s a request, a thread of the request pool held all along)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from reviews_service import store
from reviews_service.cache import etag_matches
from reviews_service.embedded import StoreUnavailable
from reviews_service.outage import Served, stale_headers
from reviews_service.state import ServiceState

KEPT_HEADERS = ("content-type", "etag", "access-control-allow-origin", "x-rich-results")
# The GET routes `store_needed` lets through during an outage: those that read no store, and those with a last
# answer to give (fresh_or_stale). Admin routes are not public and keep asking the store.
WITHOUT_STORE = frozenset({
    "/", "/health", "/ready", "/metrics", "/docs", "/redoc", "/docs/assets/{name}",
    "/favicon.svg", "/favicon.ico", "/demo/demo.css", "/widgets/loader.js", "/widgets/widgets.css",
})  # fmt: skip
WITH_STALE = frozenset({
    "/v1/business-units/{bu}/summary", "/v1/business-units/{bu}/products/{sku}/summary",
    "/seo/{bu}/products/{sku}.jsonld", "/seo/{bu}/organization.jsonld",
})  # fmt: skip


class StillDown(StoreUnavailable):
    """The store is known to be down and there is no last answer: a 503 without asking the store again."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The bytes and the headers worth repeating of one 200 answer."""

    body: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        """What it costs to keep."""
        return len(self.body) + 256


async def store_needed(request: Request) -> None:
    """Every route's first dependency: a public GET that needs the store is a 503 at once while it is known down.

    Async and first, so such a request takes no thread of the request pool: a flood of them cannot push /ready
    past its bound. Widgets do the same in their own layer (widgets/asgi.py).
    """
    if request.method not in ("GET", "HEAD"):
        return
    state: ServiceState = request.app.state.service_state
    outage = state.store_health.down()
    if outage is None:
        return
    template = getattr(request.scope.get("route"), "path", "")
    if template in WITHOUT_STORE or template in WITH_STALE or template.startswith(("/v1/admin", "/widgets/")):
        return
    raise StillDown(outage.reason)


def fresh_or_stale(
    request: Request, state: ServiceState, bu: str, build: Callable[[], Response], variant: str = ""
) -> Response:
    """`build()`'s answer, kept as the last one served; while the store is down, that last one, marked stale.

    Kept per path and `variant` (the route's own parameters, canonical and bounded), never per raw query string:
    cache busters would push the real answers out. With no last answer to give, a store that is down is a 503
    with Retry-After (app.py).
    """
    key = (bu, request.url.path, variant.encode())
    last = state.last_answers
    outage = state.store_health.down()
    if outage is not None:  # known down: do not wait for the store to time out again
        return _stale(request, last.get(key), outage.reason)
    generation = last.generation(bu)
    try:
        response = build()
    except store.UNAVAILABLE as exc:
        state.store_health.failed(store.why_unavailable(exc))
        if last.get(key) is None:
            raise
        return _stale(request, last.get(key), store.why_unavailable(exc))
    if response.status_code == 200:
        kept = tuple((k, v) for k, v in response.headers.items() if k in KEPT_HEADERS)
        last.record(key, Answer(bytes(response.body), kept), generation)
    return response


def _stale(request: Request, served: Served[Answer] | None, reason: str) -> Response:
    if served is None:
        raise StillDown(reason)
    headers = dict(served.value.headers)
    headers.update(stale_headers(served.age()))
    if etag_matches(request.headers.get("if-none-match"), headers.get("etag", "")):
        headers.pop("content-type", None)
        return Response(status_code=304, headers=headers)
    return Response(served.value.body, headers=headers)

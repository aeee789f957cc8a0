"""Public GETs (summaries, JSON-LD) that answer from their last bytes while the store is down (see outage.py)."""

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


def fresh_or_stale(request: Request, state: ServiceState, bu: str, build: Callable[[], Response]) -> Response:
    """`build()`'s answer, kept as the last one served; while the store is down, that last one, marked stale.

    With no last answer to give, a store that is down is a 503 with Retry-After (app.py).
    """
    key = (bu, request.url.path, request.scope["query_string"])
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

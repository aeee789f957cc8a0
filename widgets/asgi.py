"""The widgets' fast path: a plain ASGI layer in front of FastAPI that serves cached bytes.

A cache hit costs a dict lookup and two `send` calls: no routing, no dependency injection, no
validation, no JSON encoding, no database. Misses render in a worker thread and are cached;
anything that is not a widget goes on to the FastAPI app. While the store is down (or a render hits a store
error) a widget answers with the last bytes it served for that request, marked stale (outage.py); with none, a
503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from reviews_service import store
from reviews_service.api.access import observation
from reviews_service.api.headers import EVERY_ANSWER
from reviews_service.cache import etag_matches, request_header
from reviews_service.errors import ReviewsError, problem_document
from reviews_service.metrics import UNMATCHED
from reviews_service.outage import stale_headers
from reviews_service.state import ServiceState
from widgets import service

PREFIX = "/widgets/"
_BASE_HEADERS = [(b"access-control-allow-origin", b"*"), (b"vary", b"Accept-Encoding"), *EVERY_ANSWER]


class WidgetFastPath:
    """Serve GET/HEAD /widgets/... from the instance's widget cache (`state`); pass everything else to `app`.
    `base_url`: the service's public URL (REVIEWS_PUBLIC_URL), which review photos are linked on."""

    def __init__(self, app: ASGIApp, state: ServiceState, base_url: str = "") -> None:
        self.app = app
        self.state = state
        self.base_url = base_url
        # renders under way, by request: the requests for one missed widget that arrive meanwhile wait for it
        self._rendering: dict[tuple[str, bytes], asyncio.Future[service.Rendered | None]] = {}
        self._refreshing: set[asyncio.Task[service.Rendered | None]] = set()  # renders no request awaits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        path, query = scope["path"], scope["query_string"]
        answer = service.lookup(self.state, path, query)
        if self.state.store_health.down() is not None and service.is_widget(path):
            # known down: no waiting for the store to time out again, and a cached answer nobody can check now
            # (the poller cannot read the changes) goes out marked stale too
            _observed(scope, path)
            await self._stale(scope, send, answer)
            return
        if answer is None:
            answer = service.lookup_stale(self.state, path, query)
            if answer is not None:  # changed elsewhere a moment ago: this answer now, the new one renders meanwhile
                self._refresh(path, query)
                self.state.metrics.widget_stale += 1
                _observed(scope, path)
                await _send(scope, send, answer)
                return
            try:  # a fresh answer is kept for outages by service.render itself, under its canonical key
                answer = await self._render_once(path, query)
            except ReviewsError as exc:
                _observed(scope, path)
                await _problem(send, exc)
                return
            except store.UNAVAILABLE as exc:
                self.state.store_health.failed(store.why_unavailable(exc))
                _observed(scope, path)
                await self._stale(scope, send)
                return
            if answer is None:  # not a widget: the app's router answers (and names the route)
                await self.app(scope, receive, send)
                return
            self.state.metrics.widget_misses += 1
        else:
            self.state.metrics.widget_hits += 1
        _observed(scope, path)
        await _send(scope, send, answer)

    async def _render_once(self, path: str, query: bytes) -> service.Rendered | None:
        """Render a missed widget once, however many requests for it arrive meanwhile.

        A change drops every cached widget of its unit; at peak, hundreds of connections then miss the same few
        widgets at once. Rendered per request, each would take a worker thread and queue the rest behind it (the
        soak's p99 went to 330 ms every 6 s); instead the first request renders and the others await its answer,
        or its error."""
        key = (path, query)
        pending = self._rendering.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():  # this request itself was cancelled (its client left)
                    raise
                # the request that was rendering left before its render came back: render for this one
        future: asyncio.Future[service.Rendered | None] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            answer = await run_in_threadpool(service.render, self.state, path, query, self.base_url)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: with no request waiting, asyncio has nothing to warn about
            raise
        else:
            future.set_result(answer)
            return answer
        finally:
            if self._rendering.get(key) is future:
                del self._rendering[key]

    def _refresh(self, path: str, query: bytes) -> None:
        """Render this widget in the background unless a render of it is under way (its error, if any, is the
        next request's to meet once the grace is over)."""
        if (path, query) in self._rendering:
            return
        task = asyncio.get_running_loop().create_task(self._render_once(path, query))
        self._refreshing.add(task)
        task.add_done_callback(_refreshed(self._refreshing))

    async def _stale(self, scope: Scope, send: Send, cached: service.Rendered | None = None) -> None:
        """`cached`, or the last answer served to this request (or to one spelled the same, service.render),
        marked stale; a 503 when there is neither."""
        bu = service.bu_of(scope["path"]) or ""
        served = self.state.last_widgets.get((bu, scope["path"], scope["query_string"]))
        answer = cached or (served.value if served is not None else None)
        if answer is None:
            detail = "The database is unreachable and this widget was not served before it went down; try again soon."
            await _problem(send, Unavailable(detail), [(b"retry-after", b"5")])
            return
        age = served.age() if served is not None and served.value is answer else 0
        await _send(scope, send, answer, [(k.lower().encode(), v.encode()) for k, v in stale_headers(age)])


def _refreshed(tasks: set[asyncio.Task[service.Rendered | None]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failed refresh is not an "exception never retrieved" warning

    return done


def route_of(path: str) -> str:
    """The route template of a widget path (`/widgets/{bu}/badge.html`): what metrics and logs name, never the path."""
    if path in service.STATIC:
        return path
    if not service.is_widget(path):  # never a name the request spelled: one label value per junk path otherwise
        return UNMATCHED
    parts = path.split("/")
    return f"/widgets/{{bu}}/{parts[3]}" if len(parts) == 4 else "/widgets/{bu}/products/{sku}/stars.html"


def _observed(scope: Scope, path: str) -> None:
    seen = observation(scope)
    if seen is not None:
        seen.route = route_of(path)


def _header(scope: Scope, name: bytes) -> bytes:
    return request_header(scope, name) or b""


def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 12.5.3): listed, or covered by `*`, with q > 0."""
    value = accept_encoding.lower()
    if b";" not in value:  # what browsers send ("gzip, deflate, br, zstd"): no weights to read
        return b"gzip" in value or b"*" in value
    weights: dict[bytes, float] = {}
    for part in value.split(b","):
        coding, *params = (piece.strip() for piece in part.split(b";"))
        weight = 1.0
        for param in params:
            name, _, number = param.partition(b"=")
            if name.strip() == b"q":
                try:
                    weight = float(number)
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    for coding in (b"gzip", b"x-gzip", b"*"):
        if coding in weights:
            return weights[coding] > 0
    return False


class Unavailable(ReviewsError):
    """The store is down and this widget was never served before (nothing to answer with)."""

    status = 503
    title = "Database unavailable"
    type_slug = "database-unavailable"


async def _send(
    scope: Scope, send: Send, answer: service.Rendered, stale: list[tuple[bytes, bytes]] | None = None
) -> None:
    etag = answer.etag.encode()
    headers = [*_BASE_HEADERS, (b"etag", etag)]
    if stale:  # its own Cache-Control (short), Age and the marks
        headers += stale
    else:
        headers.append((b"cache-control", answer.cache_control.encode()))
    if etag_matches(_header(scope, b"if-none-match").decode("latin-1"), answer.etag):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = answer.body
    if accepts_gzip(_header(scope, b"accept-encoding")):
        body = answer.gzipped
        headers.append((b"content-encoding", b"gzip"))
    headers += [(b"content-type", answer.content_type.encode()), (b"content-length", str(len(body)).encode())]
    if answer.csp:
        headers.append((b"content-security-policy", answer.csp.encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _problem(send: Send, exc: ReviewsError, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(problem_document(exc.status, exc.title, exc.detail, exc.type_slug)).encode()
    headers = [
        *_BASE_HEADERS,
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store" if exc.status >= 500 else b"public, max-age=10"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

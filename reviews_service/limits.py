"""Budgets for hostile requests: body sizes per route, admin tokens before bodies, requests per client.

Everything here is enforced in the ASGI layer, where bytes arrive, before a route or FastAPI's body
parsing sees them: a body is counted as it streams (chunked bodies have no Content-Length to trust),
an admin request without a valid token is answered 401 before one byte of its body is read, and a
client posting faster than the public rate gets a 429 with Retry-After. The limiter's state belongs
to the app that creates it (app.state.limits), never to the module.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from pymongo.errors import PyMongoError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviews_service import form_pages
from reviews_service.api.deps import problem_response
from reviews_service.cache import request_header
from reviews_service.config import Settings
from reviews_service.errors import ReviewsError
from reviews_service.tokens import authenticate

ADMIN = "/v1/admin/"
BULK = ("/imports", "/reviews", "/invitations/import")  # admin routes that take files or record batches
VALIDATE = "/seo/validate"
VALIDATE_BODY = 5 * 1024 * 1024 + 64 * 1024  # seo.validate.MAX_HTML, and room for a JSON wrapper
PUBLIC_POSTS = (VALIDATE, "/r/", "/v1/hooks/")  # prefixes limited per client address
FORM = "/r/"  # the review form: /r/{token} takes photos (its other pages, e.g. /r/{token}/unsubscribe, do not)
FORM_WINDOW = 600.0  # seconds over which REVIEWS_FORM_POSTS_PER_TOKEN submissions of one form are allowed
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def body_limit(path: str, settings: Settings) -> int:
    """The most bytes a request to `path` may send: imports are large, admin JSON small, public posts smaller
    (REVIEWS_MAX_BODY_BYTES caps them all)."""
    if path.startswith(ADMIN):
        limit = settings.max_body_bytes if path.endswith(BULK) else settings.max_json_body_bytes
    elif is_form(path):
        limit = settings.max_form_body_bytes
    else:
        limit = VALIDATE_BODY if path == VALIDATE else settings.max_public_body_bytes
    return min(limit, settings.max_body_bytes)


def is_form(path: str) -> bool:
    """Whether `path` is a review form's own address (/r/{token}), the one public route that takes photos."""
    return path.startswith(FORM) and "/" not in path[len(FORM) :] and len(path) > len(FORM)


def too_large(scope: Scope, limit: int, detail: str) -> Response:
    """413: a page in the browser's language for a review form (a buyer's photos), problem+json elsewhere."""
    if is_form(scope["path"]):
        return form_pages.too_large(form_pages.accept_language(_header(scope, b"accept-language") or ""), limit)
    return problem_response(413, "Payload too large", detail, "payload-too-large")


def _header(scope: Scope, name: bytes) -> str | None:
    value = request_header(scope, name)
    return None if value is None else value.decode("latin-1")


class BodyLimit:
    """ASGI middleware: admin token first, then the route's byte limit counted as the body streams."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = body_limit(path, self.settings)
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            detail = f"The body is {int(declared):,} bytes; the limit here is {limit:,}. Split it."
            await too_large(scope, limit, detail)(scope, receive, send)
            return
        if path.startswith(ADMIN) and scope["method"] in BODY_METHODS:
            try:  # the route authenticates again; this only keeps unauthenticated bodies unread
                await run_in_threadpool(authenticate, _header(scope, b"authorization"), self.settings)
            except ReviewsError as exc:
                answer = problem_response(exc.status, exc.title, exc.detail, exc.type_slug)
                answer.headers["WWW-Authenticate"] = "Bearer"
                await answer(scope, receive, send)
                return
            except PyMongoError:
                pass  # the route meets the same failure and answers 503
        counted = _Counted(scope, receive, send, limit)
        await self.app(scope, counted.receive, counted.send)


class _Counted:
    """The app's receive and send around one request: body bytes counted, and past the limit a 413 answered
    for the app (if it has not begun its own answer), which is then told the client left and is muted."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        self.scope, self._receive, self._send, self.limit = scope, receive, send, limit
        self.received = 0
        self.refused = False
        self.started = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.refused = True
                if not self.started:
                    detail = f"The body is over the {self.limit:,}-byte limit of this route. Split it."
                    answer = too_large(self.scope, self.limit, detail)
                    await answer(self.scope, self._receive, self._send)
                return {"type": "http.disconnect"}  # the route stops reading; what it answers is dropped
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class RateLimiter:
    """Token buckets per client address (or any key): `per_minute` requests (per `window` seconds when given),
    refilled evenly; at most `clients` remembered."""

    def __init__(
        self,
        per_minute: int,
        clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        window: float = 60.0,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / window
        self.clients = clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if `client` may go ahead now (one token taken), else the seconds until it may."""
        if self.capacity <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.clients:  # the least recently seen go first
                self._buckets.popitem(last=False)
            return wait


class RateLimit:
    """ASGI middleware: public POST routes answer 429 with Retry-After to a client over its rate."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PUBLIC_POSTS):
            client = scope.get("client")
            wait = self.limiter.take(str(client[0]) if client else "unknown")
            if wait > 0:
                retry = max(1, math.ceil(wait))
                detail = f"Too many requests from your address; try again in {retry} s."
                answer = problem_response(429, "Too many requests", detail, "too-many-requests")
                if is_form(scope["path"]):  # a buyer's browser: a page in their language
                    language = form_pages.accept_language(_header(scope, b"accept-language") or "")
                    answer = form_pages.too_many_page(language, retry)
                answer.headers["Retry-After"] = str(retry)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Gate:
    """At most `size` holders at once; the rest are refused at once (never queued)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.active = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        """True and one place taken, or False when all `size` places are taken."""
        with self._lock:
            if self.active >= self.size:
                return False
            self.active += 1
            return True

    async def wait(self, seconds: float, every: float = 0.05) -> bool:
        """Enter within `seconds`, polled without holding a thread (True), or False when no place came free."""
        deadline = time.monotonic() + seconds
        while not self.enter():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(every)
        return True

    def leave(self) -> None:
        """Give the place back."""
        with self._lock:
            self.active -= 1


class Limits:
    """What one app instance owns to keep hostile traffic bounded (app.state.limits)."""

    def __init__(self, settings: Settings) -> None:
        self.public_posts = RateLimiter(settings.public_posts_per_minute)
        # submissions per form (keyed by invitation id, so forged tokens take nobody's place): a flood of edits of
        # one review, from however many addresses, stops here
        self.form_posts = RateLimiter(settings.form_posts_per_token, window=FORM_WINDOW)
        self.validate_fetches = Gate(settings.validate_fetches)
        # submissions with photos being decoded and stored (each holds its uploads and one decoded photo)
        self.photo_decodes = Gate(settings.photo_decodes)
        self.photo_wait = settings.photo_wait_seconds

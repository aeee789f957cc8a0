"""create_app(): routers, middleware, error handlers, and the store's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from reviews_service import __version__, store
from reviews_service.api import (
    admin,
    complaints,
    demo,
    digests,
    flags,
    forms,
    health,
    home,
    hooks,
    invitations,
    metrics,
    openapi,
    photos,
    policy,
    reviewers,
    reviews,
    sentiment,
    seo,
    sources,
    tokens,
    unsubscribe,
    widgets,
)
from reviews_service.api.access import ObservedAPI, RouteNoted
from reviews_service.api.deps import json_response
from reviews_service.api.headers import ResponseHeaders, stamp
from reviews_service.api.methods import HeadAsGet, allowed_methods
from reviews_service.api.stale import StillDown, store_needed
from reviews_service.api.validation import plain_errors
from reviews_service.collection import Registry
from reviews_service.config import Settings, get_settings
from reviews_service.embedded import WritesBlocked
from reviews_service.errors import ReviewsError, problem_document
from reviews_service.limits import BodyLimit, Limits, RateLimit
from reviews_service.poller import ChangePoller
from reviews_service.readiness import Probe
from reviews_service.state import ServiceState
from widgets.asgi import WidgetFastPath

log = logging.getLogger("reviews.api")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """An RFC 9457 problem+json answer."""
    response = json_response(problem_document(status, title, detail, slug, **extra), status=status)
    response.headers["content-type"] = PROBLEM
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json; bad input is a 4xx, never a 500."""

    @app.exception_handler(ReviewsError)
    async def _ours(_: Request, exc: ReviewsError) -> Response:
        response = problem(exc.status, exc.title, exc.detail, exc.type_slug)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        content_type = request.headers.get("content-type", "")
        body_errors = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
        if body_errors and content_type and "json" not in content_type:
            return problem(
                415,
                "Unsupported media type",
                f"Send the body as JSON with `Content-Type: application/json` (got {content_type[:60]!r}).",
                "unsupported-media-type",
            )
        errors = plain_errors(exc.errors()[:50])
        broken = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if broken:
            reason = str((broken[0].get("ctx") or {}).get("error", "it does not parse"))
            loc = tuple(broken[0].get("loc", ()))
            where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            return problem(400, "Malformed JSON", f"The body is not valid JSON: {reason}{where}.", "malformed-json")
        detail = " ".join(e["message"] for e in errors[:5])
        return problem(422, "Invalid input", detail, "invalid-input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint. See /docs for the API."
        if exc.status_code == 405:
            allowed = ", ".join(allowed_methods(app.router.routes, request.scope))
            detail = f"{request.method} is not allowed here; use {allowed}." if allowed else detail
            exc.headers = {**(exc.headers or {}), "Allow": allowed}
        response = problem(exc.status_code, title, detail, title.lower().replace(" ", "-"))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        response = problem(500, "Internal error", "Something went wrong on our side; it has been logged.", "internal")
        stamp(response.headers, request.url.path)  # Starlette sends this one outside every middleware
        return response


async def _database_down(request: Request, exc: Exception) -> Response:
    """A database that fails mid-request is a 503 the caller can retry, not a 500 (and no traceback per request).

    A write that fails so wrote nothing: MongoDB refuses it whole, the embedded store fails it before its first
    document (a write.lock it cannot take in time, SQLite's locks held elsewhere).
    """
    reason = store.why_unavailable(exc)
    if not isinstance(exc, StillDown):  # that one did not ask the store: the outage was logged when it was seen
        log.warning("database unavailable: %s", reason)
    if not isinstance(exc, WritesBlocked | StillDown):  # a write lock held elsewhere leaves reads working (fresh)
        request.app.state.service_state.store_health.failed(reason)  # /ready says why; public reads go stale at once
    detail = "The database is unreachable; try again in a moment."
    response = problem(503, "Database unavailable", detail, "database-unavailable")
    response.headers["Retry-After"] = "5"
    return response


def create_app(
    settings: Settings | None = None,
    *,
    connect: bool = True,
    state: ServiceState | None = None,
    registry: Registry | None = None,
) -> FastAPI:
    """The whole service as an ASGI app with its own caches; `connect=False` leaves the store to the caller.

    `state` lets a caller share the app's caches, change feed and locks (`reviews serve` with its scheduler,
    tests with their direct repository calls); by default the app makes its own. `registry`: the collectors the
    admin routes know (default collectors.registry.REGISTRY; tests give their own).
    """
    settings = settings or get_settings()
    if registry is None:
        from collectors.registry import REGISTRY

        registry = REGISTRY
    state = state or ServiceState()
    # other processes' (and instances') writes reach these caches via the store; its looks tell /ready how it is
    poller = ChangePoller(state.changes, health=state.store_health)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if connect:
            if store.connect(settings).embedded:
                log.warning("No MONGODB_URL: using %s.", store.EMBEDDED_DESCRIPTION)
            state.reset()  # nothing read before this connection may be served
        poller.start()
        try:
            yield
        finally:
            poller.stop()
            if connect:
                store.disconnect()

    app = ObservedAPI(  # FastAPI inside Observed: X-Request-ID, metrics and the access line of every answer
        title="Reviews service",
        version=__version__,
        description="Self-hosted reviews and social-proof aggregation: summaries, widgets, JSON-LD, imports.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from api/home.py, with their assets served locally
        redoc_url=None,
        dependencies=[Depends(store_needed)],  # public GETs that need the store: a 503 at once while it is down
    )
    app.state.settings = settings
    app.state.limits = Limits(settings)
    app.state.service_state = state
    app.state.registry = registry
    app.state.change_poller = poller
    app.state.ready_probe = Probe()  # /ready's store check: one at a time, bounded in time
    app.add_middleware(RouteNoted)  # innermost: names the route the router chose, for the metrics and access lines
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RateLimit, limiter=app.state.limits.public_posts)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"], max_age=86400)
    install_error_handlers(app)
    for unavailable in store.UNAVAILABLE:  # AutoReconnect, ServerSelectionTimeout, server timeouts, SQLite's locks
        app.add_exception_handler(unavailable, _database_down)
    routers = (home, health, reviews, widgets, seo, demo, admin, sources, tokens, hooks, complaints, sentiment, flags)
    for module in routers:
        app.include_router(module.router)
    app.include_router(hooks.admin_router)
    app.include_router(photos.router)  # buyers' photos: the public JPEGs, and their moderation
    app.include_router(photos.admin_router)
    app.include_router(digests.router)
    app.include_router(digests.pages)
    app.include_router(unsubscribe.router)  # invitation-mail: the e-mails' opt-out pages
    app.include_router(invitations.router)
    app.include_router(forms.router)  # the review form, /r/{token}
    app.include_router(reviewers.router)  # a reviewer's erasure and export (GDPR), the address in the body
    app.include_router(policy.router)  # how reviews are collected and checked (EU Omnibus): page and JSON
    app.include_router(metrics.router)  # GET /metrics, Prometheus' text format
    app.add_middleware(ResponseHeaders)  # nosniff, Referrer-Policy, no-store on admin, gzip on public reads
    openapi.install(app)
    # outermost but for HEAD: cached widget bytes skip everything else (photo URLs in them on REVIEWS_PUBLIC_URL)
    app.add_middleware(WidgetFastPath, state=state, base_url=settings.public_url)
    app.add_middleware(HeadAsGet)  # around it all, so HEAD is GET without a body on every route
    return app

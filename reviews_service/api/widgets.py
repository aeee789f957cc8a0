"""Widget endpoints as documented in OpenAPI. In a running app `widgets.asgi.WidgetFastPath` answers
these paths before FastAPI routes them; these routes serve the same bytes if it is ever bypassed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from reviews_service.api.deps import settings_dep, state_dep
from reviews_service.api.openapi import CSS, HTML, JS, JSON, SVG, answers
from reviews_service.cache import etag_matches
from widgets import service

router = APIRouter(prefix="/widgets", tags=["widgets"])
Locale = Annotated[str | None, Query(description="nl, en, de or fr; default the shop's first locale")]
Theme = Annotated[str | None, Query(description="light or dark")]


def _answer(request: Request) -> Response:
    base_url = settings_dep(request).public_url  # where review photos are linked, as the fast path does
    rendered = service.render(state_dep(request), request.url.path, request.scope["query_string"], base_url)
    if rendered is None:  # pragma: no cover - the routes below only match widget paths
        return Response(status_code=404)
    headers = {"ETag": rendered.etag, "Cache-Control": rendered.cache_control, "Access-Control-Allow-Origin": "*"}
    if rendered.csp:
        headers["Content-Security-Policy"] = rendered.csp
    if etag_matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=rendered.content_type, headers=headers)


@router.get("/loader.js", **answers(JS))
def loader_js(request: Request) -> Response:
    """The embed script: one data.json request per business unit on the page, then renders every widget."""
    return _answer(request)


@router.get("/widgets.css", **answers(CSS))
def widgets_css(request: Request) -> Response:
    """The widgets' stylesheet (reserves each widget's size; themable with CSS custom properties)."""
    return _answer(request)


@router.get("/{bu}/data.json", **answers(JSON, 404, 422))
def data_json(
    bu: str,
    request: Request,
    skus: Annotated[
        str | None, Query(description="comma-separated skus of the product stars on the page; unknown ones are null")
    ] = None,
    locale: Locale = None,
    reviews: Annotated[int | None, Query(ge=1, le=20, description="how many latest reviews to include")] = None,
    product: Annotated[
        str | None, Query(description="reviews of this sku instead of the shop's; an unknown sku makes `reviews` null")
    ] = None,
    rating: Annotated[int | None, Query(ge=1, le=5, description="reviews list: only this rating")] = None,
    language: Annotated[str | None, Query(description="reviews list: only reviews in this language (nl)")] = None,
    badge: Annotated[int, Query(ge=0, le=1)] = 1,
) -> Response:
    """Everything the loader needs for one page in one request: rendered fragments and the figures.

    Unknown skus (and an unknown `product`) answer null in their place, so one stale sku never hides the page.
    """
    return _answer(request)


@router.get("/{bu}/badge.html", **answers(HTML, 404, 422))
def badge_html(bu: str, request: Request, locale: Locale = None, theme: Theme = None, frame: int = 0) -> Response:
    """The shop badge as an HTML fragment (`frame=1`: a whole page for an iframe)."""
    return _answer(request)


@router.get("/{bu}/badge.svg", **answers(SVG, 404))
def badge_svg(bu: str, request: Request, locale: Locale = None) -> Response:
    """A standalone SVG badge for e-mail signatures, social media and print."""
    return _answer(request)


@router.get("/{bu}/products/{sku}/stars.html", **answers(HTML, 404))
def stars_html(bu: str, sku: str, request: Request, locale: Locale = None, theme: Theme = None) -> Response:
    """A product's stars as an HTML fragment."""
    return _answer(request)


@router.get("/{bu}/reviews.html", **answers(HTML, 404, 422))
def reviews_html(
    bu: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    locale: Locale = None,
    theme: Theme = None,
    product: str | None = None,
    rating: Annotated[int | None, Query(ge=1, le=5, description="only when the shop asks for it")] = None,
    language: str | None = None,
) -> Response:
    """The latest published reviews, newest first (filters only when asked for)."""
    return _answer(request)

"""Public summaries and review lists: no credentials, cacheable, CORS-open."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from reviews_service import repository
from reviews_service.api.deps import (
    LIST_CACHE,
    PUBLIC_CACHE,
    SettingsDep,
    StateDep,
    json_response,
    review_json,
    summary_json,
)
from reviews_service.api.openapi import JSON, REVIEW_PAGE_SCHEMA, SUMMARY_SCHEMA, answers
from reviews_service.api.stale import fresh_or_stale
from reviews_service.cache import etag_matches, strong_etag

router = APIRouter(prefix="/v1/business-units", tags=["public"])


def _public(request: Request, data: Any, cache_control: str) -> Response:
    """JSON with a strong ETag of its bytes; `If-None-Match` with that tag gets a 304 and no body."""
    response = json_response(data, headers={"Cache-Control": cache_control})
    etag = strong_etag(bytes(response.body))
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})
    response.headers["ETag"] = etag
    return response


@router.get("/{bu}/summary", **answers(JSON, 404, schema=SUMMARY_SCHEMA))
def business_unit_summary(bu: str, request: Request, state: StateDep) -> Response:
    """Count, average, 1-5 histogram and display score of the shop's own reviews."""

    def build() -> Response:
        unit = repository.get_business_unit(state, bu)
        return _public(request, summary_json(repository.get_summary(state, bu), unit), PUBLIC_CACHE)

    return fresh_or_stale(request, state, bu, build)  # while the store is down: the last one, marked stale


@router.get("/{bu}/products/{sku}/summary", **answers(JSON, 404, schema=SUMMARY_SCHEMA))
def product_summary(bu: str, sku: str, request: Request, state: StateDep) -> Response:
    """The same figures for one product."""

    def build() -> Response:
        unit = repository.get_business_unit(state, bu)
        repository.get_product(state, bu, sku)
        return _public(request, summary_json(repository.get_summary(state, bu, sku), unit), PUBLIC_CACHE)

    return fresh_or_stale(request, state, bu, build)


@router.get("/{bu}/reviews", **answers(JSON, 404, 422, schema=REVIEW_PAGE_SCHEMA))
def list_reviews(
    bu: str,
    request: Request,
    state: StateDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    product: Annotated[
        str | None,
        Query(max_length=200, description="a sku; `*` for every review; absent: the shop's own reviews"),
    ] = None,
    language: Annotated[str | None, Query(pattern="^[a-z]{2}$")] = None,
) -> Response:
    """Published reviews, newest first, with a cursor that never skips or repeats."""
    unit = repository.get_business_unit(state, bu)
    if product not in (None, repository.ALL_PRODUCTS):
        repository.get_product(state, bu, product)
    page = repository.list_published(
        state, bu, limit=limit, cursor=cursor, rating=rating, product=product, language=language
    )
    items = [review_json(r, unit.display_scale, settings.public_url) for r in page.items]  # photo URLs on it
    data = {"items": items, "next_cursor": page.next_cursor}
    return _public(request, data, LIST_CACHE)

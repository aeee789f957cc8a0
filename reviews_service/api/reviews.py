"""Public summaries and review lists: no credentials, cacheable, CORS-open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from reviews_service import repository
from reviews_service.api.deps import PUBLIC_CACHE, json_response, review_json, summary_json

router = APIRouter(prefix="/v1/business-units", tags=["public"])


@router.get("/{bu}/summary")
def business_unit_summary(bu: str) -> Response:
    """Count, average, 1-5 histogram and display score of the shop's own reviews."""
    unit = repository.get_business_unit(bu)
    return json_response(summary_json(repository.get_summary(bu), unit), headers={"Cache-Control": PUBLIC_CACHE})


@router.get("/{bu}/products/{sku}/summary")
def product_summary(bu: str, sku: str) -> Response:
    """The same figures for one product."""
    unit = repository.get_business_unit(bu)
    repository.get_product(bu, sku)
    return json_response(summary_json(repository.get_summary(bu, sku), unit), headers={"Cache-Control": PUBLIC_CACHE})


@router.get("/{bu}/reviews")
def list_reviews(
    bu: str,
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
    repository.get_business_unit(bu)
    if product not in (None, repository.ALL_PRODUCTS):
        repository.get_product(bu, product)
    page = repository.list_published(bu, limit=limit, cursor=cursor, rating=rating, product=product, language=language)
    return json_response(
        {"items": [review_json(r) for r in page.items], "next_cursor": page.next_cursor},
        headers={"Cache-Control": "public, max-age=30"},
    )

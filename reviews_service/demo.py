"""The project's own demo shop (Flinders Design, nl and be storefronts), loaded through the ingest path."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from reviews_service import domain, repository
from reviews_service.ingest import ingest

if TYPE_CHECKING:
    from reviews_service.state import ServiceState


def dataset() -> dict[str, Any]:
    """The demo data as shipped in reviews_service/demo/flinders.json."""
    text = resources.files("reviews_service").joinpath("demo/flinders.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


DATASET_ENDS = date(2026, 11, 21)


def _shifted(reviews: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Move the demo's dates forward by whole days so its newest review is always recent."""
    days = (now.date() - DATASET_ENDS).days
    if days <= 0:
        return reviews
    moved = []
    for review in reviews:
        created = datetime.fromisoformat(review["created_at"].replace("Z", "+00:00")) + timedelta(days=days)
        moved.append({**review, "created_at": created.isoformat()})
    return moved


def load(state: ServiceState, now: datetime) -> dict[str, domain.IngestReport]:
    """Create the demo business units and products and ingest their reviews (idempotent on a day)."""
    data = dataset()
    reports = {}
    for unit in data["business_units"]:
        slug = unit["slug"]
        fields = {**unit, "locales": tuple(unit["locales"]), "reviews_url": f"/demo/{slug}/reviews"}
        repository.save_business_unit(state, domain.BusinessUnit(**fields))
        products = [domain.Product(business_unit=slug, **p) for p in data["products"].get(slug, [])]
        repository.save_products(state, products)
        reports[slug] = ingest(state, slug, _shifted(data["reviews"].get(slug, []), now), now=now)
    return reports


def is_empty() -> bool:
    """True when the store has no business unit yet."""
    return not repository.list_business_units()


def describe(business_unit: str) -> str:
    """What a business unit holds, counted as its summaries count: "flinders-nl: 152 shop reviews and 228 ..."."""
    summaries = repository.all_summaries(business_unit).values()
    shop = sum(s.count for s in summaries if s.product is None)
    products = sum(s.count for s in summaries if s.product is not None)
    return f"{business_unit}: {_reviews(shop, 'shop')} and {_reviews(products, 'product')}"


def _reviews(count: int, kind: str) -> str:
    return f"{count:,} {kind} review{'' if count == 1 else 's'}"

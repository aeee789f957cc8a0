"""Trustpilot's JSON -> loose review records for the one ingest path: pure functions, no I/O.

Tolerant by design: the service-reviews page (`reviews`), the product-reviews page (`productReviews`) and a
webhook's `eventData` share one reader per kind, fields that are missing or of another shape are skipped, not
fatal, and a review that cannot be read at all is left for ingest to reject with its reason (never dropped
silently). Trustpilot's `status` other than active and a deleted event mark a review removed at the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reviews_service.normalize import RecordRejected, parse_language

SOURCE = "trustpilot"
LIVE = ("active", "published", "")  # Trustpilot's statuses of a review that is shown


def _get(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(name)
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _language(value: Any) -> str | None:
    """Trustpilot has languages we do not show (e.g. "da"): those are guessed by ingest, not refused."""
    try:
        return parse_language(value)
    except RecordRejected:
        return None


def _status(review: Mapping[str, Any]) -> str:
    status = _text(review.get("status")) or _text(review.get("state")) or ""
    return "published" if status.lower() in LIVE else "removed"


def service_review(review: Mapping[str, Any]) -> dict[str, Any]:
    """One service review (a page's item or an event's eventData) as a loose record."""
    reply = review.get("companyReply")
    return {
        "source": SOURCE,
        "external_id": review.get("id"),
        "rating": review.get("stars"),
        "title": _text(review.get("title")) or "",
        "text": _text(review.get("text")) or "",
        "language": _language(review.get("language")),
        "author": _text(_get(review, "consumer", "displayName")) or _text(_get(review, "consumer", "name")) or "",
        "created_at": review.get("createdAt"),
        "verified": review.get("isVerified") is True,
        "reply": _text(_get(reply, "text")),
        "replied_at": _text(_get(reply, "createdAt")),
        "status": _status(review),
    }


def product_review(review: Mapping[str, Any], sku: str | None = None) -> dict[str, Any]:
    """One product review as a loose record; `sku` is the one asked for when the review does not name it."""
    reply = review.get("firstCompanyComment") or review.get("companyReply")
    return {
        "source": SOURCE,
        "external_id": review.get("id"),
        "rating": review.get("stars"),
        "title": _text(review.get("title")) or "",
        "text": _text(review.get("content")) or _text(review.get("text")) or "",
        "language": _language(review.get("language") or review.get("locale")),
        "author": _text(_get(review, "consumer", "displayName")) or _text(_get(review, "consumer", "name")) or "",
        "created_at": review.get("createdAt"),
        "verified": review.get("isVerified") is True,
        "product": _text(_get(review, "product", "sku")) or sku,
        "reply": _text(_get(reply, "comment")) or _text(_get(reply, "text")),
        "replied_at": _text(_get(reply, "createdAt")),
        "status": _status(review),
    }


def parse(payload: Any, *, sku: str | None = None) -> list[dict[str, Any]]:
    """One API page (service or product reviews) -> loose records, in the page's order."""
    if not isinstance(payload, Mapping):
        return []
    service = payload.get("reviews")
    products = payload.get("productReviews")
    records = [service_review(r) for r in service if isinstance(r, Mapping)] if isinstance(service, list) else []
    if isinstance(products, list):
        only = sku if sku and "," not in sku else None
        records += [product_review(r, only) for r in products if isinstance(r, Mapping)]
    return records


def next_page(payload: Any) -> int | None:
    """The page number the `links` entry with rel "next-page" points to; None on the last page."""
    links = payload.get("links") if isinstance(payload, Mapping) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, Mapping) and link.get("rel") == "next-page" and isinstance(link.get("href"), str):
            pages = parse_qs(urlsplit(link["href"]).query).get("page")
            if pages and pages[-1].isdigit():
                return int(pages[-1])
    return None


def created_times(records: list[dict[str, Any]]) -> list[datetime]:
    """The readable createdAt of each record (unreadable ones are ingest's to reject)."""
    found = []
    for record in records:
        value = record.get("created_at")
        if isinstance(value, str):
            try:
                found.append(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
    return found


def business_unit_score(payload: Any) -> dict[str, Any]:
    """Trustpilot's own figures for the unit: trustScore, stars, numberOfReviews (theirs, never ours)."""
    total = _get(payload, "numberOfReviews", "total")
    if total is None and isinstance(_get(payload, "numberOfReviews"), int):
        total = payload["numberOfReviews"]
    return {
        "trust_score": _get(payload, "score", "trustScore"),
        "stars": _get(payload, "score", "stars"),
        "number_of_reviews": total,
        "display_name": _text(_get(payload, "displayName")),
    }


EVENTS = {
    "service-review-created": ("service", "published"),
    "service-review-updated": ("service", "published"),
    "service-review-deleted": ("service", "removed"),
    "product-review-created": ("product", "published"),
    "product-review-updated": ("product", "published"),
    "product-review-deleted": ("product", "removed"),
}


def parse_event(event: Any) -> tuple[str, dict[str, Any]] | None:
    """One webhook event -> ("upsert" | "delete", record); None for an event we do not handle."""
    if not isinstance(event, Mapping) or event.get("eventName") not in EVENTS:
        return None
    kind, effect = EVENTS[event["eventName"]]
    data = event.get("eventData")
    if not isinstance(data, Mapping):
        data = {}
    record = service_review(data) if kind == "service" else product_review(data)
    return ("delete" if effect == "removed" else "upsert"), record

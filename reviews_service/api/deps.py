"""Shared route dependencies and response helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from reviews_service import domain, photo_store, photos
from reviews_service.collection import Registry
from reviews_service.config import Settings, get_settings
from reviews_service.errors import InvalidInput, PayloadTooLarge, problem_document
from reviews_service.state import ServiceState
from reviews_service.tokens import Principal, authenticate

PUBLIC_CACHE = "public, max-age=60, stale-while-revalidate=600"
# what shows reviews themselves (a list, a review's own page): short, no stale copies, a hide or erasure shows soon
LIST_CACHE = "public, max-age=30"


def settings_dep(request: Request) -> Settings:
    """The app's settings (tests inject their own through create_app)."""
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    return settings


SettingsDep = Annotated[Settings, Depends(settings_dep)]


def state_dep(request: Request) -> ServiceState:
    """The app's caches, change feed and ingest locks (made by create_app, one set per app)."""
    state: ServiceState = request.app.state.service_state
    return state


StateDep = Annotated[ServiceState, Depends(state_dep)]


def registry_dep(request: Request) -> Registry:
    """The app's collectors by source name (collectors.registry.REGISTRY unless create_app was given others)."""
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(registry_dep)]


async def now_dep() -> datetime:
    """The current time; tests override it to pin the clock (async: no pool thread taken for it)."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(now_dep)]


def admin(
    settings: SettingsDep, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """Require an admin bearer token."""
    return authenticate(authorization, settings)


AdminDep = Annotated[Principal, Depends(admin)]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON without FastAPI's per-call encoder walk."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def problem_response(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """An RFC 9457 `application/problem+json` answer."""
    response = json_response(problem_document(status, title, detail, slug, **extra), status=status)
    response.headers["content-type"] = "application/problem+json"
    return response


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def read_body(request: Request, settings: Settings) -> bytes:
    """The request body, refused with 413 past the configured limit.

    The app's BodyLimit middleware (reviews_service.limits) has already checked the token and counts
    each route's own, smaller limit as bytes arrive; this is the backstop for the largest one.
    """
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is {int(declared):,} bytes; the limit is {limit:,}. Split the file.")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The body is over the {limit:,}-byte limit. Split the file.")
            chunks.append(chunk)
    except ClientDisconnect as exc:  # the client left, or BodyLimit already answered 413 for us
        raise InvalidInput("The body ended before it was complete.", status=400) from exc
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """JSON from a request body, or a 400 saying where it broke."""
    if not body.strip():
        raise InvalidInput("The request body is empty; send JSON.", status=400)
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise InvalidInput("The body is not UTF-8 text.", status=400) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", status=400
        ) from exc
    except RecursionError as exc:
        raise InvalidInput("The body's JSON is nested too deeply.", status=400) from exc


def summary_json(summary: domain.RatingSummary, bu: domain.BusinessUnit) -> dict[str, Any]:
    """The public shape of a rating summary."""
    data: dict[str, Any] = {"business_unit": bu.slug}
    if summary.product is not None:
        data["product"] = summary.product
    data.update(
        {
            "review_count": summary.count,
            "average": summary.average,
            "histogram": {str(r): summary.histogram.get(r, 0) for r in domain.RATINGS},
            "display": {"value": summary.display_value(bu.display_scale), "scale": bu.display_scale},
            "last_review_at": iso(summary.last_review_at),
            "updated_at": iso(summary.updated_at),
        }
    )
    return data


def review_json(review: domain.Review, display_scale: int | None = None, base_url: str = "") -> dict[str, Any]:
    """The public shape of a review: display name only, never e-mail or order reference.

    `score` is the platform's own score (Kiyoh's 8 / 10) where the shop shows its figures on that scale
    (`display_scale`, None: any), else null; `rating` is always its 1-5 stars. `photos`: the buyer's published
    photos (the review's own list: a moderator's hide takes one out), as URLs on `base_url` (the service's
    REVIEWS_PUBLIC_URL; '' gives site-relative ones).
    """
    own = review.source_scale is not None and display_scale in (None, review.source_scale)
    return {
        "id": review.id,
        "source": review.source,
        "rating": review.rating,
        "title": review.title,
        "text": review.text,
        "language": review.language,
        "author": review.author,
        "verified": review.verified,
        "product": review.product,
        "created_at": iso(review.created_at),
        "reply": None if not review.reply else {"text": review.reply, "created_at": iso(review.replied_at)},
        "score": {"value": review.source_rating, "scale": review.source_scale} if own else None,
        "photos": [
            {"url": photos.photo_url(base_url, p), "thumbnail_url": photos.thumbnail_url(base_url, p)}
            for p in review.photos
        ],
    }


def admin_review_json(review: domain.Review, base_url: str = "") -> dict[str, Any]:
    """The admin shape: the public one plus status, moderation and personal data, and every photo of the review
    with its status (one query, for this one review)."""
    data = review_json(review, base_url=base_url)
    data.update(
        {
            "business_unit": review.business_unit,
            "external_id": review.external_id,
            "status": review.status,
            "moderated": review.moderated,
            "moderation": _moderation_json(review.moderation),  # why it is hidden, by whom, when: never public
            "email": review.email,
            "order_ref": review.order_ref,
            "updated_at": iso(review.updated_at),
            "flags": list(review.flags),
            # every photo of the review, hidden ones too, where the public shape has the shown ones only
            "photos": [photo_admin_json(p, base_url) for p in photo_store.of_review(review.id)],
        }
    )
    return data


def _moderation_json(moderation: domain.Moderation | None) -> dict[str, Any] | None:
    if moderation is None:
        return None
    return {
        "status": moderation.status,
        "reason": moderation.reason,
        "category": moderation.category,
        "by": moderation.by,
        "at": iso(moderation.at),
    }


def photo_admin_json(photo: photo_store.Photo, base_url: str = "") -> dict[str, Any]:
    """The admin shape of a buyer's photo: its status, and admin URLs that show it whatever its status."""
    admin_base = f"{base_url.rstrip('/')}/v1/admin/photos/{photo.id}"
    return {
        "id": photo.id,
        "business_unit": photo.business_unit,
        "review_id": photo.review_id,
        "status": photo.status,
        "reason": photo.reason,
        "width": photo.width,
        "height": photo.height,
        "thumbnail": {"width": photo.thumb_width, "height": photo.thumb_height},
        "url": f"{admin_base}.jpg",
        "thumbnail_url": f"{admin_base}/thumb.jpg",
        "created_at": iso(photo.created_at),
        "moderated_at": iso(photo.moderated_at),
        "moderated_by": photo.moderated_by,
    }

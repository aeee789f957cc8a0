"""Buyers' photos: the public JPEGs (full and thumbnail) and their moderation (admin).

Public answers are cacheable for PHOTO_MAX_AGE with a strong ETag: a photo's bytes never change, only whether it
is shown. A hidden photo leaves the review JSON and the widgets at once (the unit's change feed); a browser or
CDN that cached the JPEG itself may keep showing that copy for up to PHOTO_MAX_AGE, and revalidation (the ETag)
answers 404 once it is hidden.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviews_service import photo_store, repository
from reviews_service.api.deps import AdminDep, NowDep, SettingsDep, StateDep, json_response, photo_admin_json
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from reviews_service.cache import etag_matches
from reviews_service.errors import NotFound
from reviews_service.normalize import MAX_REASON, clean_reason

router = APIRouter(tags=["public"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
JPEG = "image/jpeg"
PHOTO_MAX_AGE = 3600  # seconds a cached copy may outlive the moderator's "hidden" (see the module docstring)
PHOTO_CACHE = f"public, max-age={PHOTO_MAX_AGE}"
GONE = "No such photo, or it is not shown (hidden, or its review is not published)."


def _serve(request: Request, photo_id: str, thumbnail: bool) -> Response:
    served = photo_store.public_bytes(photo_id, thumbnail)
    if served is None:
        raise NotFound(GONE)
    headers = {"Cache-Control": PHOTO_CACHE, "ETag": served.etag, "X-Content-Type-Options": "nosniff"}
    if etag_matches(request.headers.get("if-none-match"), served.etag):
        return Response(status_code=304, headers=headers)
    return Response(served.data, media_type=served.content_type, headers=headers)


@router.get("/photos/{photo_id}.jpg", **answers(JPEG, 404))
def photo(photo_id: str, request: Request) -> Response:
    """A buyer's photo (a JPEG with no metadata, at most 1600 px a side), while it and its review are published."""
    return _serve(request, photo_id, thumbnail=False)


@router.get("/photos/{photo_id}/thumb.jpg", **answers(JPEG, 404))
def photo_thumbnail(photo_id: str, request: Request) -> Response:
    """The photo's thumbnail (at most 320 px a side), what widgets show."""
    return _serve(request, photo_id, thumbnail=True)


class PhotoModeration(BaseModel):
    """A moderator's decision on one photo: hide it (with a reason) or publish it again."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["published", "hidden"]
    reason: str | None = Field(None, max_length=MAX_REASON, description="why it is hidden (admin only)")

    @field_validator("reason")
    @classmethod
    def _clean_reason(cls, value: str | None) -> str | None:
        return clean_reason(value)


@admin_router.get("/business-units/{bu}/photos", **answers(JSON, *ADMIN_ERRORS, 404, 422))
def list_photos(
    bu: str,
    principal: AdminDep,
    state: StateDep,
    settings: SettingsDep,
    status: Annotated[Literal["published", "hidden"] | None, Query(description="absent: any")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Response:
    """A unit's buyers' photos to moderate, newest first, keyset-paginated."""
    principal.require(bu)
    repository.get_business_unit(state, bu)
    page = photo_store.list_photos(bu, status=status, limit=limit, cursor=cursor)
    items = [photo_admin_json(p, settings.public_url) for p in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


@admin_router.patch("/photos/{photo_id}", **answers(JSON, 400, *ADMIN_ERRORS, 404, 409, 413, 415, 422))
def moderate_photo(
    photo_id: str, body: PhotoModeration, principal: AdminDep, state: StateDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Hide a photo (it leaves its review, the review JSON and the widgets at once) or publish it again."""
    photo = photo_store.get(photo_id)
    principal.require(photo.business_unit)
    changed = photo_store.moderate(state, photo_id, status=body.status, reason=body.reason, by=principal.name, now=now)
    return json_response(photo_admin_json(changed, settings.public_url))


def _admin_bytes(photo_id: str, principal: AdminDep, thumbnail: bool) -> Response:
    photo = photo_store.get(photo_id)
    principal.require(photo.business_unit)
    data = photo_store.stored_bytes(photo_id, thumbnail)
    if data is None:
        raise NotFound(f"No photo with id '{photo_id}'.")
    return Response(data, media_type=JPEG)  # no-store: every /v1/admin answer (api/headers.py)


@admin_router.get("/photos/{photo_id}.jpg", **answers(JPEG, *ADMIN_ERRORS, 404))
def admin_photo(photo_id: str, principal: AdminDep) -> Response:
    """A photo whatever its status (a moderator looks before deciding)."""
    return _admin_bytes(photo_id, principal, thumbnail=False)


@admin_router.get("/photos/{photo_id}/thumb.jpg", **answers(JPEG, *ADMIN_ERRORS, 404))
def admin_photo_thumbnail(photo_id: str, principal: AdminDep) -> Response:
    """A photo's thumbnail whatever its status."""
    return _admin_bytes(photo_id, principal, thumbnail=True)

"""Photo queries beyond storing one: what a public URL may serve, a review's photos, a unit's list, moderation.

A review's `photos` (ids) is what the public side shows, with no query per review; a photo's own `status` is the
moderator's decision. Hiding takes the id out of the review (`$pull`) and marks the photo; publishing again puts
it back (`$addToSet`, at most MAX_PHOTOS). Serving checks both, and that the review itself is published, so a
photo is public exactly while the public review JSON lists it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument

from reviews_service import documents as docs
from reviews_service import repository
from reviews_service.cache import strong_etag
from reviews_service.documents import as_utc
from reviews_service.errors import InvalidInput, NotFound
from reviews_service.normalize import MAX_PHOTOS
from reviews_service.photos import valid_photo_id

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

NEWEST_FIRST = [("created_at", -1), ("_id", -1)]
WITHOUT_BYTES = {"data": 0, "thumbnail": 0}
STATUSES = ("published", "hidden")


@dataclass(frozen=True)
class Photo:
    """A stored photo without its bytes: what moderators see and what the URLs need."""

    id: str
    business_unit: str
    review_id: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    status: str
    created_at: datetime
    reason: str | None = None
    moderated_at: datetime | None = None
    moderated_by: str | None = None


@dataclass(frozen=True)
class PhotoPage:
    """One page of a unit's photos and the cursor of the next (None: the last page)."""

    items: list[Photo]
    next_cursor: str | None


@dataclass(frozen=True)
class Served:
    """The bytes a photo URL answers with, and their validator."""

    data: bytes
    etag: str
    content_type: str


def _photos() -> Any:
    return docs.PhotoDoc._get_collection()


def _from_raw(raw: dict[str, Any]) -> Photo:
    created = as_utc(raw["created_at"])
    return Photo(
        id=raw["_id"],
        business_unit=raw["business_unit"],
        review_id=raw["review_id"],
        width=raw["width"],
        height=raw["height"],
        thumb_width=raw.get("thumb_width") or raw["width"],
        thumb_height=raw.get("thumb_height") or raw["height"],
        status=raw.get("status") or "published",
        created_at=created,
        reason=raw.get("reason"),
        moderated_at=as_utc(raw.get("moderated_at")),
        moderated_by=raw.get("moderated_by"),
    )


def get(photo_id: str) -> Photo:
    """One photo (no bytes), or NotFound; an id of the wrong shape never reaches the store."""
    raw = _photos().find_one({"_id": photo_id}, WITHOUT_BYTES) if valid_photo_id(photo_id) else None
    if raw is None:
        raise NotFound(f"No photo with id '{photo_id[:80]}'.")
    return _from_raw(raw)


def of_review(review_id: str) -> list[Photo]:
    """Every photo of one review, any status, oldest first (the order the buyer added them)."""
    raws = _photos().find({"review_id": review_id}, WITHOUT_BYTES)
    return sorted((_from_raw(raw) for raw in raws), key=lambda p: (p.created_at, p.id))


def public_bytes(photo_id: str, thumbnail: bool) -> Served | None:
    """The photo's (or its thumbnail's) bytes if it is public now: published, listed by its review, and that
    review published; else None. An id of the wrong shape never reaches the store."""
    if not valid_photo_id(photo_id):
        return None
    field, tag = ("thumbnail", "thumb_etag") if thumbnail else ("data", "etag")
    raw = _photos().find_one({"_id": photo_id, "status": "published"}, {field: 1, tag: 1, "review_id": 1})
    if raw is None or not raw.get(field):
        return None
    review = docs.ReviewDoc._get_collection().find_one({"_id": raw["review_id"]}, {"status": 1, "photos": 1})
    if review is None or review.get("status") != "published" or photo_id not in (review.get("photos") or ()):
        return None
    data = bytes(raw[field])
    return Served(data, raw.get(tag) or strong_etag(data), "image/jpeg")  # no tag: stored before tags were kept


def list_photos(business_unit: str, *, status: str | None, limit: int, cursor: str | None = None) -> PhotoPage:
    """A unit's photos newest first, keyset-paginated on (created_at, _id); `status` None: any."""
    query: dict[str, Any] = {"business_unit": business_unit}
    if status is not None:
        query["status"] = status
    if cursor:
        after_time, after_id = repository.decode_cursor(cursor)
        query["$or"] = [{"created_at": {"$lt": after_time}}, {"created_at": after_time, "_id": {"$lt": after_id}}]
    raws = list(_photos().find(query, WITHOUT_BYTES).sort(NEWEST_FIRST).limit(limit + 1))
    items = [_from_raw(raw) for raw in raws[:limit]]
    next_cursor = _cursor(items[-1]) if len(raws) > limit and items else None
    return PhotoPage(items, next_cursor)


def _cursor(photo: Photo) -> str:
    """The same opaque cursor as the review and flag lists (repository.decode_cursor reads it)."""
    payload = json.dumps([int(photo.created_at.timestamp() * 1000), photo.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def moderate(state: ServiceState, photo_id: str, *, status: str, reason: str | None, by: str, now: datetime) -> Photo:
    """Hide a photo (out of its review's list) or publish it again (back in, if the review has room); the unit's
    cached lists and widgets are dropped. NotFound for an unknown photo, 409 when its review already shows
    MAX_PHOTOS others."""
    photo = get(photo_id)
    reviews = docs.ReviewDoc._get_collection()
    with state.ingest_locks[photo.business_unit]:  # an ingest of the unit never interleaves with this
        if status == "published":
            room = {"$or": [{"photos": photo_id}, {f"photos.{MAX_PHOTOS - 1}": {"$exists": False}}]}
            placed = reviews.update_one({"_id": photo.review_id, **room}, {"$addToSet": {"photos": photo_id}})
            if placed.matched_count == 0:
                known = reviews.find_one({"_id": photo.review_id}, {"_id": 1}) is not None
                if known:
                    raise InvalidInput(
                        f"Review '{photo.review_id}' already shows {MAX_PHOTOS} photos; hide one of them first.",
                        status=409,
                    )
                # the review is gone (erased): the photo may be marked, there is nothing to show it in
        else:
            reviews.update_one({"_id": photo.review_id}, {"$pull": {"photos": photo_id}})
        changes: dict[str, Any] = {"status": status, "reason": reason if status == "hidden" else None}
        changes.update(moderated_at=now, moderated_by=by)
        raw = _photos().find_one_and_update(
            {"_id": photo_id}, {"$set": changes}, WITHOUT_BYTES, return_document=ReturnDocument.AFTER
        )
    if raw is None:  # deleted meanwhile (its review replaced it)
        raise NotFound(f"No photo with id '{photo_id}'.")
    review = reviews.find_one({"_id": photo.review_id}, {"product": 1})
    product = None if review is None else review.get("product")
    state.changes.publish(photo.business_unit, frozenset({product}))
    return _from_raw(raw)


def stored_bytes(photo_id: str, thumbnail: bool) -> bytes | None:
    """A photo's (or its thumbnail's) bytes whatever its status (the moderators' view), or None."""
    if not valid_photo_id(photo_id):
        return None
    field = "thumbnail" if thumbnail else "data"
    raw = _photos().find_one({"_id": photo_id}, {field: 1})
    return None if raw is None or not raw.get(field) else bytes(raw[field])


def hidden_among(photo_ids: Iterable[str]) -> set[str]:
    """Which of these photo ids a moderator has hidden (one `$in` read on `_id`): what a re-ingest of a record that
    still names them must leave out of the review (reviews_service.ingest, before it fingerprints a batch)."""
    wanted = list(dict.fromkeys(p for p in photo_ids if valid_photo_id(p)))
    if not wanted:
        return set()
    return {raw["_id"] for raw in _photos().find({"_id": {"$in": wanted}, "status": "hidden"}, {"_id": 1})}


# --- erasure and export (reviews_service.privacy) ---------------------------------------------------------


def photos_of_reviews(review_ids: list[str]) -> list[Photo]:
    """The photos of these reviews, any status, without their bytes (the photos.review_id index)."""
    if not review_ids:
        return []
    raws = _photos().find({"review_id": {"$in": review_ids}}, WITHOUT_BYTES)
    return sorted((_from_raw(raw) for raw in raws), key=lambda p: (p.review_id, p.created_at, p.id))


def delete_photos(review_ids: list[str]) -> int:
    """Delete every photo of these reviews (bytes and thumbnail live in the same document); how many."""
    if not review_ids:
        return 0
    return int(_photos().delete_many({"review_id": {"$in": review_ids}}).deleted_count)

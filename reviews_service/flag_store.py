"""Every query on the flags collection, and the review counts the periodic flags are computed from.

Flags have natural ids, so storing one twice is a duplicate key that is simply skipped: a review re-ingested, a
scheduler run twice, two schedulers at once never make a second flag (or a second alert). An alert is sent by
whoever *claims* it: one conditional update moves its `alert_due` past now to the claim's expiry and names the
claim, so of two senders that try at once exactly one gets it (the store answers the update one at a time, a
real MongoDB the same way); a sender that dies leaves it due again when the claim expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from reviews_service import documents as docs
from reviews_service import domain, repository
from reviews_service.errors import NotFound

NEWEST_FIRST = repository.NEWEST_FIRST


def _flags() -> Any:
    return docs.FlagDoc._get_collection()


def to_raw(flag: domain.Flag) -> dict[str, Any]:
    """A Flag as the stored document; a pending alert is due at once."""
    raw: dict[str, Any] = {
        "_id": flag.id,
        "business_unit": flag.business_unit,
        "kind": flag.kind,
        "review_id": flag.review_id,
        "product": flag.product,
        "details": dict(flag.details),
        "status": flag.status,
        "note": flag.note,
        "created_at": flag.created_at,
        "updated_at": flag.created_at,
        "resolved_at": flag.resolved_at,
        "resolved_by": flag.resolved_by,
        "alert": flag.alert,
        "alert_attempts": flag.alert_attempts,
        "alert_done": [],
    }
    if flag.alert == "pending":
        raw["alert_due"] = flag.created_at
    return raw


def from_raw(raw: dict[str, Any]) -> domain.Flag:
    """A stored flag document as a domain Flag."""
    created = docs.as_utc(raw["created_at"])
    assert created is not None
    return domain.Flag(
        id=raw["_id"],
        business_unit=raw["business_unit"],
        kind=raw["kind"],
        created_at=created,
        details=dict(raw.get("details") or {}),
        review_id=raw.get("review_id"),
        product=raw.get("product"),
        status=raw.get("status") or "open",
        note=raw.get("note"),
        resolved_at=docs.as_utc(raw.get("resolved_at")),
        resolved_by=raw.get("resolved_by"),
        alert=raw.get("alert") or "none",
        alert_attempts=int(raw.get("alert_attempts") or 0),
        alert_error=raw.get("alert_error"),
        alert_sent_at=docs.as_utc(raw.get("alert_sent_at")),
    )


def add_flags(flags: list[domain.Flag]) -> list[domain.Flag]:
    """Store the flags that are not stored yet (one batch); returns those this call stored."""
    if not flags:
        return []
    unique = list({f.id: f for f in flags}.values())
    stored = repository.insert_missing(_flags(), [to_raw(f) for f in unique])
    return [f for f in unique if f.id in stored]


def get_flag(flag_id: str) -> domain.Flag:
    """One flag by id, or NotFound."""
    raw = _flags().find_one({"_id": flag_id})
    if raw is None:
        raise NotFound(f"No flag with id '{flag_id}'.")
    return from_raw(raw)


@dataclass(frozen=True)
class FlagPage:
    """One page of a unit's flags and the cursor of the next."""

    items: list[domain.Flag]
    next_cursor: str | None


def list_flags(business_unit: str, *, status: str, kind: str | None, limit: int, cursor: str | None = None) -> FlagPage:
    """A unit's flags of one status newest first, keyset-paginated on (created_at, _id); `kind` None: any."""
    query: dict[str, Any] = {"business_unit": business_unit, "status": status}
    if kind is not None:
        query["kind"] = kind
    if cursor:
        after_time, after_id = repository.decode_cursor(cursor)
        query["$or"] = [{"created_at": {"$lt": after_time}}, {"created_at": after_time, "_id": {"$lt": after_id}}]
    raws = list(_flags().find(query).sort(NEWEST_FIRST).limit(limit + 1))
    items = [from_raw(raw) for raw in raws[:limit]]
    next_cursor = repository.encode_cursor(items[-1]) if len(raws) > limit and items else None
    return FlagPage(items, next_cursor)


def open_flags(business_unit: str, *, kind: str | None = None, limit: int = 500) -> list[domain.Flag]:
    """A unit's open flags, newest first (at most `limit`)."""
    return list_flags(business_unit, status="open", kind=kind, limit=limit).items


def last_flag(business_unit: str, kind: str) -> domain.Flag | None:
    """The newest flag of a kind for a unit, any status."""
    raw = _flags().find_one({"business_unit": business_unit, "kind": kind}, sort=NEWEST_FIRST)
    return None if raw is None else from_raw(raw)


def set_status(flag_id: str, *, status: str, note: str | None, by: str, now: datetime) -> domain.Flag:
    """Resolve or reopen a flag (and set its note when given), recording who and when; NotFound if unknown."""
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "resolved":
        changes.update(resolved_at=now, resolved_by=by)
    else:
        changes.update(resolved_at=None, resolved_by=None)
    if note is not None:
        changes["note"] = note
    raw = _flags().find_one_and_update({"_id": flag_id}, {"$set": changes}, return_document=ReturnDocument.AFTER)
    if raw is None:
        raise NotFound(f"No flag with id '{flag_id}'.")
    return from_raw(raw)


# --- alerts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An alert this sender holds until `until`: the flag, the claim's token, the channels already done."""

    flag: domain.Flag
    token: str
    until: datetime
    done: tuple[str, ...]


def claim_alert(*, now: datetime, hold: timedelta) -> Claim | None:
    """Take the oldest due alert for `hold` (a conditional update: one sender wins it), or None if none is due."""
    token = uuid.uuid4().hex
    until = now + hold
    raw = _flags().find_one_and_update(
        {"alert_due": {"$lte": now}},
        {"$set": {"alert_due": until, "alert_claim": token}},
        sort=[("alert_due", 1)],
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        return None
    return Claim(from_raw(raw), token, until, tuple(raw.get("alert_done") or ()))


def alert_progress(claim: Claim, done: list[str]) -> None:
    """Record the channels that have the alert, so a retry sends only the others."""
    _flags().update_one({"_id": claim.flag.id, "alert_claim": claim.token}, {"$set": {"alert_done": done}})


def alert_sent(claim: Claim, done: list[str], now: datetime) -> bool:
    """Mark the alert sent (only while this claim holds it); False if the claim had expired and was taken."""
    result = _flags().update_one(
        {"_id": claim.flag.id, "alert_claim": claim.token},
        {
            "$set": {"alert": "sent", "alert_sent_at": now, "alert_done": done, "alert_error": None},
            "$unset": {"alert_due": "", "alert_claim": ""},
            "$inc": {"alert_attempts": 1},
        },
    )
    return bool(result.modified_count)


def alert_failed(claim: Claim, done: list[str], error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt: due again at `retry_at`, or given up on (`alert` "failed") when None."""
    changes: dict[str, Any] = {"alert_done": done, "alert_error": error[:500], "alert_claim": None}
    unset: dict[str, str] = {}
    if retry_at is None:
        changes["alert"] = "failed"
        unset["alert_due"] = ""
    else:
        changes["alert_due"] = retry_at
    update: dict[str, Any] = {"$set": changes, "$inc": {"alert_attempts": 1}}
    if unset:
        update["$unset"] = unset
    _flags().update_one({"_id": claim.flag.id, "alert_claim": claim.token}, update)


# --- what the flags are measured against --------------------------------------------------------


def summary_histograms(business_unit: str, skus: list[str]) -> dict[str | None, dict[int, int]]:
    """The stored 1-5 histograms of the unit's own summary (key None) and of `skus`, in one `$in` by `_id`.

    Read from the store as the ingest just left them, not through the summary caches: an ingest must neither
    fill them as a side effect nor measure against another process's older figures.
    """
    keys = [domain.summary_key(business_unit, None)] + [domain.summary_key(business_unit, s) for s in skus]
    found: dict[str | None, dict[int, int]] = {}
    for raw in docs.SummaryDoc._get_collection().find({"_id": {"$in": keys}}):
        found[raw.get("product")] = {r: int(raw.get(f"h{r}", 0)) for r in domain.RATINGS}
    return found


# --- what the periodic flags count --------------------------------------------------------------


def ratings_between(business_unit: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(created_at, rating) of a unit's published reviews (shop and products) created in [start, end).

    The filter is the prefix of the reviews' (business_unit, status, -created_at, -_id) index, and only the
    two fields are read.
    """
    query = {"business_unit": business_unit, "status": "published", "created_at": {"$gte": start, "$lt": end}}
    found = []
    for raw in docs.ReviewDoc._get_collection().find(query, {"_id": 0, "rating": 1, "created_at": 1}).batch_size(5000):
        created = docs.as_utc(raw["created_at"])
        assert created is not None
        found.append((created, int(raw["rating"])))
    return found


# --- erasure and export (reviews_service.privacy) ---------------------------------------------------------


def flags_of_reviews(review_ids: list[str]) -> list[domain.Flag]:
    """The flags about these reviews (the flags.review_id index)."""
    if not review_ids:
        return []
    raws = _flags().find({"review_id": {"$in": review_ids}})
    return sorted((from_raw(raw) for raw in raws), key=lambda f: (f.created_at, f.id))


def clear_flag_notes(review_ids: list[str], now: datetime) -> int:
    """Remove the moderators' notes (which may quote the review) from the flags about these reviews; how many had one.

    The flags themselves stay: a one-star flag is about the rating, which stays too."""
    if not review_ids:
        return 0
    query = {"review_id": {"$in": review_ids}, "note": {"$nin": [None, ""]}}
    result = _flags().update_many(query, {"$set": {"note": None, "updated_at": now}})
    return int(result.modified_count)

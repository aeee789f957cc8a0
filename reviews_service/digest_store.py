"""The digest's queries: a day's one-star reviews, and each day's send claim (the trend: rating_buckets).

The read walks the declared (business_unit, status, rating, -created_at, -_id) index newest first from the
day's end, a page at a time, and stops at the first review older than the day, so it reads what it returns
however many reviews the unit has. The claim is a conditional upsert by `_id` (the `LeaseDoc` pattern):
of two schedulers racing for one unit's day exactly one gets it, on MongoDB as on the embedded store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from reviews_service import documents as docs
from reviews_service import domain
from reviews_service.repository import NEWEST_FIRST


def _reviews() -> Any:
    return docs.ReviewDoc._get_collection()


def _digests() -> Any:
    return docs.DigestDoc._get_collection()


def _newest_first(
    query: dict[str, Any], start: datetime, end: datetime, projection: dict[str, int] | None, page: int
) -> Iterator[dict[str, Any]]:
    """The documents matching `query` created in [start, end), newest first, read `page` at a time (keyset)."""
    after: tuple[datetime, str] | None = None
    while True:
        if after is None:
            bound: dict[str, Any] = {"created_at": {"$lt": end}}
        else:
            at, last_id = after
            bound = {"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]}
        raws = list(_reviews().find({**query, **bound}, projection).sort(NEWEST_FIRST).limit(page))
        for raw in raws:
            if docs.as_utc(raw["created_at"]) < start:
                return
            yield raw
        if len(raws) < page:
            return
        after = (raws[-1]["created_at"], raws[-1]["_id"])


def one_star_reviews(business_unit: str, start: datetime, end: datetime, limit: int) -> list[domain.Review]:
    """Up to `limit` published one-star reviews created in [start, end), newest first."""
    query = {"business_unit": business_unit, "status": "published", "rating": 1}
    found = []
    for raw in _newest_first(query, start, end, None, min(limit, 500)):
        found.append(docs.review_from_raw(raw))
        if len(found) >= limit:
            break
    return found


# --- exactly once per unit and day ----------------------------------------------------------------


@dataclass(frozen=True)
class SendState:
    """Where one unit's digest of one day got to."""

    key: str
    status: str | None  # None: never claimed
    attempts: int = 0
    sends: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None


def digest_key(business_unit: str, day: date) -> str:
    """The natural `_id` of a unit's digest of a day."""
    return f"{business_unit}:{day.isoformat()}"


def claim(business_unit: str, day: date, owner: str, *, now: datetime, hold: timedelta) -> bool:
    """Claim the sending of this unit's digest of `day`: True for exactly one caller while it is unsent.

    It is free when it was never claimed, when its last send failed and its retry time has come, or when its
    sender stopped renewing its claim (died mid-send). A sent digest is never claimed again.
    """
    key = digest_key(business_unit, day)
    free = [
        {"status": "failed", "retry_at": {"$lte": now}},
        {"status": "sending", "claimed_until": {"$lt": now}},
    ]
    try:
        taken = _digests().find_one_and_update(
            {"_id": key, "$or": free},
            {
                "$set": {"status": "sending", "owner": owner, "claimed_until": now + hold},
                "$inc": {"attempts": 1},
                "$setOnInsert": {"business_unit": business_unit, "day": day.isoformat(), "sends": 0},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # it exists and is not free: sent, being sent, or failed and waiting to retry
        return False
    return bool(taken and taken.get("owner") == owner and taken.get("status") == "sending")


def settled(keys: list[str], *, now: datetime) -> set[str]:
    """Which of these digests no one may claim now (sent, being sent, or waiting for a retry): one `$in` read,
    so a look at many units writes nothing for those already done."""
    if not keys:
        return set()
    done = set()
    for raw in _digests().find({"_id": {"$in": keys}}, {"status": 1, "claimed_until": 1, "retry_at": 1}):
        status = raw.get("status")
        until = raw.get("claimed_until") if status == "sending" else raw.get("retry_at")
        if status == "sent" or (until is not None and docs.as_utc(until) > now):
            done.add(raw["_id"])
    return done


def mark_sent(business_unit: str, day: date, owner: str | None, *, now: datetime) -> None:
    """Record a message handed to the SMTP server (`owner` None: a re-send on request, claimed or not)."""
    query: dict[str, Any] = {"_id": digest_key(business_unit, day)}
    if owner is not None:
        query["owner"] = owner
    _digests().update_one(
        query,
        {
            "$set": {"status": "sent", "sent_at": now, "last_error": None, "claimed_until": None},
            "$inc": {"sends": 1},
            "$setOnInsert": {"business_unit": business_unit, "day": day.isoformat(), "attempts": 0},
        },
        upsert=owner is None,
    )


def mark_failed(business_unit: str, day: date, owner: str, error: str, *, retry_at: datetime) -> None:
    """Record a failed send by the claim's holder; it is tried again from `retry_at`."""
    _digests().update_one(
        {"_id": digest_key(business_unit, day), "owner": owner, "status": "sending"},
        {"$set": {"status": "failed", "retry_at": retry_at, "last_error": error[:500], "claimed_until": None}},
    )


def send_state(business_unit: str, day: date) -> SendState:
    """Where this unit's digest of `day` got to."""
    key = digest_key(business_unit, day)
    raw = _digests().find_one({"_id": key})
    if raw is None:
        return SendState(key=key, status=None)
    sent = raw.get("sent_at")
    return SendState(
        key=key,
        status=raw.get("status"),
        attempts=int(raw.get("attempts") or 0),
        sends=int(raw.get("sends") or 0),
        sent_at=None if sent is None else docs.as_utc(sent),
        last_error=raw.get("last_error"),
    )

"""Published ratings counted per quarter of an hour: the digest's trend reads 90 days of a unit as at most 8,640
small documents, however many reviews it has.

A bucket is `{bu}@{UTC quarter}` with counts h1..h5. Every time zone is a whole number of quarter hours from UTC,
so a unit's local days are whole buckets whatever its zone (and a change of zone needs no recount). Ingest and
moderation move the buckets with the summaries (`$inc` upserts of the moves `ingest._add_delta` records); a unit's
buckets are recounted from its reviews the first time its trend is read (`{bu}@complete` marks that it was) and
every night with the summaries, each bucket replaced only if no writer moved it meanwhile (as the summaries are).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError

from reviews_service import documents as docs
from reviews_service import domain

if TYPE_CHECKING:
    from reviews_service.repository import SummaryDelta

QUARTER = timedelta(minutes=15)
COUNTS = tuple(f"h{r}" for r in domain.RATINGS)


def _buckets() -> Any:
    return docs.RatingBucketDoc._get_collection()


def quarter(at: datetime) -> datetime:
    """The start of the UTC quarter hour `at` falls in."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def key(business_unit: str, start: datetime) -> str:
    """The `_id` of a unit's bucket starting at `start`."""
    return f"{business_unit}@{start:%Y-%m-%dT%H:%M}"


def _complete(business_unit: str) -> str:
    return f"{business_unit}@complete"


def count_moves(deltas: Iterable[SummaryDelta]) -> None:
    """Apply the rating moves of one ingest or moderation (one `$inc` upsert per bucket touched)."""
    moved: dict[str, tuple[str, datetime, dict[int, int]]] = {}
    for delta in deltas:
        for created_at, rating, sign in delta.moves:
            start = quarter(created_at)
            entry = moved.setdefault(key(delta.business_unit, start), (delta.business_unit, start, {}))
            entry[2][rating] = entry[2].get(rating, 0) + sign
    ops = []
    for bucket, (unit, start, counts) in moved.items():
        inc = {f"h{r}": n for r, n in counts.items() if n}
        if inc:
            ops.append(
                UpdateOne(
                    {"_id": bucket}, {"$inc": inc, "$setOnInsert": {"business_unit": unit, "start": start}}, upsert=True
                )
            )
    if ops:
        _buckets().bulk_write(ops, ordered=False)


def counts_between(business_unit: str, start: datetime, end: datetime) -> list[tuple[datetime, int, int]]:
    """(bucket start, rating, count) of the unit's published ratings in [start, end): one `$in` on the `_id`s."""
    keys, at = [], quarter(start)
    while at < end:
        keys.append(key(business_unit, at))
        at += QUARTER
    found = []
    for raw in _buckets().find({"_id": {"$in": keys}}):
        begins = docs.as_utc(raw["start"])
        found += [(begins, r, int(raw.get(f"h{r}") or 0)) for r in domain.RATINGS if raw.get(f"h{r}")]
    return found


def complete(business_unit: str) -> bool:
    """Whether the unit's buckets were counted from its reviews (after that, ingest keeps them)."""
    return _buckets().find_one({"_id": _complete(business_unit)}, {"_id": 1}) is not None


def _as_read(raw: dict[str, Any]) -> dict[str, Any]:
    # `$inc` upserts leave counts never incremented absent: a 0 read matches 0 or absent
    return {"_id": raw["_id"], **{c: raw.get(c) or {"$in": [0, None]} for c in COUNTS}}


def rebuild(business_unit: str, ratings: Iterable[tuple[str | None, int, datetime]]) -> int:
    """Recount the unit's buckets from its published (product, rating, created_at); the number rewritten."""
    stored = {raw["_id"]: raw for raw in _buckets().find({"business_unit": business_unit}) if raw.get("start")}
    fresh: dict[str, dict[str, Any]] = {}
    for _, rating, created_at in ratings:  # read after the buckets: a move made meanwhile is not overwritten
        start = quarter(created_at)
        row = fresh.setdefault(key(business_unit, start), {"business_unit": business_unit, "start": start})
        row[f"h{rating}"] = row.get(f"h{rating}", 0) + 1
    ops: list[Any] = []
    for bucket, row in fresh.items():
        before = stored.get(bucket)
        if before is None:
            ops.append(InsertOne({"_id": bucket, **row}))
        elif any((before.get(c) or 0) != row.get(c, 0) for c in COUNTS):
            ops.append(ReplaceOne(_as_read(before), {"_id": bucket, **row}))
    ops += [
        DeleteOne(_as_read(raw))
        for bucket, raw in stored.items()
        if bucket not in fresh and any(raw.get(c) for c in COUNTS)
    ]
    if ops:
        try:
            _buckets().bulk_write(ops, ordered=False)
        except BulkWriteError as exc:  # created meanwhile by an ingest: that one stays, the next recount looks again
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
    marker = {"$set": {"business_unit": business_unit, "start": None}}
    _buckets().update_one({"_id": _complete(business_unit)}, marker, upsert=True)
    return len(ops)

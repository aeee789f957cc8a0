"""The `changes` collection: one version per business unit, bumped by every write to it (see poller.py).

Queries on it live here rather than in repository.py (which only records through `record`), so the
poller and its tests read them without the rest of the repository.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from reviews_service import documents as docs


def record(business_unit: str) -> tuple[int, datetime]:
    """Bump the business unit's change version, stamped with the store's clock (atomic on either store);
    returns the new (version, stamp)."""
    bump = {"$inc": {"version": 1}, "$currentDate": {"at": True}}
    collection = docs.ChangeDoc._get_collection()
    raw = collection.find_one_and_update(
        {"_id": business_unit}, bump, upsert=True, return_document=ReturnDocument.AFTER
    )
    collection.update_one({"_id": ANY_UNIT}, bump, upsert=True)  # after the unit's: see total
    return raw["version"], docs.as_utc(raw["at"]) or _now_ms()


ANY_UNIT = "~any"  # the `changes` document bumped after every unit's (not a slug: slugs have no `~`)


def total() -> int:
    """How many changes were recorded in all: one read by `_id`, so an idle poll costs next to nothing.

    Every unit's bump precedes this counter's, so once it moved, `since` finds the unit's.
    """
    raw = docs.ChangeDoc._get_collection().find_one({"_id": ANY_UNIT}, {"version": 1})
    return 0 if raw is None else int(raw.get("version", 0))


def since(since: datetime | None) -> list[tuple[str, int, datetime]]:
    """(business unit, version, stamp) of the units bumped at or after `since` (all of them for None)."""
    query: dict[str, Any] = {"_id": {"$ne": ANY_UNIT}}
    if since is not None:
        query["at"] = {"$gte": since}
    rows = docs.ChangeDoc._get_collection().find(query, {"version": 1, "at": 1})
    return [(raw["_id"], raw.get("version", 0), docs.as_utc(raw.get("at")) or _now_ms()) for raw in rows]


def _now_ms() -> datetime:
    """Now in UTC at the store's precision (milliseconds)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)

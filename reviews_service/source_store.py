"""The queries for collectors' state and the scheduler's leases (the repository's, kept apart for size).

Each is one document by `_id`, or a unit's few by the declared index, so both stores answer them alike. A
lease is a compare-and-set with an expiry (`find_one_and_update`): of two scheduler processes only one holds
a job's lease, and a job whose process died is taken over once its lease expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from reviews_service import documents as docs
from reviews_service import domain


def _key(business_unit: str, source: str) -> str:
    return f"{business_unit}/{source}"


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _state(raw: dict[str, Any]) -> domain.SourceState:
    return domain.SourceState(
        business_unit=raw["business_unit"],
        source=raw["source"],
        checkpoint=dict(raw.get("checkpoint") or {}),
        last_run_at=_utc(raw.get("last_run_at")),
        last_outcome=raw.get("last_outcome"),
        last_error=raw.get("last_error"),
        last_report=dict(raw.get("last_report") or {}),
        failures=int(raw.get("failures") or 0),
        next_run_at=_utc(raw.get("next_run_at")),
    )


def _sources() -> Any:
    return docs.SourceStateDoc._get_collection()


def get_source_state(business_unit: str, source: str) -> domain.SourceState:
    """This source's state for this unit (an empty one before its first run)."""
    raw = _sources().find_one({"_id": _key(business_unit, source)})
    return _state(raw) if raw else domain.SourceState(business_unit=business_unit, source=source)


def source_states(business_unit: str) -> dict[str, domain.SourceState]:
    """Every source's state for this unit, by source name."""
    found = _sources().find({"business_unit": business_unit})
    return {raw["source"]: _state(raw) for raw in found}


def _upsert(business_unit: str, source: str, fields: dict[str, Any]) -> None:
    _sources().update_one(
        {"_id": _key(business_unit, source)},
        {"$set": fields, "$setOnInsert": {"business_unit": business_unit, "source": source}},
        upsert=True,
    )


def save_checkpoint(business_unit: str, source: str, checkpoint: dict[str, Any]) -> None:
    """Where a sync got to: written after every page, so a crash resumes from here."""
    _upsert(business_unit, source, {"checkpoint": checkpoint})


def keep_in_checkpoint(business_unit: str, source: str, fields: dict[str, Any]) -> None:
    """Set these keys of the checkpoint, keeping the others (a field-wise `$set`: a sync's own keys stay)."""
    if fields:
        _upsert(business_unit, source, {f"checkpoint.{key}": value for key, value in fields.items()})


def record_run(
    business_unit: str,
    source: str,
    *,
    at: datetime,
    outcome: str,
    error: str | None,
    report: dict[str, Any],
    failures: int,
    next_run_at: datetime | None,
) -> None:
    """How a run ended (shown at GET /v1/admin/business-units/{bu}/sources)."""
    fields = {
        "last_run_at": at,
        "last_outcome": outcome,
        "last_error": error,
        "last_report": report,
        "failures": failures,
        "next_run_at": next_run_at,
    }
    _upsert(business_unit, source, fields)


def schedule_next(business_unit: str, source: str, next_run_at: datetime | None) -> None:
    """When the scheduler runs this source next (after its period, or its backoff after failures)."""
    _upsert(business_unit, source, {"next_run_at": next_run_at})


def source_reviews(business_unit: str, source: str) -> Iterator[domain.Review]:
    """Every review a source stored for a unit, any status (a full resync looks for those the platform lost)."""
    reviews = docs.ReviewDoc._get_collection()
    for raw in reviews.find({"business_unit": business_unit, "source": source}).batch_size(1000):
        yield docs.review_from_raw(raw)


def take_lease(key: str, owner: str, *, now: datetime, seconds: float) -> bool:
    """Hold `key` for `seconds` (or renew it, for its holder): False while another owner's lease lasts."""
    expires = now + timedelta(seconds=seconds)
    leases = docs.LeaseDoc._get_collection()
    try:
        taken = leases.find_one_and_update(
            {"_id": key, "$or": [{"owner": owner}, {"expires": {"$lte": now}}]},
            {"$set": {"owner": owner, "expires": expires}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # it exists, held by another owner whose lease has not expired
        return False
    return bool(taken and taken["owner"] == owner)


def take_over_lease(key: str, holder: str, owner: str, *, now: datetime, seconds: float) -> bool:
    """Take `key` from `holder` (known to be dead), unless someone else took it first."""
    taken = docs.LeaseDoc._get_collection().find_one_and_update(
        {"_id": key, "owner": holder},
        {"$set": {"owner": owner, "expires": now + timedelta(seconds=seconds)}},
        return_document=ReturnDocument.AFTER,
    )
    return bool(taken and taken["owner"] == owner)


def release_lease(key: str, owner: str) -> None:
    """Give `key` up (only its holder can)."""
    docs.LeaseDoc._get_collection().delete_one({"_id": key, "owner": owner})


def lease_holder(key: str, *, now: datetime) -> tuple[str, datetime] | None:
    """Who holds `key` and until when, or None when nobody's lease lasts."""
    raw = docs.LeaseDoc._get_collection().find_one({"_id": key})
    expires = _utc(raw.get("expires")) if raw else None
    if raw is None or expires is None or expires <= now:
        return None
    return str(raw["owner"]), expires

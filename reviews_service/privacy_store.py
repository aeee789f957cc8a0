"""The review and erasure-record queries of erasure, export and retention (reviews_service.privacy; those of
invitations, flags and photos are in their own stores): each by `_id`, or an equality or range on a declared index
(reviews.email, reviews.order_ref), so that real MongoDB reads what it returns.

Addresses are compared as stored: trimmed, lower-cased and in NFC (normalize.normal_email, which normalize.py and
orders.py store them with), never by a case-insensitive regex, which no index serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pymongo import UpdateOne

from reviews_service import documents as docs
from reviews_service import domain, invitation_store, repository

PAGE = 500  # documents read or written at a time
ContactField = Literal["email", "order_ref"]
CONTACT_FIELDS: tuple[ContactField, ...] = ("email", "order_ref")  # what retention takes out of old reviews


def _reviews() -> Any:
    return docs.ReviewDoc._get_collection()


def _erasures() -> Any:
    return docs.ErasureDoc._get_collection()


def erased_reviews(ids: Iterable[str]) -> set[str]:
    """Which of these review ids were erased (one `$in` read of `_id`s): an ingest stores them anonymised."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    return {raw["_id"] for raw in _erasures().find({"_id": {"$in": wanted}}, {"_id": 1})}


def erased_addresses(secret: str, emails: Iterable[str]) -> set[str]:
    """Which of these addresses were erased (not merely opted out), in one `$in` read of their keyed hashes."""
    keys = {invitation_store.address_key(secret, e): e for e in emails if e}
    if not keys:
        return set()
    found = docs.SuppressionDoc._get_collection().find({"_id": {"$in": list(keys)}, "reason": "erased"}, {"_id": 1})
    return {keys[raw["_id"]] for raw in found}


def erased_orders(secret: str, orders: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (business unit, order reference) pairs belong to an invitation whose buyer was erased: one `$in` read
    by `_id` (an invitation's id is the keyed hash of the pair, so the blanked reference is still recognised)."""
    ids = {invitation_store.invitation_id(secret, unit, ref): (unit, ref) for unit, ref in orders}
    if not ids:
        return set()
    found = docs.InvitationDoc._get_collection().find({"_id": {"$in": list(ids)}}, {"_id": 1, "erased_at": 1})
    return {ids[raw["_id"]] for raw in found if raw.get("erased_at") is not None}


def suppression(secret: str, email: str) -> tuple[str, datetime | None] | None:
    """(reason, since) of the address's suppression ("opted_out" or "erased"), or None: it may be mailed."""
    raw = docs.SuppressionDoc._get_collection().find_one({"_id": invitation_store.address_key(secret, email)})
    return None if raw is None else (raw["reason"], docs.as_utc(raw.get("at")))


def record_erasures(review_ids: Iterable[str], now: datetime) -> None:
    """Remember these reviews as erased (those remembered already stay as they are)."""
    repository.insert_missing(_erasures(), [{"_id": i, "at": now} for i in dict.fromkeys(review_ids)])


def reviews_of_address(email: str, limit: int) -> list[domain.Review]:
    """Up to `limit` reviews that carry this (normalised) address, on the reviews.email index."""
    return [docs.review_from_raw(raw) for raw in _reviews().find({"email": email}).limit(limit)]


def reviews_of_orders(orders: Iterable[tuple[str, str]], limit: int) -> list[domain.Review]:
    """Up to `limit` reviews that carry one of these (unit, order reference) pairs (a platform's reference code, an
    import's order_ref), one equality on the reviews.order_ref index per order."""
    found: dict[str, domain.Review] = {}
    for unit, ref in dict.fromkeys(o for o in orders if o[1]):
        if len(found) >= limit:
            break
        for raw in _reviews().find({"order_ref": ref, "business_unit": unit}).limit(limit - len(found)):
            found.setdefault(raw["_id"], docs.review_from_raw(raw))
    return list(found.values())


def replace_if_unchanged(pairs: list[tuple[domain.Review, dict[str, Any]]]) -> set[str]:
    """Set these fields of each review while it still has the fingerprint it was read with (an ingest in between
    makes it miss, as ingest's own writes do); returns the ids that missed, to be read again."""
    if not pairs:
        return set()
    missed = set()
    for old, changes in pairs:  # one by one: matched_count per review tells which ones missed
        if _reviews().update_one({"_id": old.id, "fingerprint": old.fingerprint}, {"$set": changes}).matched_count == 0:
            missed.add(old.id)
    return missed


# --- retention ------------------------------------------------------------------------------------------------------


def reviews_keeping(field: ContactField, cutoff: datetime, limit: int = PAGE) -> list[domain.Review]:
    """Up to `limit` reviews created before `cutoff` that still carry `field` (`$gt: ""` is a range on its index:
    only strings, so the reviews without one are never read)."""
    cursor = _reviews().find({field: {"$gt": ""}, "created_at": {"$lt": cutoff}}).limit(limit)
    return [docs.review_from_raw(raw) for raw in cursor]


def strip_personal(pairs: list[tuple[domain.Review, str]]) -> int:
    """Take e-mail and order reference out of these reviews, each with its new fingerprint and only while it still
    has the one it was read with; how many were written."""
    if not pairs:
        return 0
    ops = [
        UpdateOne(
            {"_id": old.id, "fingerprint": old.fingerprint},
            {"$set": {"email": None, "order_ref": None, "fingerprint": fingerprint}},
        )
        for old, fingerprint in pairs
    ]
    return int(_reviews().bulk_write(ops, ordered=False).modified_count)

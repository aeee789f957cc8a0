"""Every query lives here; nothing else imports mongoengine or pymongo.

Queries stay within what real MongoDB and the embedded store answer identically: equality, `$in`,
`$lt`/`$or` keyset pagination, `$inc`/`$max`/`$set` upserts. There is one code path whatever the store:
every query touches what it returns (by `_id`, or through an index the Documents declare), and no
read trusts that this process is the only writer. Hot reads (business units, products, summaries,
first pages) come from the short-lived caches of a `ServiceState` (state.py), which every write through
this module also invalidates: the functions that read or invalidate them take it as their first argument.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import DeleteOne, InsertOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError

from reviews_service import documents as docs
from reviews_service import domain, review_policy, versions
from reviews_service.cache import TTLCache
from reviews_service.errors import InvalidInput, NotFound
from widgets.i18n import LOCALES as LANGUAGES

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

V = TypeVar("V")
# Only first pages of up to this many reviews are cached (the caches live on a ServiceState, see state.py).
FIRST_PAGE_MAX = 20


def _reviews() -> Any:
    return docs.ReviewDoc._get_collection()


def _summaries() -> Any:
    return docs.SummaryDoc._get_collection()


# --- business units ---------------------------------------------------------------------------


BUSINESS_UNIT_DEFAULTS: dict[str, Any] = {
    "domain": "",
    "locales": ["en"],
    "timezone": "UTC",
    "display_scale": 5,
    "sources": {},
    "reviews_url": "",
    "taxonomy": {},
    "invitations": dataclasses.asdict(domain.InvitationPolicy()),
}
BUSINESS_UNIT_FIELDS = ("name", *BUSINESS_UNIT_DEFAULTS)


def save_business_unit(state: ServiceState, bu: domain.BusinessUnit) -> bool:
    """Create or overwrite a business unit with every field of `bu`; True when it was new."""
    _, created = update_business_unit(state, bu.slug, {name: getattr(bu, name) for name in BUSINESS_UNIT_FIELDS})
    return created


def update_business_unit(
    state: ServiceState, slug: str, fields: Mapping[str, Any], *, create: bool = True
) -> tuple[domain.BusinessUnit, bool]:
    """Set the given fields of a business unit, keeping the others; creates it (name required) when `create`.

    One atomic `$set` (with `$setOnInsert` defaults for a new unit), so two admins changing different
    fields at once both keep their change. Returns the stored unit and whether it was created.
    """
    changes_ = {k: _stored_field(k, v) for k, v in fields.items() if k in BUSINESS_UNIT_FIELDS}
    collection = docs.BusinessUnitDoc._get_collection()
    if changes_:
        before = collection.find_one_and_update({"_id": slug}, {"$set": changes_})
    else:
        before = collection.find_one({"_id": slug}, {"_id": 1})
    created = False
    if before is None:
        if not create:
            raise NotFound(f"No business unit '{slug}'. Create it with POST /v1/admin/business-units.")
        if "name" not in changes_:
            raise InvalidInput(f"There is no business unit '{slug}' yet: creating one needs a `name`.")
        defaults = {k: v for k, v in BUSINESS_UNIT_DEFAULTS.items() if k not in changes_}
        result = collection.update_one({"_id": slug}, {"$set": changes_, "$setOnInsert": defaults}, upsert=True)
        created = result.upserted_id is not None
    state.business_units.pop(slug)
    state.changes.publish(slug, frozenset())
    return get_business_unit(state, slug), created


def _stored_field(name: str, value: Any) -> Any:
    """A business unit's field as the document keeps it (tuples as lists, the invitation policy as a dict)."""
    if name == "locales":
        return list(value)
    if isinstance(value, domain.InvitationPolicy):
        return dataclasses.asdict(value)
    return value


def mark_changed(business_unit: str, _products: frozenset[str | None]) -> tuple[int, datetime]:
    """Remember when a business unit last changed (exports answer "changed since?" from it), and tell the
    other processes (their pollers read the versions): every ServiceState's change feed records with this."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    docs.BusinessUnitDoc._get_collection().update_one({"_id": business_unit}, {"$set": {"changed_at": now}})
    return versions.record(business_unit)


def changed_at(business_unit: str) -> datetime | None:
    """When the business unit's reviews, catalogue or settings last changed (None: never recorded)."""
    raw = docs.BusinessUnitDoc._get_collection().find_one({"_id": business_unit}, {"changed_at": 1})
    return None if raw is None else docs.as_utc(raw.get("changed_at"))


def get_business_unit(state: ServiceState, slug: str) -> domain.BusinessUnit:
    """The business unit, or NotFound."""
    cached = state.business_units.get(slug)
    if cached is not None:
        return cached
    ticket = state.business_units.ticket()
    doc = docs.BusinessUnitDoc.objects(id=slug).first()
    if doc is None:
        raise NotFound(f"No business unit '{slug}'. Create it with POST /v1/admin/business-units.")
    return state.business_units.put(slug, doc.to_domain(), ticket)


def list_business_units() -> list[domain.BusinessUnit]:
    """All business units, by slug."""
    return [d.to_domain() for d in docs.BusinessUnitDoc.objects.order_by("id")]


# --- products -----------------------------------------------------------------------------------


def save_products(state: ServiceState, products: Iterable[domain.Product]) -> tuple[int, int]:
    """Create or update products in one batch; returns (created, updated). Unchanged ones are not written."""
    latest = {p.sku: p for p in products}  # a sku listed twice: the later one wins
    if not latest:
        return 0, 0
    bu = next(iter(latest.values())).business_unit
    known = _read_products(bu, list(latest))  # from the store, not the cache: this decides what is written
    new = [p for sku, p in latest.items() if sku not in known]
    changed = [p for sku, p in latest.items() if sku in known and known[sku] != p]
    ops: list[Any] = [InsertOne(docs.product_to_raw(p)) for p in new]  # a duplicate key, not an upsert, if raced
    ops += [_replace_product(p) for p in changed]
    if ops:
        try:
            docs.ProductDoc._get_collection().bulk_write(ops, ordered=False)
        except BulkWriteError as exc:  # created meanwhile by another process: write those as updates
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise
            retry = [new[e["index"]] for e in exc.details["writeErrors"]]
            docs.ProductDoc._get_collection().bulk_write([_replace_product(p) for p in retry])
    if new or changed:
        for product in new + changed:  # not a write-through put: a concurrent save could put an older one
            state.products.pop(docs.product_id(bu, product.sku))
        state.changes.publish(bu, frozenset(p.sku for p in new + changed))
    return len(new), len(latest) - len(new)


def _replace_product(product: domain.Product) -> ReplaceOne[dict[str, Any]]:
    raw = docs.product_to_raw(product)
    return ReplaceOne({"_id": raw["_id"]}, raw, upsert=True)


def catalogue(business_unit: str) -> dict[str, domain.Product]:
    """Every product of a business unit by sku, read from the store: only for lists of the whole catalogue."""
    return {p.sku: p for page in catalogue_pages(business_unit) for p in page}


def catalogue_pages(business_unit: str, size: int = 2000) -> Iterator[list[domain.Product]]:
    """Every product in sku order, a page at a time (keyset pagination on (business_unit, sku): flat memory)."""
    last = ""
    while True:
        query: dict[str, Any] = {"business_unit": business_unit, "sku": {"$gt": last}}
        raws = list(docs.ProductDoc._get_collection().find(query).sort("sku", 1).limit(size))
        if not raws:
            return
        yield [docs.product_from_raw(raw) for raw in raws]
        last = raws[-1]["sku"]


def _read_products(business_unit: str, skus: list[str]) -> dict[str, domain.Product]:
    """The stored products among `skus`, in one `$in` query on their `_id`s."""
    if not skus:
        return {}
    ids = [docs.product_id(business_unit, sku) for sku in dict.fromkeys(skus)]
    cursor = docs.ProductDoc._get_collection().find({"_id": {"$in": ids}})
    return {raw["sku"]: docs.product_from_raw(raw) for raw in cursor}


def _read_through(
    cache: TTLCache[str, V], skus: Iterable[str], key: Callable[[str], str], read: Callable[[list[str]], dict[str, V]]
) -> dict[str, V]:
    """By sku: what `cache` holds, and the rest from one `read` of the missing skus, cached (a read that an
    invalidation overtook is served but not kept: its ticket is taken before the read)."""
    found: dict[str, V] = {}
    missing: list[str] = []
    for sku in dict.fromkeys(skus):
        cached = cache.get(key(sku))
        if cached is not None:
            found[sku] = cached
        else:
            missing.append(sku)
    if missing:
        ticket = cache.ticket()
        for sku, value in read(missing).items():
            found[sku] = cache.put(key(sku), value, ticket)
    return found


def products(state: ServiceState, business_unit: str, skus: Iterable[str]) -> dict[str, domain.Product]:
    """The products among `skus` that exist, by sku: cached ones, the rest in one `$in` query (cached)."""
    return _read_through(
        state.products, skus, lambda sku: docs.product_id(business_unit, sku), partial(_read_products, business_unit)
    )


def get_product(state: ServiceState, business_unit: str, sku: str) -> domain.Product:
    """One product (a find by `_id`, cached), or NotFound."""
    product = products(state, business_unit, [sku]).get(sku)
    if product is None:
        raise NotFound(f"No product '{sku}' in business unit '{business_unit}'.")
    return product


def summaries_for(state: ServiceState, business_unit: str, skus: list[str]) -> dict[str, domain.RatingSummary]:
    """Product summaries of a page of skus: cached ones, the rest in one `$in` query on their `_id`s."""

    def read(missing: list[str]) -> dict[str, domain.RatingSummary]:
        keys = [domain.summary_key(business_unit, sku) for sku in missing]
        found = map(docs.summary_from_raw, _summaries().find({"_id": {"$in": keys}}))
        stored = {summary.product or "": summary for summary in found}
        empty = domain.RatingSummary.empty  # no summary yet: the empty one, cached too
        return {sku: stored[sku] if sku in stored else empty(business_unit, sku) for sku in missing}

    return _read_through(state.summaries, skus, lambda sku: domain.summary_key(business_unit, sku), read)


NEWEST_FIRST = [("created_at", -1), ("_id", -1)]  # the keyset order every review list uses


def latest_product_reviews(business_unit: str, skus: list[str], per_product: int) -> dict[str, list[domain.Review]]:
    """Up to `per_product` newest published reviews of each sku: one indexed find per sku, stopped at the limit.

    A find per sku rather than one `$in` for the page: each reads exactly what it returns from the
    (business_unit, product, status, created_at, _id) index, however many reviews a product has.
    """
    if per_product <= 0:
        return {}
    latest: dict[str, list[domain.Review]] = {}
    for sku in dict.fromkeys(skus):
        query = {"business_unit": business_unit, "product": sku, "status": "published"}
        raws = list(_reviews().find(query).sort(NEWEST_FIRST).limit(per_product))
        if raws:
            latest[sku] = [docs.review_from_raw(raw) for raw in raws]
    return latest


# --- reviews ------------------------------------------------------------------------------------


def reviews_by_id(ids: Iterable[str]) -> dict[str, domain.Review]:
    """The stored reviews among `ids`, read in one `$in` query."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    return {raw["_id"]: docs.review_from_raw(raw) for raw in _reviews().find({"_id": {"$in": wanted}})}


def fingerprints(business_unit: str, ids: Iterable[str]) -> dict[str, str]:
    """The stored fingerprints among `ids`: absent ids are not stored yet."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    cursor = _reviews().find({"_id": {"$in": wanted}, "business_unit": business_unit}, {"fingerprint": 1})
    return {raw["_id"]: raw.get("fingerprint", "") for raw in cursor}


def get_review(review_id: str) -> domain.Review:
    """One review by id, or NotFound."""
    raw = _reviews().find_one({"_id": review_id})
    if raw is None:
        raise NotFound(f"No review with id '{review_id}'.")
    return docs.review_from_raw(raw)


def write_reviews(new: Iterable[domain.Review], edited: Iterable[tuple[domain.Review, domain.Review]]) -> set[str]:
    """Insert new reviews in one batch and replace edited ones, each only if still as read; returns the ids
    that were not written because another writer got there first, to be read again and retried.

    Inserting (rather than upserting) lets a batch go in one write; another process may have inserted
    the same review meanwhile (a duplicate key), and that one is read again. An edit
    `(old, new)` replaces the stored document only while it still has `old`'s fingerprint, status,
    moderation and reply (compare-and-set): a concurrent edit or moderation in between makes it miss, so the caller
    never moves the summaries from a state that is gone.
    """
    new, edited = list(new), list(edited)
    lost: set[str] = set()
    if new:
        try:
            _reviews().bulk_write([InsertOne(docs.review_to_raw(r)) for r in new], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            lost = {new[e["index"]].id for e in errors}
    for old, review in edited:
        as_read = {
            "_id": old.id,
            "fingerprint": old.fingerprint,
            "status": old.status,
            "moderated": old.moderated,
            "reply": old.reply,
        }
        if _reviews().replace_one(as_read, docs.review_to_raw(review)).matched_count == 0:
            lost.add(review.id)
    return lost


def iter_reviews(business_unit: str | None = None, batch_size: int = 1000) -> Iterator[domain.Review]:
    """Every stored review (optionally of one business unit), any status."""
    query = {} if business_unit is None else {"business_unit": business_unit}
    for raw in _reviews().find(query).batch_size(batch_size):
        yield docs.review_from_raw(raw)


def published_ratings(business_unit: str) -> Iterator[tuple[str | None, int, datetime]]:
    """(product, rating, created_at) of every published review of a unit: what its summaries count, and no more.

    The nightly rebuild reads these instead of whole reviews (texts are most of a review's bytes); the filter is
    the prefix of the (business_unit, status, -created_at, -_id) index.
    """
    fields = {"_id": 0, "product": 1, "rating": 1, "created_at": 1}
    for raw in _reviews().find({"business_unit": business_unit, "status": "published"}, fields).batch_size(5000):
        created = raw["created_at"]
        yield raw.get("product"), raw["rating"], created if created.tzinfo else created.replace(tzinfo=UTC)


def reviews_between(business_unit: str, start: datetime, end: datetime, limit: int) -> list[domain.Review]:
    """A unit's published reviews created in [start, end), newest first, at most `limit` (complaint windows).

    The filter and sort are the (business_unit, status, -created_at, -_id) index: a range on its sort field.
    """
    query = {"business_unit": business_unit, "status": "published", "created_at": {"$gte": start, "$lt": end}}
    return [docs.review_from_raw(raw) for raw in _reviews().find(query).sort(NEWEST_FIRST).limit(limit)]


@dataclass(frozen=True)
class ReviewPage:
    """One page of the public review list and the cursor of the next."""

    items: list[domain.Review]
    next_cursor: str | None


ALL_PRODUCTS = "*"


def list_published(
    state: ServiceState,
    business_unit: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    rating: int | None = None,
    product: str | None = None,
    language: str | None = None,
) -> ReviewPage:
    """Published reviews, newest first, keyset-paginated on (created_at, _id).

    `product=None` lists the shop's own reviews (what the business-unit summary counts),
    a sku lists that product's, and `*` lists everything.
    """
    key = (business_unit, product, rating, language, limit)
    cacheable = not cursor and limit <= FIRST_PAGE_MAX and (language is None or language in LANGUAGES)
    if cacheable:
        cached = state.first_pages.get(key)
        if cached is not None:
            return cached
    ticket = state.first_pages.ticket()
    query: dict[str, Any] = {"business_unit": business_unit, "status": "published"}
    if product != ALL_PRODUCTS:
        query["product"] = product
    if rating is not None:
        query["rating"] = rating
    if language is not None:
        query["language"] = language
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        query["$or"] = [
            {"created_at": {"$lt": after_time}},
            {"created_at": after_time, "_id": {"$lt": after_id}},
        ]
    raws = list(_reviews().find(query).sort(NEWEST_FIRST).limit(limit + 1))
    items = [docs.review_from_raw(raw) for raw in raws[:limit]]
    next_cursor = encode_cursor(items[-1]) if len(raws) > limit and items else None
    page = ReviewPage(items=items, next_cursor=next_cursor)
    return state.first_pages.put(key, page, ticket) if cacheable else page


def encode_cursor(review: domain.Review | domain.Flag | domain.Invitation) -> str:
    """An opaque cursor pointing just after `review` (or a flag, or an invitation) in newest-first order."""
    millis = int(review.created_at.timestamp() * 1000)
    payload = json.dumps([millis, review.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; InvalidInput if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        millis, review_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(millis, int) or not isinstance(review_id, str):
            raise ValueError("wrong types")
        return datetime.fromtimestamp(millis / 1000, tz=UTC), review_id
    except (ValueError, TypeError, OverflowError, OSError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not valid. Use the `next_cursor` value of the previous page as it is."
        ) from exc


def moderate(
    review_id: str,
    *,
    status: str | None,
    reply: str | None,
    now: datetime,
    decision: domain.Moderation | None = None,
) -> tuple[domain.Review, domain.Review]:
    """Set a review's status and/or reply as a moderator; the status then survives re-ingest. `decision`
    (who, why, when) is recorded with a status change.

    One atomic update that hands back the document it replaced: (before, after), so the summaries move
    from exactly the state this update changed, whatever other writers do meanwhile.
    """
    updates: dict[str, Any] = {"updated_at": now}
    if status is not None:
        updates["status"] = status
        updates["moderated"] = True
        updates["moderation"] = docs.moderation_to_raw(decision)
    if reply is not None:
        updates["reply"] = reply or None
        updates["replied_at"] = now if reply else None
    before = _reviews().find_one_and_update(
        {"_id": review_id}, {"$set": updates}, return_document=ReturnDocument.BEFORE
    )
    if before is None:
        raise NotFound(f"No review with id '{review_id}'.")
    return docs.review_from_raw(before), docs.review_from_raw({**before, **updates})


# --- summaries ----------------------------------------------------------------------------------


@dataclass
class SummaryDelta:
    """A change to one summary: histogram increments and the newest review time seen."""

    business_unit: str
    product: str | None
    histogram: dict[int, int]
    newest: datetime | None = None
    recompute_last: bool = False
    moves: list[tuple[datetime, int, int]] = field(default_factory=list)  # (created_at, rating, +1/-1): rating_buckets


def apply_summary_deltas(state: ServiceState, deltas: Mapping[str, SummaryDelta], now: datetime) -> None:
    """Apply histogram increments atomically (`$inc` upserts by `_id`, in one batch), then fix up last-review times."""
    ops: list[Any] = []
    for key, delta in deltas.items():
        update: dict[str, Any] = {
            "$setOnInsert": {"business_unit": delta.business_unit, "product": delta.product},
            "$set": {"updated_at": now},
        }
        inc = {f"h{r}": n for r, n in delta.histogram.items() if n}
        if inc:
            update["$inc"] = inc
        if delta.newest is not None and not delta.recompute_last:
            update["$max"] = {"last_review_at": delta.newest}
        ops.append(UpdateOne({"_id": key}, update, upsert=True))
    if ops:
        _summaries().bulk_write(ops, ordered=False)
    for key, delta in deltas.items():
        if delta.recompute_last:
            newest = _newest_published(delta.business_unit, delta.product)
            # A missing field rather than null: `$max` against null differs between MongoDB and mongomock.
            change = {"$set": {"last_review_at": newest}} if newest else {"$unset": {"last_review_at": ""}}
            _summaries().update_one({"_id": key}, change)
        state.summaries.pop(key)


def _newest_published(business_unit: str, product: str | None) -> datetime | None:
    raw = _reviews().find_one(
        {"business_unit": business_unit, "product": product, "status": "published"},
        projection={"created_at": 1},
        sort=NEWEST_FIRST,
    )
    return None if raw is None else docs.as_utc(raw["created_at"])


def get_summary(state: ServiceState, business_unit: str, product: str | None = None) -> domain.RatingSummary:
    """The summary of a business unit's own reviews, or of one product (cached)."""
    key = domain.summary_key(business_unit, product)
    cached = state.summaries.get(key)
    if cached is not None:
        return cached
    ticket = state.summaries.ticket()
    raw = _summaries().find_one({"_id": key})
    summary = docs.summary_from_raw(raw) if raw else domain.RatingSummary.empty(business_unit, product)
    return state.summaries.put(key, summary, ticket)


def all_summaries(business_unit: str | None = None) -> dict[str, domain.RatingSummary]:
    """Every stored summary (optionally of one business unit) by key, read from the store."""
    query = {} if business_unit is None else {"business_unit": business_unit}
    return {raw["_id"]: docs.summary_from_raw(raw) for raw in _summaries().find(query)}


def summary_units() -> set[str]:
    """The business units that have stored summaries (a rebuild also visits units since deleted)."""
    return set(_summaries().distinct("business_unit"))


def _summary_row(summary: domain.RatingSummary, now: datetime) -> dict[str, Any]:
    return {
        "_id": summary.key,
        "business_unit": summary.business_unit,
        "product": summary.product,
        **{f"h{r}": summary.histogram.get(r, 0) for r in domain.RATINGS},
        **({"last_review_at": summary.last_review_at} if summary.last_review_at else {}),
        "updated_at": now,
    }


def replace_summaries(
    state: ServiceState,
    fresh: Iterable[domain.RatingSummary],
    obsolete: Iterable[domain.RatingSummary],
    as_read: Mapping[str, domain.RatingSummary],
    now: datetime,
) -> set[str]:
    """Write recomputed summaries one by one and delete obsolete ones, each only if still as read.

    Each summary is replaced in place (never deleted first), so readers always find the old or the new
    one. A summary another process moved since it was read is left alone and its key returned: nothing
    is lost, and the next rebuild looks at it again.
    """
    fresh, obsolete = list(fresh), list(obsolete)
    ops: list[Any] = []
    for summary in fresh:
        before = as_read.get(summary.key)
        row = _summary_row(summary, now)
        ops.append(InsertOne(row) if before is None else ReplaceOne(_as_read(before), row))
    ops += [DeleteOne(_as_read(summary)) for summary in obsolete]
    keys = [s.key for s in fresh] + [s.key for s in obsolete]
    if not ops:
        return set()
    try:
        result = _summaries().bulk_write(ops, ordered=False)
        done = result.inserted_count + result.matched_count + result.deleted_count
    except BulkWriteError as exc:  # created meanwhile by an ingest elsewhere: that one stays as it is
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise
        done = -1
    for key in keys:
        state.summaries.pop(key)
    if done == len(ops):
        return set()
    # Some write found its summary changed by another writer: name those (their current state stays).
    stored = {raw["_id"]: docs.summary_from_raw(raw) for raw in _summaries().find({"_id": {"$in": keys}})}
    skipped = {s.key for s in fresh if s.key not in stored or stored[s.key].histogram != s.histogram}
    return skipped | {s.key for s in obsolete if s.key in stored}


def _as_read(summary: domain.RatingSummary) -> dict[str, Any]:
    """A filter matching the summary only while its histogram is still the one read."""
    # `$inc` upserts leave counts that were never incremented absent: a 0 read matches 0 or absent.
    counts = {f"h{r}": summary.histogram.get(r, 0) for r in domain.RATINGS}
    return {"_id": summary.key, **{k: n if n else {"$in": [0, None]} for k, n in counts.items()}}


# --- admin tokens -------------------------------------------------------------------------------


def save_token(token: domain.AdminToken) -> None:
    """Store a minted token (its digest only)."""
    docs.AdminTokenDoc(
        id=token.id,
        name=token.name,
        digest=token.digest,
        business_unit=token.business_unit,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    ).save(force_insert=True)


def token_by_digest(digest: str) -> domain.AdminToken | None:
    """The minted token with this SHA-256 digest, if any."""
    doc = docs.AdminTokenDoc.objects(digest=digest).first()
    return None if doc is None else doc.to_domain()


def list_tokens() -> list[domain.AdminToken]:
    """Every minted token, oldest first."""
    return [d.to_domain() for d in docs.AdminTokenDoc.objects.order_by("created_at")]


def revoke_token(token_id: str, now: datetime) -> domain.AdminToken:
    """Mark a token revoked; it stops working at once."""
    doc = docs.AdminTokenDoc.objects(id=token_id).first()
    if doc is None:
        raise NotFound(f"No admin token with id '{token_id}'.")
    if doc.revoked_at is None:
        doc.revoked_at = now
        doc.save()
    token: domain.AdminToken = doc.to_domain()
    return token


def stale_analyses(business_unit: str | None, current: Iterable[str], limit: int) -> list[domain.Review]:
    """Up to `limit` reviews whose analysis no `current` version wrote (index: (business_unit,) sentiment_version).

    No sort and no cursor: `reviews rescore` rewrites each batch to a current version, so the next call's
    answer is the next batch.
    """
    query: dict[str, Any] = {"sentiment_version": {"$nin": list(current)}}
    if business_unit is not None:
        query["business_unit"] = business_unit
    return [docs.review_from_raw(raw) for raw in _reviews().find(query).limit(limit)]


def count_stale_analyses(business_unit: str | None, current: Iterable[str]) -> int:
    """How many reviews stale_analyses has left to give."""
    query: dict[str, Any] = {"sentiment_version": {"$nin": list(current)}}
    if business_unit is not None:
        query["business_unit"] = business_unit
    return int(_reviews().count_documents(query))


def reviews_after(business_unit: str | None, after: str | None, limit: int) -> list[domain.Review]:
    """The next `limit` reviews in `_id` order after `after` (index: (business_unit, _id), or `_id` itself)."""
    query: dict[str, Any] = {} if after is None else {"_id": {"$gt": after}}
    if business_unit is not None:
        query["business_unit"] = business_unit
    return [docs.review_from_raw(raw) for raw in _reviews().find(query).sort("_id", 1).limit(limit)]


def count_reviews(business_unit: str | None) -> int:
    """How many reviews there are (of one unit, or all)."""
    return int(_reviews().count_documents({} if business_unit is None else {"business_unit": business_unit}))


def save_analyses(reviews: Iterable[domain.Review]) -> int:
    """Write the analysis fields of `reviews` (nothing else: a concurrent edit of the text is not undone)."""
    updates = [
        UpdateOne(
            {"_id": r.id},
            {
                "$set": {
                    "sentiment": r.sentiment,
                    "sentiment_label": r.sentiment_label,
                    "sentiment_version": r.sentiment_version,
                    "aspects": list(r.aspects),
                }
            },
        )
        for r in reviews
    ]
    if not updates:
        return 0
    return int(_reviews().bulk_write(updates, ordered=False).modified_count)


def insert_missing(collection: Any, raws: list[dict[str, Any]]) -> set[str]:
    """Insert the documents whose `_id` is not stored yet (one unordered bulk write; a duplicate key is skipped,
    any other error raised); returns the ids this call stored."""
    if not raws:
        return set()
    skipped: set[str] = set()
    try:
        collection.bulk_write([InsertOne(raw) for raw in raws], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        skipped = {raws[e["index"]]["_id"] for e in errors}
    return {raw["_id"] for raw in raws} - skipped


# --- the product reviews feed -----------------------------------------------------------------------

# What the feed never reads: a buyer's address and order reference stay in the store (and out of the process).
_NOT_PUBLIC = {"email": 0, "order_ref": 0}
FEED_BATCH_CHARS = 1_000_000  # of text and titles a feed batch holds at most (and one review more)
FEED_READ_AHEAD = 100  # reviews the driver fetches at a time: a batch cut short by its size leaves few unread
FEED_ORDER = [("_id", 1)]  # the one key no write changes: a review is listed once however it is edited


def product_review_batches(
    business_unit: str, batch_size: int = 500, batch_chars: int = FEED_BATCH_CHARS
) -> Iterator[tuple[list[domain.Review], dict[str, domain.Product]]]:
    """Every published review of a unit that is about a product and has text, in `_id` order, a batch at a time
    with the batch's products by sku: at most `batch_size` reviews, and no more once their text and titles pass
    `batch_chars` characters (500 reviews of 20,000 would be 10 MB of text).

    Keyset pagination on `_id` along the (business_unit, status, _id) index: each find reads one batch, so memory
    stays flat however many reviews the unit has. `_id` is the one key no write changes (a re-import may correct
    a review's created_at), so each review is listed exactly once: one edited while the feed streams appears with
    either version, one inserted meanwhile may or may not appear (the next fetch lists it), and none is repeated,
    which would make the whole feed invalid (the schema's uniqueReview). The shop's own reviews (no product) and
    text-less ones are read and skipped: "not null" and "not empty" are not equality filters, so they stay out of
    the query. The products come from one `$in` per batch, past the product cache: a feed touching every product
    of a big catalogue would otherwise fill it.
    """
    after: str | None = None
    limit = batch_size
    while True:
        query: dict[str, Any] = {"business_unit": business_unit, "status": "published"}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = _reviews().find(query, _NOT_PUBLIC).sort(FEED_ORDER).limit(limit).batch_size(FEED_READ_AHEAD)
        raws: list[dict[str, Any]] = []
        size = 0
        for raw in cursor:
            raws.append(raw)
            size += len(raw.get("text") or "") + len(raw.get("title") or "")
            if size >= batch_chars:  # long reviews: a shorter batch, the rest from the next find
                break
        cursor.close()
        batch = [docs.review_from_raw(raw) for raw in raws if raw.get("product") and (raw.get("text") or "").strip()]
        if batch:
            yield batch, _read_products(business_unit, [r.product for r in batch if r.product])
        if len(raws) < limit and size < batch_chars:
            return
        after = raws[-1]["_id"]
        # A batch its size cut short tells how many such reviews fit: ask about that many next (a store answers
        # a limit whole, the embedded one in memory), and twice as many again after a batch that fitted.
        limit = min(batch_size, len(raws) + len(raws) // 4 + 1 if size >= batch_chars else 2 * limit)


# --- review policy ------------------------------------------------------------------------------


def review_counts(business_unit: str) -> review_policy.ReviewCounts:
    """What a unit's review policy states, counted from the store: its published reviews per source (and how many
    verified) and per collection method, those hidden or removed now (or held back as pending by a moderator) per
    kind of reason, and its invitations answered per channel.

    One pass over the unit's reviews reading five small fields (the (business_unit, _id) index's prefix), and a
    count per channel on the invitations' (business_unit, ...) index; callers cache it (api/policy.py).
    """
    sources: dict[str, list[int]] = {}
    methods: dict[str, int] = {}
    withdrawn: dict[str, int] = {}
    fields = {"_id": 0, "source": 1, "verified": 1, "collection_method": 1, "status": 1, "moderated": 1}
    fields["moderation"] = 1
    for raw in _reviews().find({"business_unit": business_unit}, fields).batch_size(5000):
        status = raw.get("status") or "published"
        if status == "published":
            counted = sources.setdefault(str(raw.get("source")), [0, 0])
            counted[0] += 1
            counted[1] += bool(raw.get("verified"))
            method = raw.get("collection_method") or "unknown"
            methods[method] = methods.get(method, 0) + 1
        elif status in domain.WITHDRAWN or (status == "pending" and raw.get("moderated")):  # a moderator's hold too
            why = _withdrawn_because(raw, status)
            withdrawn[why] = withdrawn.get(why, 0) + 1
    invitations = docs.InvitationDoc._get_collection()
    answered: dict[str, int] = {}
    for channel in domain.CHANNELS:
        query = {"business_unit": business_unit, "channel": channel, "reviewed_at": {"$ne": None}}
        answered[channel] = int(invitations.count_documents(query))
    return review_policy.ReviewCounts(
        sources={name: review_policy.SourceCount(n, v) for name, (n, v) in sources.items()},
        methods=methods,
        withdrawn=withdrawn,
        invitations=answered,
    )


def _withdrawn_because(raw: dict[str, Any], status: str) -> str:
    """The kind of reason a withdrawn or moderator-held review is not shown for (its category, never its text)."""
    if not raw.get("moderated"):
        return review_policy.AT_SOURCE  # the platform or the file said so
    decision = docs.moderation_from_raw(raw.get("moderation"))
    if decision is None or decision.status != status:
        return review_policy.NOT_RECORDED
    return decision.category or "other"

"""mongoengine Documents and their mapping to and from the domain types.

Keys are natural (`_id` = slug, `bu/sku`, `bu:source:external_id`), so the embedded store never
needs a unique secondary index (mongomock enforces those by scanning the whole collection).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

import mongoengine as me

from reviews_service import domain as model


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (the embedded store and pymongo hand back naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class BusinessUnitDoc(me.Document):
    meta = {"collection": "business_units", "auto_create_index": False}
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True)
    domain = me.StringField(default="")
    locales = me.ListField(me.StringField())
    timezone = me.StringField(default="UTC")
    display_scale = me.IntField(default=5, choices=(5, 10))
    sources = me.DictField()
    reviews_url = me.StringField(default="")
    taxonomy = me.DictField()  # the unit's override of the default complaint taxonomy
    invitations = me.DictField()  # its InvitationPolicy (delay_days, reminder_days, expiry_days); {}: defaults
    changed_at = me.DateTimeField(null=True)  # last change to its reviews, catalogue or settings

    def to_domain(self) -> model.BusinessUnit:
        return model.BusinessUnit(
            slug=self.id,
            name=self.name,
            domain=self.domain or "",
            locales=tuple(self.locales or ("en",)),
            timezone=self.timezone or "UTC",
            display_scale=self.display_scale,
            sources=dict(self.sources or {}),
            reviews_url=self.reviews_url or "",
            taxonomy=dict(self.taxonomy or {}),
            invitations=invitation_policy(self.invitations),
        )


def invitation_policy(raw: dict[str, Any] | None) -> model.InvitationPolicy:
    """A stored invitation policy (a unit made before policies existed has none: the defaults)."""
    default = model.InvitationPolicy()
    raw = raw or {}
    return model.InvitationPolicy(
        delay_days=float(raw.get("delay_days", default.delay_days)),
        reminder_days=float(raw.get("reminder_days", default.reminder_days)),
        expiry_days=int(raw.get("expiry_days", default.expiry_days)),
    )


class ProductDoc(me.Document):
    meta = {
        "collection": "products",
        "auto_create_index": False,
        "indexes": [{"fields": ["business_unit", "sku"]}],
    }
    id = me.StringField(primary_key=True)  # "{bu}/{sku}"
    business_unit = me.StringField(required=True)
    sku = me.StringField(required=True)
    name = me.StringField(required=True)
    url = me.StringField(default="")
    image = me.StringField(default="")
    gtin = me.StringField(default="")
    mpn = me.StringField(default="")
    brand = me.StringField(default="")
    price = me.StringField(default="")
    currency = me.StringField(default="EUR")
    availability = me.StringField(default="")


class ReviewDoc(me.Document):
    meta = {
        "collection": "reviews",
        "auto_create_index": False,
        "indexes": [
            # The public list, newest first in keyset order: an equality on every filter it has, then the
            # sort, so a page reads only the entries it returns. `product` comes first where it is filtered
            # (a sku, or null for the shop's own reviews); `*` lists every product. Also the latest
            # reviews of a product (JSON-LD export) and its newest published one (summaries).
            {"fields": ["business_unit", "status", "-created_at", "-_id"]},
            {"fields": ["business_unit", "product", "status", "-created_at", "-_id"]},
            {"fields": ["business_unit", "product", "status", "rating", "-created_at", "-_id"]},
            {"fields": ["business_unit", "product", "status", "language", "-created_at", "-_id"]},
            {"fields": ["business_unit", "status", "rating", "-created_at", "-_id"]},
            {"fields": ["business_unit", "status", "language", "-created_at", "-_id"]},
            {"fields": ["email"], "sparse": True},
            # Retention (reviews_service.privacy): the reviews that still carry an order reference (`$gt: ""`).
            {"fields": ["order_ref"], "sparse": True},
            # A collector's full resync: every review it once stored for a unit (source_store.source_reviews).
            {"fields": ["business_unit", "source", "external_id"]},
            # `reviews rescore`: the reviews an older analyser wrote (of a unit, or of all), and every review
            # of a unit in _id order (--all, keyset batches).
            {"fields": ["business_unit", "sentiment_version"]},
            {"fields": ["sentiment_version"]},
            {"fields": ["business_unit", "_id"]},
            # Google's product reviews feed: a unit's published reviews in keyset batches on `_id`, the one key
            # no edit moves (repository.product_review_batches).
            {"fields": ["business_unit", "status", "_id"]},
        ],
    }
    id = me.StringField(primary_key=True)
    business_unit = me.StringField(required=True)
    source = me.StringField(required=True)
    external_id = me.StringField(required=True)
    product = me.StringField(null=True)
    rating = me.IntField(required=True, min_value=1, max_value=5)
    title = me.StringField(default="")
    text = me.StringField(default="")
    language = me.StringField(null=True)
    author = me.StringField(default="")
    verified = me.BooleanField(default=False)
    email = me.StringField(null=True)
    order_ref = me.StringField(null=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    status = me.StringField(default="published", choices=model.STATUSES)
    moderated = me.BooleanField(default=False)
    reply = me.StringField(null=True)
    replied_at = me.DateTimeField(null=True)
    sentiment = me.FloatField(null=True)
    sentiment_label = me.StringField(null=True)
    sentiment_version = me.StringField(null=True)
    aspects = me.ListField(me.StringField())
    flags = me.ListField(me.StringField())
    fingerprint = me.StringField(default="")
    source_rating = me.FloatField(null=True)  # the platform's score on its own scale (Kiyoh 1-10)
    source_scale = me.IntField(null=True)
    collection_method = me.StringField(null=True)
    photos = me.ListField(me.StringField())
    moderation = me.DictField(null=True)  # a moderator's last decision: status, reason, category, by, at (admin)


class SummaryDoc(me.Document):
    meta = {
        "collection": "summaries",
        "auto_create_index": False,
        "indexes": [{"fields": ["business_unit"]}],
    }
    id = me.StringField(primary_key=True)  # "{bu}" or "{bu}/{sku}"
    business_unit = me.StringField(required=True)
    product = me.StringField(null=True)
    h1 = me.IntField(default=0)
    h2 = me.IntField(default=0)
    h3 = me.IntField(default=0)
    h4 = me.IntField(default=0)
    h5 = me.IntField(default=0)
    last_review_at = me.DateTimeField(null=True)
    updated_at = me.DateTimeField(null=True)


class AdminTokenDoc(me.Document):
    meta = {"collection": "admin_tokens", "auto_create_index": False, "indexes": ["digest"]}
    id = me.StringField(primary_key=True)  # short public id
    name = me.StringField(required=True)
    digest = me.StringField(required=True)  # sha256 hex of the token
    business_unit = me.StringField(null=True)
    created_at = me.DateTimeField(required=True)
    revoked_at = me.DateTimeField(null=True)

    def to_domain(self) -> model.AdminToken:
        created = as_utc(self.created_at)
        assert created is not None
        return model.AdminToken(
            id=self.id,
            name=self.name,
            digest=self.digest,
            business_unit=self.business_unit,
            created_at=created,
            revoked_at=as_utc(self.revoked_at),
        )


class ChangeDoc(me.Document):
    """One per business unit: bumped by every write to it, so other processes' caches can tell (poller.py)."""

    meta = {"collection": "changes", "auto_create_index": False, "indexes": ["at"]}
    id = me.StringField(primary_key=True)  # the business unit's slug
    version = me.IntField(default=0)
    at = me.DateTimeField()  # the store's clock at the last bump ($currentDate): pollers read "changed since"


class SourceStateDoc(me.Document):
    """One per (business unit, source): where its sync got to and how its last runs went (collectors.base)."""

    meta = {"collection": "sources", "auto_create_index": False, "indexes": [{"fields": ["business_unit"]}]}
    id = me.StringField(primary_key=True)  # "{bu}/{source}"
    business_unit = me.StringField(required=True)
    source = me.StringField(required=True)
    checkpoint = me.DictField(default=dict)  # the collector's own resume point (JSON values)
    last_run_at = me.DateTimeField(null=True)
    last_outcome = me.StringField(null=True)  # "ok" or "failed"
    last_error = me.StringField(null=True)
    last_report = me.DictField(default=dict)
    failures = me.IntField(default=0)  # consecutive failed runs (the scheduler backs off on them)
    next_run_at = me.DateTimeField(null=True)


class LeaseDoc(me.Document):
    """A job's lease: the process that holds it until `expires` runs the job; another takes over after that."""

    meta = {"collection": "leases", "auto_create_index": False}
    id = me.StringField(primary_key=True)  # the job's key, e.g. "collect/flinders-nl/trustpilot"
    owner = me.StringField(required=True)
    expires = me.DateTimeField(required=True)


class RatingBucketDoc(me.Document):
    """Published ratings counted per quarter of an hour (UTC), for the digest's trend (rating_buckets)."""

    meta = {"collection": "rating_buckets", "auto_create_index": False, "indexes": [{"fields": ["business_unit"]}]}
    id = me.StringField(primary_key=True)  # "{bu}@2026-11-19T23:45", or "{bu}@complete" once counted in full
    business_unit = me.StringField(required=True)
    start = me.DateTimeField(null=True)
    h1 = me.IntField(default=0)
    h2 = me.IntField(default=0)
    h3 = me.IntField(default=0)
    h4 = me.IntField(default=0)
    h5 = me.IntField(default=0)


class DigestDoc(me.Document):
    """One per (business unit, day): claimed before its e-mail goes out, so each day's is sent once (digest_store)."""

    meta = {"collection": "digests", "auto_create_index": False}
    id = me.StringField(primary_key=True)  # "{bu}:{YYYY-MM-DD}", the unit's own calendar day
    business_unit = me.StringField(required=True)
    day = me.StringField(required=True)
    status = me.StringField(choices=("sending", "sent", "failed"))
    owner = me.StringField(null=True)  # who is sending it (a lease owner id)
    claimed_until = me.DateTimeField(null=True)  # a sender that died mid-send: another may take it after this
    retry_at = me.DateTimeField(null=True)  # a failed send is tried again from then on
    attempts = me.IntField(default=0)
    sends = me.IntField(default=0)  # messages handed to the SMTP server (re-sends on request count too)
    sent_at = me.DateTimeField(null=True)
    last_error = me.StringField(null=True)


class FlagDoc(me.Document):
    """Something for a moderator to look at (reviews_service.flag_store), and the state of its alert."""

    meta = {
        "collection": "flags",
        "auto_create_index": False,
        "indexes": [
            # A unit's list, newest first in keyset order: by status, optionally by kind; and the last flag of a
            # kind, which keeps the periodic flags from repeating.
            {"fields": ["business_unit", "status", "-created_at", "-_id"]},
            {"fields": ["business_unit", "status", "kind", "-created_at", "-_id"]},
            {"fields": ["business_unit", "kind", "-created_at", "-_id"]},
            # The alerts to send: only a flag with an alert due (or a claim that ran out) has the field.
            {"fields": ["alert_due"], "sparse": True},
            # the flags about given reviews (an erasure, an export: reviews_service.privacy_store)
            {"fields": ["review_id"]},
        ],
    }
    id = me.StringField(primary_key=True)  # natural: "{bu}:one-star:{review id}", "{bu}:score-drop:{date}", ...
    business_unit = me.StringField(required=True)
    kind = me.StringField(required=True, choices=model.FLAG_KINDS)
    review_id = me.StringField(null=True)
    product = me.StringField(null=True)
    details = me.DictField()
    status = me.StringField(default="open", choices=("open", "resolved"))
    note = me.StringField(null=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(null=True)
    resolved_at = me.DateTimeField(null=True)
    resolved_by = me.StringField(null=True)
    alert = me.StringField(default="none")  # none, pending, sent, failed, skipped
    alert_due = me.DateTimeField()  # when a sender may take it next (a claim moves it to the claim's expiry)
    alert_claim = me.StringField(null=True)  # the claim of the sender that holds it
    alert_attempts = me.IntField(default=0)
    alert_error = me.StringField(null=True)
    alert_sent_at = me.DateTimeField(null=True)
    alert_done = me.ListField(me.StringField())  # channels that have it already ("webhook", "email")


class InvitationDoc(me.Document):
    """One order's invitation: the one collection that holds a buyer's e-mail address, name and order reference
    (so erasure and export look here, and nowhere else, for them)."""

    meta = {
        "collection": "invitations",
        "auto_create_index": False,
        "indexes": [
            # the admin list, newest first, of a unit (and of one state's invitations through its times)
            {"fields": ["business_unit", "-created_at", "-_id"]},
            # the same list across every unit (an unscoped admin token asking for no unit)
            {"fields": ["-created_at", "-_id"]},
            # the mailer's two queues: first mails and reminders that are due
            {"fields": ["send_at"], "sparse": True},
            {"fields": ["reminder_at"], "sparse": True},
            {"fields": ["email"], "sparse": True},
        ],
    }
    id = me.StringField(primary_key=True)
    business_unit = me.StringField(required=True)
    order_ref = me.StringField(required=True)
    email = me.StringField(null=True)
    name = me.StringField(default="")
    locale = me.StringField(required=True)
    products = me.ListField(me.StringField())
    channel = me.StringField(required=True, choices=model.CHANNELS)
    created_at = me.DateTimeField(required=True)
    expires_at = me.DateTimeField(required=True)
    send_at = me.DateTimeField(null=True)
    sent_at = me.DateTimeField(null=True)
    reminder_at = me.DateTimeField(null=True)
    reminded_at = me.DateTimeField(null=True)
    opened_at = me.DateTimeField(null=True)
    reviewed_at = me.DateTimeField(null=True)
    submissions = me.IntField(default=0)
    opted_out_at = me.DateTimeField(null=True)
    mail_attempts = me.IntField(default=0)
    mail_error = me.StringField(null=True)
    claim = me.StringField(null=True)  # the mailer holding it: its `send_at`/`reminder_at` moved to the claim's end
    submitting_until = me.DateTimeField(null=True)  # a submission of its form being stored (one at a time)
    erased_at = me.DateTimeField(null=True)  # its buyer's personal data erased (kept: the order is not invited again)


class SuppressionDoc(me.Document):
    """An address that must never be mailed again (opted out, or erased), kept as a keyed hash, never as itself."""

    meta = {"collection": "suppressions", "auto_create_index": False}
    id = me.StringField(primary_key=True)  # HMAC-SHA256(REVIEWS_SECRET_KEY, normalised address), hex
    reason = me.StringField(required=True, choices=("opted_out", "erased"))
    at = me.DateTimeField(required=True)


class ErasureDoc(me.Document):
    """A review whose reviewer's personal data was erased (GDPR Art. 17): a later import or collection of the same
    review stores it anonymised (reviews_service.privacy). The address itself is a SuppressionDoc "erased"."""

    meta = {"collection": "erasures", "auto_create_index": False}
    id = me.StringField(primary_key=True)  # the review's id, "{bu}:{source}:{external_id}"
    at = me.DateTimeField(required=True)


class PhotoDoc(me.Document):
    """A buyer's photo, re-encoded (no EXIF, no GPS), in one document: under 1 MB, far below MongoDB's 16 MB, where
    MongoDB's own advice is a document, not GridFS."""

    meta = {
        "collection": "photos",
        "auto_create_index": False,
        "indexes": [
            {"fields": ["review_id"]},
            # the moderators' list of a unit's photos, newest first in keyset order: of one status, or all
            {"fields": ["business_unit", "status", "-created_at", "-_id"]},
            {"fields": ["business_unit", "-created_at", "-_id"]},
        ],
    }
    id = me.StringField(primary_key=True)  # random; the public URL's name
    business_unit = me.StringField(required=True)
    review_id = me.StringField(required=True)
    content_type = me.StringField(required=True)
    data = me.BinaryField(required=True)
    width = me.IntField(required=True)
    height = me.IntField(required=True)
    etag = me.StringField()  # of `data`, computed once when stored
    thumbnail = me.BinaryField()  # reviews_service.photos.THUMB_SIDE a side: what widgets load
    thumb_width = me.IntField()
    thumb_height = me.IntField()
    thumb_etag = me.StringField()
    status = me.StringField(default="published", choices=("published", "hidden"))
    reason = me.StringField()  # the moderator's, when hidden (admin only)
    moderated_at = me.DateTimeField()
    moderated_by = me.StringField()
    created_at = me.DateTimeField(required=True)


ALL_DOCUMENTS: tuple[type[me.Document], ...] = (
    BusinessUnitDoc,
    ProductDoc,
    ReviewDoc,
    SummaryDoc,
    AdminTokenDoc,
    ChangeDoc,
    SourceStateDoc,
    LeaseDoc,
    DigestDoc,
    RatingBucketDoc,
    FlagDoc,
    InvitationDoc,
    SuppressionDoc,
    PhotoDoc,
    ErasureDoc,
)


def ensure_indexes() -> None:
    """Create the declared indexes (a no-op for those that exist)."""
    for doc in ALL_DOCUMENTS:
        doc.ensure_indexes()


# Raw-dict mapping for the batched paths, which bypass Document construction for speed.

REVIEW_FIELDS = (
    "business_unit", "source", "external_id", "product", "rating", "title", "text", "language", "author",
    "verified", "email", "order_ref", "created_at", "updated_at", "status", "moderated", "reply",
    "replied_at", "sentiment", "sentiment_label", "sentiment_version", "fingerprint", "source_rating", "source_scale",
    "collection_method",
)  # fmt: skip


def review_to_raw(review: model.Review) -> dict[str, Any]:
    """A domain Review as the stored document."""
    raw: dict[str, Any] = {"_id": review.id}
    for name in REVIEW_FIELDS:
        raw[name] = getattr(review, name)
    raw["flags"] = list(review.flags)
    raw["aspects"] = list(review.aspects)
    raw["photos"] = list(review.photos)
    raw["moderation"] = moderation_to_raw(review.moderation)
    return raw


def moderation_to_raw(moderation: model.Moderation | None) -> dict[str, Any] | None:
    """A moderator's decision as the review document keeps it."""
    if moderation is None:
        return None
    return {
        "status": moderation.status,
        "reason": moderation.reason,
        "category": moderation.category,
        "by": moderation.by,
        "at": moderation.at,
    }


def moderation_from_raw(raw: dict[str, Any] | None) -> model.Moderation | None:
    """A stored decision (None where the review has none, as every review stored before decisions were kept)."""
    if not raw or raw.get("status") not in model.STATUSES:
        return None
    at = as_utc(raw.get("at"))
    assert at is not None
    category = raw.get("category")
    return model.Moderation(
        status=raw["status"],
        by=raw.get("by") or "",
        at=at,
        reason=raw.get("reason"),
        category=category if category in model.MODERATION_CATEGORIES else None,
    )


def review_from_raw(raw: dict[str, Any]) -> model.Review:
    """A stored review document as a domain Review."""
    created = as_utc(raw["created_at"])
    updated = as_utc(raw.get("updated_at")) or created
    assert created is not None and updated is not None
    return model.Review(
        id=raw["_id"],
        business_unit=raw["business_unit"],
        source=raw["source"],
        external_id=raw["external_id"],
        rating=int(raw["rating"]),
        title=raw.get("title") or "",
        text=raw.get("text") or "",
        created_at=created,
        updated_at=updated,
        product=raw.get("product"),
        language=raw.get("language"),
        author=raw.get("author") or "",
        verified=bool(raw.get("verified")),
        email=raw.get("email"),
        order_ref=raw.get("order_ref"),
        status=raw.get("status") or "published",
        moderated=bool(raw.get("moderated")),
        reply=raw.get("reply"),
        replied_at=as_utc(raw.get("replied_at")),
        sentiment=raw.get("sentiment"),
        sentiment_label=raw.get("sentiment_label"),
        sentiment_version=raw.get("sentiment_version"),
        aspects=tuple(raw.get("aspects") or ()),
        flags=tuple(raw.get("flags") or ()),
        fingerprint=raw.get("fingerprint") or "",
        source_rating=raw.get("source_rating"),
        source_scale=raw.get("source_scale"),
        collection_method=raw.get("collection_method"),
        photos=tuple(raw.get("photos") or ()),
        moderation=moderation_from_raw(raw.get("moderation")),
    )


PRODUCT_FIELDS = ("sku", "name", "url", "image", "gtin", "mpn", "brand", "price", "currency", "availability")


def product_id(business_unit: str, sku: str) -> str:
    return f"{business_unit}/{sku}"


def product_to_raw(product: model.Product) -> dict[str, Any]:
    """A domain Product as the stored document."""
    raw: dict[str, Any] = {
        "_id": product_id(product.business_unit, product.sku),
        "business_unit": product.business_unit,
    }
    raw.update({name: getattr(product, name) for name in PRODUCT_FIELDS})
    return raw


def product_from_raw(raw: dict[str, Any]) -> model.Product:
    """A stored product document as a domain Product."""
    fields = {f: raw.get(f) or "" for f in PRODUCT_FIELDS}
    fields["currency"] = fields["currency"] or "EUR"  # stored before products had prices
    return model.Product(business_unit=raw["business_unit"], **fields)


def summary_from_raw(raw: dict[str, Any]) -> model.RatingSummary:
    """A stored summary document as a domain RatingSummary."""
    return model.RatingSummary(
        key=raw["_id"],
        business_unit=raw["business_unit"],
        product=raw.get("product"),
        histogram={r: int(raw.get(f"h{r}", 0)) for r in model.RATINGS},
        last_review_at=as_utc(raw.get("last_review_at")),
        updated_at=as_utc(raw.get("updated_at")),
    )

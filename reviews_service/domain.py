"""Plain domain types shared by every package: no I/O, no storage, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["published", "pending", "hidden", "removed"]
STATUSES: tuple[Status, ...] = ("published", "pending", "hidden", "removed")
RATINGS = (1, 2, 3, 4, 5)
# What a moderator may hide or remove a review for (the review-policy page lists them; a rating is never one).
ModerationCategory = Literal[
    "spam", "offensive", "personal_data", "not_genuine", "off_topic", "duplicate", "legal", "other"
]
MODERATION_CATEGORIES: tuple[ModerationCategory, ...] = (
    "spam", "offensive", "personal_data", "not_genuine", "off_topic", "duplicate", "legal", "other"
)  # fmt: skip
WITHDRAWN: tuple[Status, ...] = ("hidden", "removed")  # off the public side, whoever decided it
# the statuses a moderator must give a reason for: each keeps the review off the public side (a moderator's
# "pending" too: it holds a published review back, and survives the source's re-ingest like a hide)
WITHHELD: tuple[Status, ...] = ("pending", "hidden", "removed")
MAX_IGNORED = 50  # distinct unknown field names an ingest report lists (a hostile batch can carry thousands)


@dataclass(frozen=True)
class InvitationPolicy:
    """When a unit's buyers are asked: the first mail `delay_days` after the order, one reminder
    `reminder_days` after that if nothing was reviewed (0: none), the link valid `expiry_days` from the order."""

    delay_days: float = 3.0
    reminder_days: float = 7.0
    expiry_days: int = 45


@dataclass(frozen=True)
class BusinessUnit:
    """One storefront (e.g. flinders-nl): what its reviews belong to."""

    slug: str
    name: str
    domain: str = ""
    locales: tuple[str, ...] = ("en",)
    timezone: str = "UTC"
    display_scale: int = 5
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews_url: str = ""  # where widgets link to ("Read our reviews"); default https://{domain}/reviews
    taxonomy: dict[str, Any] = field(default_factory=dict)  # its complaint taxonomy override (sentiment/taxonomy.py)
    invitations: InvitationPolicy = field(default_factory=InvitationPolicy)

    @property
    def reviews_link(self) -> str:
        """The page the widgets link to."""
        if self.reviews_url:
            return self.reviews_url
        return f"https://{self.domain}/reviews" if self.domain else ""


@dataclass(frozen=True)
class Product:
    """A catalogue item reviews can be about."""

    business_unit: str
    sku: str
    name: str
    url: str = ""
    image: str = ""
    gtin: str = ""
    mpn: str = ""  # the manufacturer's part number (Google's product reviews feed matches on it with the brand)
    brand: str = ""
    price: str = ""  # a decimal with 2 places ("249.00"), kept as text so no float rounds it; "" = unknown
    currency: str = "EUR"  # ISO 4217 code of `price`
    availability: str = ""  # a schema.org ItemAvailability name ("InStock", ...); "" = not stated


@dataclass(frozen=True)
class Moderation:
    """A moderator's last decision on a review's status: what, why, who (the token's name) and when; admin only."""

    status: Status
    by: str
    at: datetime
    reason: str | None = None  # required for "pending", "hidden" and "removed" (the API refuses one without it)
    category: ModerationCategory | None = None  # the reason's kind, counted (never quoted) on the policy page


@dataclass(frozen=True)
class Review:
    """One review as stored; `email` and `order_ref` never leave the admin side."""

    id: str
    business_unit: str
    source: str
    external_id: str
    rating: int
    title: str
    text: str
    created_at: datetime
    updated_at: datetime
    product: str | None = None
    language: str | None = None
    author: str = ""
    verified: bool = False
    email: str | None = None
    order_ref: str | None = None
    status: Status = "published"
    moderated: bool = False
    reply: str | None = None
    replied_at: datetime | None = None
    sentiment: float | None = None  # the analyser's polarity (-1..1); None where the label came from the rating
    sentiment_label: str | None = None
    sentiment_version: str | None = None  # the analyser's version that wrote the two above (None: not analysed)
    aspects: tuple[str, ...] = ()  # complaint aspects found in the title and text (sentiment/taxonomy.py)
    flags: tuple[str, ...] = ()
    fingerprint: str = ""
    source_rating: float | None = None  # the platform's own score when its scale is not 1-5 (Kiyoh's 1-10)
    source_scale: int | None = None  # that score's best value (10); `rating` is its 1-5 star mapping
    # How the source came by it, in Google's product reviews feed's words ("post_fulfillment": asked after an order,
    # "unsolicited", "campaign_driven"); None where the source does not say.
    collection_method: str | None = None
    photos: tuple[str, ...] = ()  # ids of the buyer's photos (reviews_service.photos), shown while both are published
    moderation: Moderation | None = None  # the moderator's last status decision (None: none since it came in)

    @property
    def summary_keys(self) -> tuple[str, ...]:
        """Which summaries this review counts in while published."""
        if self.product is None:
            return (summary_key(self.business_unit, None),)
        return (summary_key(self.business_unit, self.product),)


def review_id(business_unit: str, source: str, external_id: str) -> str:
    """The natural key: one review per (business unit, source, external id)."""
    return f"{business_unit}:{source}:{external_id}"


def summary_key(business_unit: str, sku: str | None) -> str:
    """Key of a summary: the business unit's own, or one product's."""
    return business_unit if sku is None else f"{business_unit}/{sku}"


@dataclass(frozen=True)
class RatingSummary:
    """Count, 1-5 histogram, average and last review time of one business unit or product."""

    key: str
    business_unit: str
    product: str | None
    histogram: dict[int, int]
    last_review_at: datetime | None
    updated_at: datetime | None = None

    @property
    def count(self) -> int:
        return sum(self.histogram.values())

    @property
    def average(self) -> float | None:
        """Mean rating on 1-5, rounded to 2 decimals; None with no reviews."""
        n = self.count
        if n == 0:
            return None
        return round(sum(r * c for r, c in self.histogram.items()) / n, 2)

    def _display_tenths(self, scale: int) -> int | None:
        """The shown score in tenths on `scale`: the exact mean rounded once, half up (4.25 -> 4.3)."""
        n = self.count
        if n == 0:
            return None
        total = sum(r * c for r, c in self.histogram.items())
        # In integers, so nothing is rounded before this one rounding: tenths = 2 * total * scale / n, half up.
        return (4 * total * scale + n) // (2 * n)

    def display_value(self, scale: int) -> float | None:
        """The average on the business unit's display scale (5 -> 4.4, 10 -> 8.8), one decimal."""
        tenths = self._display_tenths(scale)
        return None if tenths is None else tenths / 10

    def stars(self, scale: int) -> float:
        """The star fill (0-5 in half stars) of the shown score: '2,7 / 5' fills 2.5, '5,5 / 10' fills 3."""
        tenths = self._display_tenths(scale)
        if tenths is None:
            return 0.0
        # shown/scale*5 stars, in half stars: tenths/10/scale*5*2 = tenths/scale, rounded half up in integers
        return (2 * tenths + scale) // (2 * scale) / 2

    @staticmethod
    def empty(business_unit: str, product: str | None) -> RatingSummary:
        return RatingSummary(
            key=summary_key(business_unit, product),
            business_unit=business_unit,
            product=product,
            histogram=dict.fromkeys(RATINGS, 0),
            last_review_at=None,
        )


@dataclass(frozen=True)
class Rejection:
    """A record the ingest refused, with a reason a person can act on."""

    index: int
    external_id: str | None
    reason: str


@dataclass
class IngestReport:
    """What one ingest did: counts, and every rejected record with its reason."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    ignored_fields: dict[str, int] = field(default_factory=dict)  # unknown field name -> records that had it
    status_kept: list[Rejection] = field(default_factory=list)  # stored, but a published review's status kept

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        self.status_kept.extend(other.status_kept)
        self.ids.extend(other.ids)
        for name, count in other.ignored_fields.items():
            self.ignore(name, count)

    def ignore(self, name: str, count: int = 1) -> None:
        """Count a field that records carried but ingest does not know (at most MAX_IGNORED names kept)."""
        shown = name if len(name) <= 100 else name[:99] + "…"
        if shown in self.ignored_fields or len(self.ignored_fields) < MAX_IGNORED:
            self.ignored_fields[shown] = self.ignored_fields.get(shown, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "rejections": [{"index": r.index, "external_id": r.external_id, "reason": r.reason} for r in self.rejected],
            "ignored_fields": dict(self.ignored_fields),
            "status_kept": [
                {"index": r.index, "external_id": r.external_id, "reason": r.reason} for r in self.status_kept
            ],
        }


@dataclass(frozen=True)
class AdminToken:
    """A minted admin token; only its SHA-256 is stored."""

    id: str
    name: str
    digest: str
    business_unit: str | None
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class SourceState:
    """Where one source's sync for one business unit got to, and how its last run went."""

    business_unit: str
    source: str
    checkpoint: dict[str, Any] = field(default_factory=dict)
    last_run_at: datetime | None = None
    last_outcome: str | None = None  # "ok" or "failed"
    last_error: str | None = None
    last_report: dict[str, Any] = field(default_factory=dict)
    failures: int = 0
    next_run_at: datetime | None = None


Channel = Literal["web", "store"]
CHANNELS: tuple[Channel, ...] = ("web", "store")
# An invitation's life: made, mailed (or printed), opened, answered; or past its expiry; or its buyer said no more.
InvitationState = Literal["created", "sent", "opened", "reviewed", "expired", "opted_out"]
INVITATION_STATES: tuple[InvitationState, ...] = ("created", "sent", "opened", "reviewed", "expired", "opted_out")


@dataclass(frozen=True)
class Invitation:
    """One order's request for reviews: the shop, and each product bought.

    The only place a buyer's e-mail address, name and order reference are kept (reviews made from it carry
    the display name only). `id` is random and says nothing about the order; the form's link signs it.
    """

    id: str
    business_unit: str
    order_ref: str
    email: str | None  # None: an in-store order with no address (the QR code on the receipt is the way in)
    name: str
    locale: str
    products: tuple[str, ...]
    channel: Channel
    created_at: datetime  # when the order was placed (the delay and the expiry count from it)
    expires_at: datetime
    send_at: datetime | None = None  # when the first mail is due; None: no mail (no address, or send=false)
    sent_at: datetime | None = None
    reminder_at: datetime | None = None  # when the one reminder is due (None: none, or already sent)
    reminded_at: datetime | None = None
    opened_at: datetime | None = None
    reviewed_at: datetime | None = None  # the first submission
    submissions: int = 0
    opted_out_at: datetime | None = None
    mail_attempts: int = 0
    mail_error: str | None = None

    def state(self, now: datetime) -> InvitationState:
        """Where it stands for a reader at `now` (a review wins over an expiry; an opt-out over everything)."""
        if self.opted_out_at is not None:
            return "opted_out"
        if self.reviewed_at is not None:
            return "reviewed"
        if now >= self.expires_at:
            return "expired"
        if self.opened_at is not None:
            return "opened"
        if self.sent_at is not None:
            return "sent"
        return "created"


FlagKind = Literal["one-star", "outlier", "mismatch", "score-drop", "burst"]
FLAG_KINDS: tuple[FlagKind, ...] = ("one-star", "outlier", "mismatch", "score-drop", "burst")
FlagStatus = Literal["open", "resolved"]


@dataclass(frozen=True)
class Flag:
    """Something a moderator should look at: a review (one-star, outlier, mismatch) or a unit's pattern.

    `details` holds the numbers behind it (e.g. {"rating": 1, "mean": 4.6, "count": 38}); its reason in words is
    rendered from kind + details in the reader's language (reviews_service.flagging.reason). `id` is natural
    (`{bu}:one-star:{review id}`, `{bu}:score-drop:{date}`, ...), so nothing is flagged twice.
    """

    id: str
    business_unit: str
    kind: FlagKind
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    review_id: str | None = None
    product: str | None = None
    status: FlagStatus = "open"
    note: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    alert: str = "none"  # "none" (not alerted), "pending", "sent", "failed", "skipped"
    alert_attempts: int = 0
    alert_error: str | None = None
    alert_sent_at: datetime | None = None

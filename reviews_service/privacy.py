"""Reviewers' personal data: erasure (GDPR Art. 17), export (Art. 15), and the guard every ingest passes (the
nightly retention pass is reviews_service.retention).

Which reviews are a person's: those that carry the address (an import's `email`), those made through an
invitation sent to it (the form's reviews, keyed by the invitation's id: collectors.forms.review_ids), and those that
carry such an invitation's order reference in its unit (Kiyoh's referenceCode, an import's order_ref). An erasure
keeps each review's rating, date, product and status, so the summaries go on counting it, anonymously; it empties
the rest (name, title, text, the shop's reply, which may greet the reviewer by name), deletes the photos, removes
the moderators' notes on its flags, and strips the invitations of address, name and order reference. What
remembers the erasure holds nothing personal: the address as a keyed hash (a SuppressionDoc "erased", which the
mailer already honours) and the erased reviews' ids (ErasureDoc), which the one ingest path reads (`guarded`), so
no later import or collection brings the data back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from collectors import forms
from reviews_service import documents as docs
from reviews_service import domain, flag_store, invitation_store, photo_store, privacy_store, repository
from reviews_service.config import Settings, get_settings
from reviews_service.errors import InvalidInput
from reviews_service.normalize import EMAIL_RE, fingerprint, normal_email
from sentiment.reviews import analysed

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.privacy")
MAX_ADDRESS = 254  # RFC 5321's longest address
MAX_ATTEMPTS = 5  # writes of one review retried when an ingest changed it meanwhile
MAX_ROUNDS = 10_000  # pages one erasure or retention pass walks at most: every loop is bounded
MAX_EXPORTED = 5_000  # reviews (and invitations) one export lists; past that it says it is incomplete
Candidates = list[tuple[int, domain.Review]]


def normal_address(email: str) -> str:
    """The address as every collection stores it (trimmed, lower-cased, NFC: normalize.normal_email), or
    InvalidInput."""
    address = normal_email(email)
    if len(address) > MAX_ADDRESS or not EMAIL_RE.match(address) or not address.isprintable():
        raise InvalidInput("email must be an e-mail address, e.g. anna@example.com.", status=422)
    return address


def anonymised(review: domain.Review) -> domain.Review:
    """The review without its reviewer: rating, date, product, language and status stay; name, e-mail, order
    reference, title, text, reply and photos go, and so does a moderator's reason, which may quote or name the
    reviewer (the decision, its category, who and when stay). Fingerprinted, so a re-import compares 'unchanged'."""
    moderation = review.moderation and replace(review.moderation, reason=None)
    bare = replace(
        review,
        title="",
        text="",
        author="",
        email=None,
        order_ref=None,
        reply=None,
        replied_at=None,
        photos=(),
        moderation=moderation,
    )
    return replace(bare, fingerprint=fingerprint(bare))


def without_contact(review: domain.Review) -> domain.Review:
    """The review past its retention time: no e-mail address or order reference (the public part stays)."""
    bare = replace(review, email=None, order_ref=None)
    return replace(bare, fingerprint=fingerprint(bare))


def guarded(candidates: Candidates, *, now: datetime, settings: Settings | None = None) -> Candidates:
    """An ingest batch as it may be stored: erased reviews and any review carrying an erased address anonymised,
    e-mail and order reference dropped from reviews older than REVIEWS_RETENTION_DAYS.

    One `$in` read of the erasure records per batch; the suppressions (and the settings) only when some record
    carries an address or an order reference."""
    erased = privacy_store.erased_reviews(r.id for _, r in candidates)
    personal = [r for _, r in candidates if r.email or r.order_ref]
    addresses: set[str] = set()
    orders: set[tuple[str, str]] = set()
    cutoff: datetime | None = None
    if personal:
        settings = settings or get_settings()
        secret = settings.secret_key.get_secret_value()
        addresses = privacy_store.erased_addresses(secret, {r.email for r in personal if r.email})
        # a platform that keeps the shop's order reference (Kiyoh's referenceCode) brings an erased buyer's review
        # back with no address in it: the erased invitation of that order still recognises it
        orders = privacy_store.erased_orders(secret, {(r.business_unit, r.order_ref) for r in personal if r.order_ref})
        if settings.retention_days:
            cutoff = now - timedelta(days=settings.retention_days)
    if not erased and not addresses and not orders and cutoff is None:
        return candidates
    kept: Candidates = []
    for index, review in candidates:
        ordered = review.order_ref is not None and (review.business_unit, review.order_ref) in orders
        if review.id in erased or ordered or (review.email is not None and review.email in addresses):
            review = anonymised(review)
        elif cutoff is not None and review.created_at < cutoff and (review.email or review.order_ref):
            review = without_contact(review)
        kept.append((index, review))
    return kept


def erased_meanwhile(written: Iterable[domain.Review], *, settings: Settings | None = None) -> list[str]:
    """Which of these reviews, just written with something personal in them, an erasure covers that began after the
    ingest's `guarded` read: it wrote its records (suppression, form review ids) before it searched, so a write it
    did not find sees them here. Nothing is read unless some review carries an address or order reference or came
    from a form; then one `$in` read of the erasure records, and one of the suppressions if some carry an address."""
    suspects = [r for r in written if not _bare(r) and (r.email or r.order_ref or r.source == forms.SOURCE)]
    if not suspects:
        return []
    erased = privacy_store.erased_reviews(r.id for r in suspects)
    emails = {r.email for r in suspects if r.email}
    addresses: set[str] = set()
    if emails:
        secret = (settings or get_settings()).secret_key.get_secret_value()
        addresses = privacy_store.erased_addresses(secret, emails)
    return [r.id for r in suspects if r.id in erased or (r.email is not None and r.email in addresses)]


def _bare(review: domain.Review) -> bool:
    """Nothing of its reviewer left in it (as `anonymised` leaves it)."""
    personal = (review.author, review.title, review.text, review.email, review.order_ref, review.reply, review.photos)
    return not any(personal)


@dataclass
class Erased:
    """What one erasure changed, per kind (a second erasure of the same address changes nothing: all zero)."""

    reviews: int = 0
    invitations: int = 0
    photos: int = 0
    flags: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by kind."""
        return asdict(self)


def _form_reviews(invitations: Iterable[domain.Invitation]) -> list[str]:
    """The ids of the reviews the forms of these invitations make (stored or not)."""
    return [rid for i in invitations for rid in forms.review_ids(i, i.products).values()]


def _orders(invitations: Iterable[domain.Invitation]) -> list[tuple[str, str]]:
    """The (unit, order reference) of these invitations: reviews that carry one are the buyer's too."""
    return [(i.business_unit, i.order_ref) for i in invitations if i.order_ref]


def erase(state: ServiceState, settings: Settings, email: str, *, now: datetime) -> Erased:
    """Erase everything personal held about the reviewer with this address; the counts of what changed."""
    address = normal_address(email)
    secret = settings.secret_key.get_secret_value()
    # first the record: from here on no mail goes to it, and no ingest stores it, while the rest is erased
    invitation_store.suppress(secret, address, "erased", now)
    done = Erased()
    for _ in range(MAX_ROUNDS):  # a page at a time: what is erased no longer matches, so each page is new
        invitations = invitation_store.invitations_of_address(address, limit=privacy_store.PAGE)
        form_ids = _form_reviews(invitations)
        # every form review id, stored or not: a submission being stored meanwhile writes them after this read,
        # and its ingest (or form_submit's check after it) finds them recorded
        privacy_store.record_erasures(form_ids, now)
        pending = repository.reviews_by_id(form_ids)
        pending.update({r.id: r for r in privacy_store.reviews_of_address(address, limit=privacy_store.PAGE)})
        # tied to her by the order alone (a platform's reference code): read before erase_invitation blanks it
        pending.update({r.id: r for r in privacy_store.reviews_of_orders(_orders(invitations), privacy_store.PAGE)})
        privacy_store.record_erasures(pending, now)
        erased = sum(_erase_reviews(state, unit, ids, now, done) for unit, ids in _by_unit(pending.values()).items())
        done.photos += photo_store.delete_photos([i for i in form_ids if i not in pending])  # saved, not yet named
        stripped = sum(invitation_store.erase_invitation(i, now) for i in invitations)
        done.invitations += stripped
        if not stripped and not erased:
            break  # nothing left (a review changed MAX_ATTEMPTS times meanwhile still has it: erase again)
    log.info("erasure done: %s", ", ".join(f"{k} {v}" for k, v in done.as_dict().items()))  # counts: no address
    return done


def _by_unit(reviews: Iterable[domain.Review]) -> dict[str, list[str]]:
    units: dict[str, list[str]] = {}
    for review in reviews:
        units.setdefault(review.business_unit, []).append(review.id)
    return units


def erase_reviews(state: ServiceState, unit: str, ids: list[str], now: datetime, *, locked: bool = False) -> Erased:
    """Record these reviews of one unit as erased and anonymise them, as an erasure does: for a write that raced an
    erasure and was stored after its search (`locked`: the caller holds the unit's ingest lock). The counts."""
    privacy_store.record_erasures(ids, now)
    done = Erased()
    _erase_reviews(state, unit, ids, now, done, locked=locked)
    return done


def _erase_reviews(
    state: ServiceState, unit: str, ids: list[str], now: datetime, done: Erased, *, locked: bool = False
) -> int:
    """Anonymise these reviews of one unit, delete their photos, clear their flags' notes; then the unit's caches
    (here, and through the change feed in every other process) drop what showed them. How many were anonymised."""
    written, products = 0, set()
    # no ingest of the unit in this process interleaves; others miss by fingerprint
    with nullcontext() if locked else state.ingest_locks[unit]:
        todo = list(ids)
        for _ in range(MAX_ATTEMPTS):
            current = repository.reviews_by_id(todo)
            changes = []
            for review in current.values():
                bare = analysed(anonymised(review))  # the analysis of a text that is gone: the stars' label
                raw = docs.review_to_raw(replace(bare, updated_at=now))
                del raw["_id"]
                changes.append((review, raw))
                products.add(review.product)
            todo = sorted(privacy_store.replace_if_unchanged(changes))
            written += len(current) - len(todo)
            if not todo:
                break
        done.photos += photo_store.delete_photos(ids)
        done.flags += flag_store.clear_flag_notes(ids, now)
    done.reviews += written
    state.changes.publish(unit, frozenset(products))
    return written


@dataclass(frozen=True)
class Holdings:
    """Everything held about one reviewer (the export's content)."""

    email: str
    reviews: list[domain.Review]
    invitations: list[domain.Invitation]
    photos: list[photo_store.Photo]
    flags: list[domain.Flag]
    suppression: tuple[str, datetime | None] | None  # (reason, since), or None: not suppressed
    complete: bool  # False: more than MAX_EXPORTED reviews or invitations (the first ones are listed)


def export(settings: Settings, email: str) -> Holdings:
    """What is held about the reviewer with this address: reviews, invitations, photos, flags, suppression."""
    address = normal_address(email)
    invitations = invitation_store.invitations_of_address(address, limit=MAX_EXPORTED + 1)
    reviews = repository.reviews_by_id(_form_reviews(invitations[:MAX_EXPORTED]))
    reviews.update({r.id: r for r in privacy_store.reviews_of_address(address, limit=MAX_EXPORTED + 1)})
    reviews.update(
        {r.id: r for r in privacy_store.reviews_of_orders(_orders(invitations[:MAX_EXPORTED]), MAX_EXPORTED + 1)}
    )
    listed = sorted(reviews.values(), key=lambda r: (r.created_at, r.id))[:MAX_EXPORTED]
    ids = [r.id for r in listed]
    return Holdings(
        email=address,
        reviews=listed,
        invitations=invitations[:MAX_EXPORTED],
        photos=photo_store.photos_of_reviews(ids),
        flags=flag_store.flags_of_reviews(ids),
        suppression=privacy_store.suppression(settings.secret_key.get_secret_value(), address),
        complete=len(reviews) <= MAX_EXPORTED and len(invitations) <= MAX_EXPORTED,
    )

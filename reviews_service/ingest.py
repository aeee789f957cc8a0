"""The one ingest path every source uses: normalise -> dedupe -> upsert -> update summaries.

Idempotent by natural key `(business unit, source, external_id)`: re-ingesting a review changes
nothing; an edit moves it in the histogram; a hide takes it out. A moderator's status wins over
what the source says. Summaries are updated by exact histogram deltas, so they always equal
what `rebuild_summaries` computes from scratch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reviews_service import domain, flagging, photo_store, privacy, rating_buckets, repository, store
from reviews_service.errors import InvalidInput
from reviews_service.normalize import RecordRejected, fingerprint, ignored_fields, normalize
from sentiment.reviews import ensure_analysed

if TYPE_CHECKING:
    from reviews_service.config import Settings
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.ingest")
BATCH = 2000
MAX_ATTEMPTS = 5  # writes of one batch retried when other processes changed the same reviews meanwhile


def ingest(
    state: ServiceState,
    business_unit: str,
    records: Iterable[Mapping[str, Any]] | Iterable[tuple[int, Mapping[str, Any]]],
    *,
    now: datetime,
    max_text: int = 20_000,
    default_source: str = "api",
    numbered: bool = False,
    collector: bool = False,
    settings: Settings | None = None,
) -> domain.IngestReport:
    """Store a stream of loose review records for one business unit; report what happened.

    Rejections carry each record's position, or with `numbered=True` the number that came with
    it as `(number, record)` pairs (an import's line numbers). `collector=True` (a collector's run, a
    platform's webhook) lets records say status "removed": gone from the platform, and lets them take a published
    review off the public side. Without it (the admin API, a file import) a record's status applies to a new review
    only: a published one stays published, listed in the report's `status_kept` (a moderator hides it, with a
    reason). `settings` (default the
    process's): the secret and retention that reviews_service.privacy.guarded applies to erased reviewers.
    """
    bu = repository.get_business_unit(state, business_unit)
    report = domain.IngestReport()
    pairs: Iterable[tuple[int, Any]] = records if numbered else enumerate(records)  # type: ignore[assignment]
    batch: list[tuple[int, Mapping[str, Any]]] = []
    for pair in pairs:
        batch.append(pair)
        if len(batch) >= BATCH:
            report.merge(_ingest_batch(state, bu, batch, now, max_text, default_source, collector, settings))
            batch = []
    if batch:
        report.merge(_ingest_batch(state, bu, batch, now, max_text, default_source, collector, settings))
    state.metrics.count_ingest(default_source, report)  # our callers' names (api, csv, form, a collector's)
    return report


def _ingest_batch(
    state: ServiceState,
    bu: domain.BusinessUnit,
    batch: list[tuple[int, Mapping[str, Any]]],
    now: datetime,
    max_text: int,
    default_source: str,
    collector: bool = False,
    settings: Settings | None = None,
) -> domain.IngestReport:
    report = domain.IngestReport()
    # only the products this batch names, in one `$in` read: never the whole catalogue
    named = (r.get("product") for _, r in batch if isinstance(r, Mapping))
    skus = repository.products(state, bu.slug, (p for p in named if isinstance(p, str) and p))
    hidden = photo_store.hidden_among(_photo_ids(batch))  # no read unless some record names photos
    candidates: list[tuple[int, domain.Review]] = []
    for index, record in batch:
        for name in ignored_fields(record):
            report.ignore(name)
        try:
            review = normalize(
                record,
                business_unit=bu,
                skus=skus,
                now=now,
                max_text=max_text,
                default_source=default_source,
                collector=collector,
            )
        except RecordRejected as exc:
            external_id = record.get("external_id") if isinstance(record, Mapping) else None
            shown = None if external_id is None else str(external_id)[:200].encode("utf-8", "replace").decode()
            report.rejected.append(domain.Rejection(index, shown, str(exc)))
            continue
        if hidden and review.photos:  # a moderator hid these: a record that still names them does not show them
            review = replace(review, photos=tuple(p for p in review.photos if p not in hidden))
        candidates.append((index, replace(review, fingerprint=fingerprint(review))))
    if not candidates:
        return report
    with state.ingest_locks[bu.slug]:
        _repair_if_needed(state, bu.slug, now)
        _store_candidates(state, bu.slug, candidates, report, now, settings=settings, collector=collector)
    return report


def _repair_if_needed(state: ServiceState, business_unit: str, now: datetime) -> None:
    """Rebuild the unit's summaries if a write of this instance stopped between its reviews and their summary
    deltas (a store error): a retry of that write finds nothing to move, so only a count from scratch mends them.
    Called under the unit's ingest lock, before the write that got this far (so the store answers again)."""
    if business_unit in state.summaries_to_repair:
        _rebuild_unit(state, business_unit, now)
        state.summaries_to_repair.discard(business_unit)


def _half_written(state: ServiceState, business_unit: str, products: Iterable[str | None]) -> None:
    """What a write that failed after it may have stored reviews owes: the unit's summaries marked for a rebuild
    (`_repair_if_needed`, else the nightly check_summaries), and the change published, so that no cache or last
    answer here keeps showing what it changed (dropping them too often costs a re-read, nothing more)."""
    state.summaries_to_repair.add(business_unit)
    try:
        state.changes.publish(business_unit, frozenset(products))  # this process's caches first, then the store
    except store.UNAVAILABLE as exc:  # the record for other processes; theirs were reset when they lost the store
        log.warning("a write to %s failed halfway and could not be recorded: %s", business_unit, exc)


def _photo_ids(batch: list[tuple[int, Mapping[str, Any]]]) -> list[str]:
    """The photo ids a batch's records name (whatever their shape: normalize judges them)."""
    named = (r.get("photos") for _, r in batch if isinstance(r, Mapping))
    return [p for photos in named if isinstance(photos, list) for p in photos if isinstance(p, str)]


def _store_candidates(
    state: ServiceState,
    business_unit: str,
    candidates: list[tuple[int, domain.Review]],
    report: domain.IngestReport,
    now: datetime,
    attempt: int = 1,
    settings: Settings | None = None,
    collector: bool = False,
) -> None:
    """Sort candidates into new / edited / unchanged, write them, and move the summaries."""
    # on every attempt, under the unit's lock: an erasure that came in between is honoured by the retry too
    candidates = privacy.guarded(candidates, now=now, settings=settings)
    known = repository.fingerprints(business_unit, (r.id for _, r in candidates))
    edited_ids = {r.id for _, r in candidates if r.id in known and known[r.id] != r.fingerprint}
    current: dict[str, domain.Review | None] = dict(repository.reviews_by_id(edited_ids))
    pending: dict[str, tuple[domain.Review | None, domain.Review]] = {}  # id -> (stored before, to store)
    counted: list[tuple[str, str]] = []  # (id, "inserted" | "updated" | "unchanged"), one per candidate
    kept: list[tuple[str, domain.Rejection]] = []  # (id, note): published reviews whose new status is not applied
    for index, new in candidates:
        report.ids.append(new.id)
        old = current.get(new.id)
        if not collector and old is not None and old.status == "published" and new.status != "published":
            kept.append((new.id, domain.Rejection(index, new.external_id, _status_kept_because(new))))
            new = replace(new, status="published")
            new = replace(new, fingerprint=fingerprint(new))  # the status it keeps: sent again, it is unchanged
        stored_as_is = new.id in known and new.id not in current  # same fingerprint, so not loaded
        if stored_as_is or (old is not None and old.fingerprint == new.fingerprint):
            counted.append((new.id, "unchanged"))
            continue
        merged = ensure_analysed(_merge(old, new))
        if new.id in pending:  # the same review twice in one batch: one stored version, the later an update
            counted.append((new.id, "updated"))
            old = pending[new.id][0]
        else:
            counted.append((new.id, "inserted" if old is None else "updated"))
        pending[new.id] = (old, merged)
        current[new.id] = merged
    touched = {m.product for _, m in pending.values()} | {o.product for o, _ in pending.values() if o}
    try:
        clashed = repository.write_reviews(
            (m for o, m in pending.values() if o is None), ((o, m) for o, m in pending.values() if o is not None)
        )
        deltas: dict[str, repository.SummaryDelta] = {}
        for review_id, (old, merged) in pending.items():
            if review_id not in clashed:
                _add_delta(deltas, old, merged)
        repository.apply_summary_deltas(state, deltas, now)
    except BaseException:
        if pending:  # some reviews may be stored, their summary deltas not applied
            _half_written(state, business_unit, touched)
        raise
    rating_buckets.count_moves(deltas.values())
    flagging.after_ingest(business_unit, (m for i, (_, m) in pending.items() if i not in clashed), now)
    # an erasure that began after `guarded` read its records, and searched before this write: it could not find
    # these, so they are erased here (its records are written before its search: one of the two sees the other)
    raced = privacy.erased_meanwhile((m for i, (_, m) in pending.items() if i not in clashed), settings=settings)
    if raced:
        privacy.erase_reviews(state, business_unit, raced, now, locked=True)
    for review_id, outcome in counted:
        if review_id not in clashed:
            setattr(report, outcome, getattr(report, outcome) + 1)
    report.status_kept += [note for review_id, note in kept if review_id not in clashed]  # a retry notes its own
    if clashed:  # another process wrote these meanwhile: read them again and store them on top
        report.ids = [i for i in report.ids if i not in clashed]
        retry = [(i, r) for i, r in candidates if r.id in clashed]
        if attempt < MAX_ATTEMPTS:
            _store_candidates(state, business_unit, retry, report, now, attempt + 1, settings)
        else:  # not stored, and said so: the caller can send these again
            reason = f"changed by another writer {attempt} times while this ingest stored it; send it again"
            report.rejected += [domain.Rejection(i, r.external_id, reason) for i, r in dict(retry).items()]
    if pending:
        state.changes.publish(business_unit, frozenset(touched))


def _status_kept_because(new: domain.Review) -> str:
    """Why a record's status was not applied to a review already published (the report says it, per record)."""
    return (
        f"already published, so it stays published: an import or the admin API does not make a published review "
        f"{new.status} (only its platform's collector does); to take it off the public side a moderator sends "
        f"PATCH /v1/admin/reviews/{new.id} with the status and a reason"
    )


def _merge(old: domain.Review | None, new: domain.Review) -> domain.Review:
    """The stored review after `new` arrives: the source's fields, the moderator's decisions."""
    if old is None:
        return new
    merged = replace(new, reply=old.reply, replied_at=old.replied_at, flags=old.flags, moderation=old.moderation)
    if new.reply is not None and new.reply != old.reply:  # the source's reply: a moderator's own one stays otherwise
        merged = replace(merged, reply=new.reply, replied_at=new.replied_at)
    if old.moderated and new.status == "removed":  # gone from its platform: that ends the moderator's decision
        merged = replace(merged, moderated=False)
    elif old.moderated:  # a moderator's status wins over the source's (a moderator's "removed" too)
        merged = replace(merged, status=old.status, moderated=True)
    if old.text == new.text and old.title == new.title and old.rating == new.rating:  # the analysis still holds
        merged = replace(
            merged,
            sentiment=old.sentiment,
            sentiment_label=old.sentiment_label,
            sentiment_version=old.sentiment_version,
            aspects=old.aspects,
        )
    return merged


def _add_delta(
    deltas: dict[str, repository.SummaryDelta], old: domain.Review | None, new: domain.Review | None
) -> None:
    """Record how replacing `old` by `new` changes the summaries they count in."""

    def delta_for(review: domain.Review) -> repository.SummaryDelta:
        key = domain.summary_key(review.business_unit, review.product)
        if key not in deltas:
            deltas[key] = repository.SummaryDelta(
                review.business_unit, review.product, dict.fromkeys(domain.RATINGS, 0)
            )
        return deltas[key]

    if old is not None and old.status == "published":
        delta = delta_for(old)
        delta.histogram[old.rating] -= 1
        delta.moves.append((old.created_at, old.rating, -1))
        still_there = (
            new is not None
            and new.status == "published"
            and new.product == old.product
            and new.created_at == old.created_at
        )
        if not still_there:
            delta.recompute_last = True
    if new is not None and new.status == "published":
        delta = delta_for(new)
        delta.histogram[new.rating] += 1
        delta.moves.append((new.created_at, new.rating, 1))
        if delta.newest is None or new.created_at > delta.newest:
            delta.newest = new.created_at


def moderate(
    state: ServiceState,
    review_id: str,
    *,
    status: domain.Status | None,
    reply: str | None,
    now: datetime,
    reason: str | None = None,
    category: domain.ModerationCategory | None = None,
    by: str = "",
) -> domain.Review:
    """A moderator hides, publishes or replies to a review; summaries follow at once. Any status that keeps it off
    the public side (pending, hidden, removed) needs a `reason` (InvalidInput otherwise), recorded with `category`,
    `by` and the time."""
    decision = None
    if (reason is not None or category is not None) and status not in domain.WITHHELD:
        raise InvalidInput("`reason` and `category` go with a `status` of pending, hidden or removed.")
    if status is not None:
        if status in domain.WITHHELD and not (reason or "").strip():
            raise InvalidInput(
                f"A moderator sets a review to {status} only with a reason: send `reason` (what in the review breaks "
                f"the rules), and optionally `category` ({', '.join(domain.MODERATION_CATEGORIES)})."
            )
        withheld = status in domain.WITHHELD
        decision = domain.Moderation(
            status=status,
            by=by,
            at=now,
            reason=(reason or "").strip() or None if withheld else None,
            category=(category or "other") if withheld else None,
        )
    old = repository.get_review(review_id)
    with state.ingest_locks[old.business_unit]:
        _repair_if_needed(state, old.business_unit, now)
        old, new = repository.moderate(review_id, status=status, reply=reply, now=now, decision=decision)
        deltas: dict[str, repository.SummaryDelta] = {}
        _add_delta(deltas, old, new)
        try:
            repository.apply_summary_deltas(state, deltas, now)
        except BaseException:  # the review is moderated, its summaries not moved: a hidden review must not show
            _half_written(state, new.business_unit, {old.product, new.product})
            raise
        rating_buckets.count_moves(deltas.values())
    state.changes.publish(new.business_unit, frozenset({old.product, new.product}))
    return new


def compute_summaries(reviews: Iterable[domain.Review]) -> dict[str, domain.RatingSummary]:
    """Summaries from scratch: every published review counted once."""
    by_unit: dict[str, list[tuple[str | None, int, datetime]]] = {}
    for review in reviews:
        if review.status == "published":
            by_unit.setdefault(review.business_unit, []).append((review.product, review.rating, review.created_at))
    return {key: s for unit, rows in by_unit.items() for key, s in count_summaries(unit, rows).items()}


def count_summaries(
    business_unit: str, ratings: Iterable[tuple[str | None, int, datetime]]
) -> dict[str, domain.RatingSummary]:
    """A unit's summaries from its published reviews' (product, rating, created_at), each counted once."""
    histograms: dict[str | None, dict[int, int]] = {}
    newest: dict[str | None, datetime] = {}
    for product, rating, created_at in ratings:
        histogram = histograms.get(product)
        if histogram is None:
            histogram = histograms[product] = dict.fromkeys(domain.RATINGS, 0)
            newest[product] = created_at
        histogram[int(rating)] += 1
        if created_at > newest[product]:
            newest[product] = created_at
    summaries = {}
    for product, hist in histograms.items():
        key = domain.summary_key(business_unit, product)
        summaries[key] = domain.RatingSummary(key, business_unit, product, hist, newest[product])
    return summaries


def same_figures(a: domain.RatingSummary | None, b: domain.RatingSummary | None) -> bool:
    """Whether two summaries show the same figures (an empty summary equals a missing one)."""
    a_count = 0 if a is None else a.count
    b_count = 0 if b is None else b.count
    if a_count == 0 or b_count == 0:
        return a_count == b_count
    assert a is not None and b is not None
    return a.histogram == b.histogram and a.last_review_at == b.last_review_at


def rebuild_summaries(state: ServiceState, business_unit: str | None, *, now: datetime) -> dict[str, Any]:
    """Recompute summaries from the reviews, store those that differ, and report which did."""
    if business_unit is not None:
        units = [business_unit]
    else:
        units = sorted({u.slug for u in repository.list_business_units()} | repository.summary_units())
    result: dict[str, Any] = {"summaries": 0, "reviews_counted": 0, "differed": [], "skipped": []}
    for unit in units:  # one at a time, each under its ingest lock: no ingest of that unit runs meanwhile
        with state.ingest_locks[unit]:
            fresh, differing, skipped = _rebuild_unit(state, unit, now)
            state.summaries_to_repair.discard(unit)
        result["summaries"] += len(fresh)
        result["reviews_counted"] += sum(s.count for s in fresh.values())
        result["differed"] += differing
        result["skipped"] += sorted(skipped)
    return result


def _rebuild_unit(
    state: ServiceState, unit: str, now: datetime
) -> tuple[dict[str, domain.RatingSummary], list[str], set[str]]:
    """One unit's summaries recounted and stored where they differ (the caller holds its ingest lock)."""
    stored = repository.all_summaries(unit)  # read before the reviews (see replace_summaries)
    fresh = count_summaries(unit, repository.published_ratings(unit))
    differing = sorted(k for k in set(fresh) | set(stored) if not same_figures(fresh.get(k), stored.get(k)))
    changed = [fresh[k] for k in differing if k in fresh]
    obsolete = [stored[k] for k in differing if k not in fresh]
    skipped = repository.replace_summaries(state, changed, obsolete, stored, now) if differing else set()
    if differing:
        state.changes.publish(unit, frozenset())
    return fresh, differing, skipped

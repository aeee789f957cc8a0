"""Flags made from stored reviews: at ingest (one-star, outlier, mismatch) and periodically (score drop, burst).

The rules are sentiment.flags' (pure); this module reads what they need, stores what they find (natural ids:
nothing twice) and says why in the reader's language (`reason`). A one-star flag's alert is due at once
(reviews_service.alerts sends it); a review that was already older than ALERT_MAX_AGE when it arrived (a
back-fill, an import of last year's export) is flagged without an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from reviews_service import domain, flag_store, repository
from sentiment import flags as rules

log = logging.getLogger("reviews.flags")
ALERT_MAX_AGE = timedelta(hours=72)  # a one-star review written longer ago than this on arrival is not news
REPEAT_AFTER = {"score-drop": rules.RECENT, "burst": rules.BURST_WINDOW}  # no second such flag sooner


def after_ingest(business_unit: str, reviews: Iterable[domain.Review], now: datetime) -> list[domain.Flag]:
    """Flag the reviews an ingest just stored (new or changed), in one batch; returns the flags that are new."""
    judged = [r for r in reviews if r.status in rules.JUDGED]
    if not judged:
        return []
    skus = sorted({r.product for r in judged if r.product is not None})
    histograms = flag_store.summary_histograms(business_unit, skus)
    shop = histograms.get(None)
    found: list[domain.Flag] = []
    for review in judged:
        product = histograms.get(review.product) if review.product is not None else None
        for flag in rules.review_flags(review, product, shop, now=now):
            if flag.kind == "one-star":
                fresh = review.created_at >= now - ALERT_MAX_AGE
                flag = replace(flag, alert="pending" if fresh else "skipped")
            found.append(flag)
    return flag_store.add_flags(found)


def detect_patterns(business_unit: str, *, now: datetime) -> list[domain.Flag]:
    """Score-drop and burst flags of one unit at `now` (each at most once per its window); the new ones."""
    recent_start = now - rules.RECENT
    burst_start = now - rules.BURST_WINDOW
    earliest = min(recent_start - rules.PREVIOUS, burst_start - rules.BURST_BASELINE)
    ratings = flag_store.ratings_between(business_unit, earliest, now)
    recent, previous = _histogram(), _histogram()
    in_window = baseline = 0
    for created_at, rating in ratings:
        if created_at >= recent_start:
            recent[rating] += 1
        elif created_at >= recent_start - rules.PREVIOUS:
            previous[rating] += 1
        if created_at >= burst_start:
            in_window += 1
        elif created_at >= burst_start - rules.BURST_BASELINE:
            baseline += 1
    candidates = [
        rules.score_drop(business_unit, recent, previous, now=now),
        rules.burst(business_unit, in_window, baseline, now=now),
    ]
    new = [flag for flag in candidates if flag is not None and not _repeats(flag, now)]
    return flag_store.add_flags(new)


def _histogram() -> dict[int, int]:
    return dict.fromkeys(domain.RATINGS, 0)


def _repeats(flag: domain.Flag, now: datetime) -> bool:
    """Whether the unit had a flag of this kind within its window (a drop lasting a week is one flag)."""
    last = flag_store.last_flag(flag.business_unit, flag.kind)
    return last is not None and last.created_at > now - REPEAT_AFTER[flag.kind]


def detect_all(*, now: datetime) -> dict[str, int]:
    """Periodic flags for every business unit; one unit failing is logged and skips only that unit."""
    made: dict[str, int] = {}
    for unit in repository.list_business_units():
        try:
            new = detect_patterns(unit.slug, now=now)
        except Exception:
            log.exception("periodic flags of %s failed; the next run tries again", unit.slug)
            continue
        if new:
            made[unit.slug] = len(new)
            log.info("%s: new flags %s", unit.slug, ", ".join(f.id for f in new))
    return made


def open_flags(business_unit: str, *, limit: int = 500) -> list[domain.Flag]:
    """A unit's open flags, newest first: for the daily digest (render each with `reason`)."""
    return flag_store.open_flags(business_unit, limit=limit)

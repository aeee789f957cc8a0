"""Which reviews and patterns a moderator should look at: pure functions over domain values, `now` passed in.

The rules (the README's "Flags and alerts" states them too):

- **one-star**: every 1-star review. Its details carry the norm it is read against, when there is one.
- **outlier**: a 2-5 star review with rating <= mean - max(2 sd, 1.5 stars) of its norm: the product's other
  published reviews when it has at least MIN_NORM of them, else the shop's own reviews (at least MIN_NORM).
- **mismatch**: >= 4 stars with a clearly negative text (stored label "negative", polarity <= -0.5), or <= 2
  stars with a clearly positive one (label "positive", polarity >= 0.5). A review with no stored analysis is
  not judged.
- **score-drop**: the mean of the last 7 days is lower than that of the 90 days before by at least 0.3 stars and
  the one-sided Mann-Whitney U test says so at p < 0.01, with >= 10 recent and >= 30 earlier reviews.
- **burst**: the reviews of the last 24 hours are at least 10, at least 3x the baseline (the 28 days before) and
  improbable under a Poisson distribution at the baseline rate: P(X >= count) < 0.001; the baseline needs >= 20.

Judged reviews: those published or pending; a hidden or removed one has been dealt with already.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from reviews_service.domain import Flag, FlagKind, Review
from sentiment.flag_stats import histogram_mean, histogram_sd, mann_whitney_less, poisson_tail

MIN_NORM = 20  # other reviews a norm needs before a rating is called far below it
OUTLIER_SD = 2.0
OUTLIER_MIN_GAP = 1.5  # stars: with a tight norm (every rating 5, sd 0) a 4 is not "far below"
CLEAR_POLARITY = 0.5
RECENT = timedelta(days=7)
PREVIOUS = timedelta(days=90)
DROP_MIN_RECENT, DROP_MIN_PREVIOUS, DROP_MIN_STARS, DROP_P = 10, 30, 0.3, 0.01
BURST_WINDOW = timedelta(hours=24)
BURST_BASELINE = timedelta(days=28)
BURST_MIN, BURST_RATIO, BURST_MIN_BASELINE, BURST_P = 10, 3.0, 20, 0.001
JUDGED = ("published", "pending")


def flag_id(business_unit: str, kind: FlagKind, key: str) -> str:
    """The natural id: one flag per (unit, kind, review or window)."""
    return f"{business_unit}:{kind}:{key}"


def _without(histogram: Mapping[int, int], rating: int) -> dict[int, int]:
    """The histogram with one `rating` taken out (the review itself, counted in its own summary)."""
    rest = dict(histogram)
    rest[rating] = max(0, rest.get(rating, 0) - 1)
    return rest


def norm_of(
    review: Review, product: Mapping[int, int] | None, shop: Mapping[int, int] | None
) -> tuple[str, dict[int, int]] | None:
    """("product" | "shop", histogram of the other reviews) a review is measured against, or None if too few.

    `product` and `shop` are the stored summaries' histograms (the review's product's, the unit's own): a
    published review counts in one of them, and is taken out of it here.
    """
    counted = review.status == "published"
    candidates = [("product", product)] if review.product is not None else []
    candidates.append(("shop", shop))
    for scope, histogram in candidates:
        if histogram is None:
            continue
        own = (scope == "product") == (review.product is not None)  # the summary this review counts in
        others = _without(histogram, review.rating) if counted and own else dict(histogram)
        if sum(others.values()) >= MIN_NORM:
            return scope, others
    return None


def _norm_details(norm: tuple[str, dict[int, int]] | None) -> dict[str, object]:
    if norm is None:
        return {}
    scope, histogram = norm
    mean, sd = histogram_mean(histogram), histogram_sd(histogram)
    assert mean is not None and sd is not None
    return {"scope": scope, "mean": round(mean, 2), "sd": round(sd, 2), "count": sum(histogram.values())}


def review_flags(
    review: Review, product: Mapping[int, int] | None, shop: Mapping[int, int] | None, *, now: datetime
) -> list[Flag]:
    """The flags one stored review earns (see the module's rules); `product`/`shop` as for norm_of."""
    if review.status not in JUDGED:
        return []
    found: list[Flag] = []

    def flag(kind: FlagKind, details: dict[str, object]) -> None:
        found.append(
            Flag(
                id=flag_id(review.business_unit, kind, review.id),
                business_unit=review.business_unit,
                kind=kind,
                created_at=now,
                details={"rating": review.rating, **details},
                review_id=review.id,
                product=review.product,
            )
        )

    norm = norm_of(review, product, shop)
    details = _norm_details(norm)
    if review.rating == 1:
        flag("one-star", details)
    elif details:
        mean, sd = float(details["mean"]), float(details["sd"])  # type: ignore[arg-type]
        threshold = mean - max(OUTLIER_SD * sd, OUTLIER_MIN_GAP)
        if review.rating <= threshold:
            flag("outlier", {**details, "threshold": round(threshold, 2)})
    polarity, label = review.sentiment, review.sentiment_label
    if polarity is not None and label is not None and math.isfinite(polarity):
        negative = review.rating >= 4 and label == "negative" and polarity <= -CLEAR_POLARITY
        positive = review.rating <= 2 and label == "positive" and polarity >= CLEAR_POLARITY
        if negative or positive:
            flag("mismatch", {"polarity": round(polarity, 2), "label": label})
    return found


def score_drop(
    business_unit: str, recent: Mapping[int, int], previous: Mapping[int, int], *, now: datetime
) -> Flag | None:
    """A score-drop flag when the last 7 days' ratings (`recent`) are significantly below the 90 days' before."""
    n_recent, n_previous = sum(recent.values()), sum(previous.values())
    if n_recent < DROP_MIN_RECENT or n_previous < DROP_MIN_PREVIOUS:
        return None
    recent_mean, previous_mean = histogram_mean(recent), histogram_mean(previous)
    assert recent_mean is not None and previous_mean is not None
    if previous_mean - recent_mean < DROP_MIN_STARS:
        return None
    test = mann_whitney_less(recent, previous)
    if test.p_value >= DROP_P:
        return None
    return Flag(
        id=flag_id(business_unit, "score-drop", f"{now:%Y-%m-%d}"),
        business_unit=business_unit,
        kind="score-drop",
        created_at=now,
        details={
            "recent_mean": round(recent_mean, 2),
            "recent_count": n_recent,
            "previous_mean": round(previous_mean, 2),
            "previous_count": n_previous,
            "test": "mann-whitney-u",
            "u": test.u,
            "p_value": test.p_value,
            "days": RECENT.days,
            "previous_days": PREVIOUS.days,
        },
    )


def burst(business_unit: str, count: int, baseline: int, *, now: datetime) -> Flag | None:
    """A burst flag when `count` reviews in the last 24 hours are improbable at the rate of the 28 days before
    (`baseline` reviews in those days)."""
    if count < BURST_MIN or baseline < BURST_MIN_BASELINE:
        return None
    expected = baseline * (BURST_WINDOW / BURST_BASELINE)
    if count < BURST_RATIO * expected:
        return None
    p_value = poisson_tail(count, expected)
    if p_value >= BURST_P:
        return None
    start = (now - BURST_WINDOW).replace(minute=0, second=0, microsecond=0)
    return Flag(
        id=flag_id(business_unit, "burst", f"{start:%Y-%m-%dT%H:%MZ}"),
        business_unit=business_unit,
        kind="burst",
        created_at=now,
        details={
            "count": count,
            "expected": round(expected, 2),
            "hours": round(BURST_WINDOW.total_seconds() / 3600),
            "baseline_count": baseline,
            "baseline_days": BURST_BASELINE.days,
            "test": "poisson-tail",
            "p_value": p_value,
        },
    )

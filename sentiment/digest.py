"""The daily digest as a value: one business unit's day in its own time zone, built from data passed in (no I/O).

A day is the unit's calendar day (`BusinessUnit.timezone`), so a shop in Amsterdam gets midnight to midnight
Amsterdam time, 23 or 25 hours on the days the clocks change. The trend covers the 90 days up to and including
that day; its 7- and 30-day windows are compared with the window of the same length just before them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reviews_service import domain

WINDOWS = (7, 30, 90)
TREND_DAYS = max(WINDOWS)
ROLLING_DAYS = 7  # the chart's smoothed line: the average of the 7 days up to each day


@dataclass(frozen=True)
class TrendPoint:
    """One day of the trend: its count, its average, and the rolling 7-day average up to it."""

    day: date
    count: int
    average: float | None
    rolling: float | None


@dataclass(frozen=True)
class Window:
    """The last `days` days: count and average, the same for the `days` before them, and a point per day."""

    days: int
    count: int
    average: float | None
    previous_count: int | None  # None: the window before reaches past the 90 days read
    previous_average: float | None
    points: tuple[TrendPoint, ...]

    @property
    def change(self) -> float | None:
        """How much the average moved against the window before (None if either has no reviews)."""
        if self.average is None or self.previous_average is None:
            return None
        return round(self.average - self.previous_average, 2)


@dataclass(frozen=True)
class OneStar:
    """A one-star review of the day, in full (never the reviewer's e-mail or order reference)."""

    id: str
    author: str
    title: str
    text: str
    product: str | None  # sku
    product_name: str | None
    created_at: datetime
    source: str
    language: str | None


@dataclass(frozen=True)
class FlagItem:
    """An open flag as the digest lists it."""

    id: str
    kind: str
    reason: str
    review_id: str | None
    created_at: datetime | None
    # What the flag is about, so twenty one-star flags are told apart: the review's title (or its opening
    # words), author and date; empty for a unit's patterns (score drops, bursts).
    subject: str = ""
    author: str = ""
    review_created_at: datetime | None = None


@dataclass(frozen=True)
class ComplaintItem:
    """A recurring complaint topic: how often now and in the period before, and a few example reviews."""

    topic: str
    label: str
    count: int
    previous: int
    recurring: bool
    examples: tuple[tuple[str, str], ...] = ()  # (review id, excerpt)

    @property
    def change(self) -> int:
        """More (positive) or fewer complaints than in the period before."""
        return self.count - self.previous


@dataclass(frozen=True)
class Digest:
    """One business unit's digest of one day."""

    business_unit: str
    name: str
    locale: str
    timezone: str
    day: date
    generated_at: datetime
    count: int
    average: float | None
    histogram: dict[int, int]
    windows: tuple[Window, ...]
    one_stars: tuple[OneStar, ...]
    one_stars_total: int  # may exceed len(one_stars) when the list was capped
    flags: tuple[FlagItem, ...] = ()
    complaints: tuple[ComplaintItem, ...] = ()
    sections_pending: tuple[str, ...] = field(default=())  # sections whose data is not available in this build

    @property
    def empty(self) -> bool:
        """True when no review arrived that day: the digest says so rather than not being sent."""
        return self.count == 0


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in `timezone`, in UTC."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def yesterday(now: datetime, timezone: str) -> date:
    """The day before `now`'s date in `timezone`: the day a digest sent now is about."""
    return now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def trend_start(day: date, timezone: str) -> datetime:
    """The first instant the trend of `day` counts (the start of the 90th day back)."""
    return day_bounds(day - timedelta(days=TREND_DAYS - 1), timezone)[0]


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def daily_counts(
    day: date, timezone: str, ratings: Iterable[tuple[datetime, int, int]]
) -> list[tuple[int, int, list[int]]]:
    """Per day of the 90 up to `day`, oldest first: (count, sum of ratings, histogram 1-5 as a list), from
    (time, rating, how many) triples: single reviews, or buckets that each fall inside one local day."""
    first = day - timedelta(days=TREND_DAYS - 1)
    edges = [day_bounds(first + timedelta(days=i), timezone)[0] for i in range(TREND_DAYS + 1)]
    counts, totals = [0] * TREND_DAYS, [0] * TREND_DAYS
    histograms = [[0] * 5 for _ in range(TREND_DAYS)]
    for created_at, rating, many in ratings:
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        index = bisect.bisect_right(edges, at) - 1  # local days differ in length (DST): the edges say where
        if 0 <= index < TREND_DAYS and 1 <= rating <= 5:
            counts[index] += many
            totals[index] += rating * many
            histograms[index][rating - 1] += many
    return list(zip(counts, totals, histograms, strict=True))


def _windows(day: date, per_day: Sequence[tuple[int, int, list[int]]]) -> tuple[Window, ...]:
    points = []
    for i, (count, total, _) in enumerate(per_day):
        recent = per_day[max(0, i - ROLLING_DAYS + 1) : i + 1]
        points.append(
            TrendPoint(
                day=day - timedelta(days=len(per_day) - 1 - i),
                count=count,
                average=_average(total, count),
                rolling=_average(sum(t for _, t, _ in recent), sum(c for c, _, _ in recent)),
            )
        )
    windows = []
    for days in WINDOWS:
        now = per_day[-days:]
        before = per_day[-2 * days : -days] if 2 * days <= len(per_day) else None
        count, total = sum(c for c, _, _ in now), sum(t for _, t, _ in now)
        previous = None if before is None else (sum(c for c, _, _ in before), sum(t for _, t, _ in before))
        windows.append(
            Window(
                days=days,
                count=count,
                average=_average(total, count),
                previous_count=None if previous is None else previous[0],
                previous_average=None if previous is None else _average(previous[1], previous[0]),
                points=tuple(points[-days:]),
            )
        )
    return tuple(windows)


def build_digest(
    unit: domain.BusinessUnit,
    day: date,
    *,
    now: datetime,
    ratings: Iterable[tuple[datetime, int, int]],
    one_stars: Sequence[domain.Review],
    products: dict[str, domain.Product] | None = None,
    flags: Sequence[FlagItem] = (),
    complaints: Sequence[ComplaintItem] = (),
    sections_pending: Sequence[str] = (),
) -> Digest:
    """The digest of `unit`'s `day` from its published ratings of the 90 days up to it ((time, rating, count)),
    that day's one-star reviews, its products, open flags and complaint topics."""
    per_day = daily_counts(day, unit.timezone, ratings)
    count, total, histogram = per_day[-1]
    start, end = day_bounds(day, unit.timezone)
    names = products or {}
    stars = [
        OneStar(
            id=review.id,
            author=review.author,
            title=review.title,
            text=review.text,
            product=review.product,
            product_name=names[review.product].name if review.product in names else None,
            created_at=review.created_at,
            source=review.source,
            language=review.language,
        )
        for review in sorted(one_stars, key=lambda r: (r.created_at, r.id))
        if review.rating == 1 and start <= review.created_at < end
    ]
    return Digest(
        business_unit=unit.slug,
        name=unit.name,
        locale=unit.locales[0] if unit.locales else "en",
        timezone=unit.timezone,
        day=day,
        generated_at=now,
        count=count,
        average=_average(total, count),
        histogram={rating: histogram[rating - 1] for rating in domain.RATINGS},
        windows=_windows(day, per_day),
        one_stars=tuple(stars),
        one_stars_total=max(len(stars), histogram[0]),  # the day's 1s, shown or not
        flags=tuple(flags),
        complaints=tuple(complaints),
        sections_pending=tuple(sections_pending),
    )

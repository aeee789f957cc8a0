"""Recurring complaints: the negative part of reviews grouped into topics, counted per window, with trend.

Pure: `domain.Review` values and the time (`now=`) in, a `ComplaintReport` out. What counts as a complaint:

- a review rated 1-2, or stored with `sentiment_label == "negative"`: its title and text;
- a 3-star review: its negative sentences (all of it while no sentence judge is given);
- a 4-5-star review: its negative sentences that name a taxonomy aspect ("great sofa, but delivered late").

Topics are the taxonomy's aspects plus themes discovered in what the taxonomy's phrases leave over
(`sentiment.discovery`). Windows are `days` long and end at `now`: window 0 is [now - days, now), window 1 the
one before it, and so on. A topic's **trend** compares windows 0 and 1: "up" or "down" when the count changed
by at least 2 and by at least 20 % of the previous count, else "flat". A topic is **recurring** when it has at
least one complaint in at least `RECURRING_IN` (3) of the last `WINDOWS` (4) windows, the current one included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from reviews_service import domain
from sentiment.discovery import discover
from sentiment.taxonomy import Taxonomy, default_taxonomy, find_aspects, normalize

WINDOWS = 4
RECURRING_IN = 3
EXAMPLES = 5
EXCERPT = 200
TREND_MIN_CHANGE = 2
TREND_MIN_SHARE = 0.2
# Judges one sentence: True when it is negative (the service passes the analyser's label).
Judge = Callable[[str, str | None], bool]
Trend = Literal["up", "down", "flat"]
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class Complaint:
    """The negative part of one review: its id, time, language, text, and the aspects it names."""

    review_id: str
    created_at: datetime
    language: str | None
    text: str
    aspects: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    """One complaint topic: counts in the current and previous window, trend, recurrence and examples."""

    id: str
    source: Literal["taxonomy", "discovered"]
    label: str
    count: int
    previous_count: int
    change: int
    trend: Trend
    recurring: bool
    windows: tuple[int, ...]  # complaints per window, the current one first
    examples: tuple[str, ...]  # review ids, newest first, from the current window (else the previous one)
    terms: tuple[str, ...] = ()  # a discovered theme's n-grams
    excerpts: tuple[str, ...] = ()  # the complaint part of each example, at most EXCERPT characters (the digest)


@dataclass(frozen=True)
class ComplaintReport:
    """Topics of one business unit's complaints over `days`-long windows ending at `end`."""

    business_unit: str
    days: int
    start: datetime
    end: datetime
    complaints: int
    previous_complaints: int
    topics: tuple[Topic, ...]


def sentences(text: str) -> list[str]:
    """The sentences of a text (split after . ! ? … and at line breaks)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def negative_part(review: domain.Review, taxonomy: Taxonomy, judge: Judge | None) -> str | None:
    """What of a review is a complaint (see the module docstring), or None."""
    whole = ". ".join(p for p in (review.title.strip(), review.text.strip()) if p)
    if review.rating <= 2 or review.sentiment_label == "negative":
        return whole or None
    if judge is None:  # the rating alone: a 3-star review counts whole, a happier one not at all
        return (whole or None) if review.rating == 3 else None
    if review.rating > 3 and not find_aspects(whole, review.language, taxonomy):
        return None  # most happy reviews: one scan says no sentence of theirs names an aspect
    parts = sentences(review.title) + sentences(review.text)
    if review.rating > 3:  # only the sentences that name an aspect are worth asking about
        parts = [s for s in parts if find_aspects(s, review.language, taxonomy)]
    negative = [s for s in parts if judge(s, review.language)]
    return " ".join(negative) or None


def extract(reviews: Iterable[domain.Review], taxonomy: Taxonomy, judge: Judge | None = None) -> list[Complaint]:
    """The complaints among `reviews`, each with the aspects its negative part names."""
    out = []
    for review in reviews:
        part = negative_part(review, taxonomy, judge)
        if part is not None:
            aspects = find_aspects(part, review.language, taxonomy)
            out.append(Complaint(review.id, review.created_at, review.language, part, aspects))
    return out


def window_of(created_at: datetime, *, now: datetime, days: int) -> int | None:
    """Which window (0 = the current) a time falls in; None after `now` or before the oldest window."""
    if created_at >= now:
        return None
    index = int((now - created_at) / timedelta(days=days))
    return index if index < WINDOWS else None


def trend(count: int, previous: int) -> Trend:
    """ "up"/"down" when the count moved by >= 2 and >= 20 % of the previous count, else "flat"."""
    change = count - previous
    if abs(change) < TREND_MIN_CHANGE or abs(change) < TREND_MIN_SHARE * previous:
        return "flat"
    return "up" if change > 0 else "down"


def _topic(
    topic_id: str,
    source: Literal["taxonomy", "discovered"],
    label: str,
    members: Sequence[Complaint],
    *,
    now: datetime,
    days: int,
    terms: tuple[str, ...] = (),
) -> Topic | None:
    per_window = [0] * WINDOWS
    by_window: list[list[Complaint]] = [[] for _ in range(WINDOWS)]
    for complaint in members:
        index = window_of(complaint.created_at, now=now, days=days)
        if index is not None:
            per_window[index] += 1
            by_window[index].append(complaint)
    if per_window[0] == 0 and per_window[1] == 0:
        return None  # nothing lately: an old topic is not news
    shown = by_window[0] or by_window[1]
    newest = sorted(shown, key=lambda c: (c.created_at, c.review_id), reverse=True)[:EXAMPLES]
    return Topic(
        id=topic_id,
        source=source,
        label=label,
        count=per_window[0],
        previous_count=per_window[1],
        change=per_window[0] - per_window[1],
        trend=trend(per_window[0], per_window[1]),
        recurring=sum(1 for n in per_window if n > 0) >= RECURRING_IN,
        windows=tuple(per_window),
        examples=tuple(c.review_id for c in newest),
        terms=terms,
        excerpts=tuple(_excerpt(c.text) for c in newest),
    )


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def leftover_text(complaint: Complaint, taxonomy: Taxonomy) -> str:
    """A complaint's normalised text without the taxonomy's phrases: what discovery looks at."""
    pattern, owners = taxonomy.matcher(complaint.language)
    text = normalize(complaint.text)
    return pattern.sub(" ", text) if owners else text


def topics(
    complaints: Sequence[Complaint],
    *,
    now: datetime,
    days: int,
    taxonomy: Taxonomy | None = None,
    locale: str | None = None,
    max_themes: int = 8,
    stop_words: Iterable[str] = (),
) -> list[Topic]:
    """Taxonomy and discovered topics of `complaints`, most complaints in the current window first."""
    tax = taxonomy if taxonomy is not None else default_taxonomy()
    found: list[Topic | None] = []
    for aspect in tax.aspects:
        members = [c for c in complaints if aspect.id in c.aspects]
        found.append(_topic(aspect.id, "taxonomy", tax.label(aspect.id, locale), members, now=now, days=days))
    by_id = {c.review_id: c for c in complaints}
    texts = [(c.review_id, leftover_text(c, tax)) for c in complaints]
    for theme in discover(texts, max_themes=max_themes, extra_stop_words=stop_words):
        members = [by_id[i] for i in theme.members]
        topic_id = f"discovered:{theme.id}"
        found.append(_topic(topic_id, "discovered", theme.label, members, now=now, days=days, terms=theme.terms))
    kept = [t for t in found if t is not None]
    return sorted(kept, key=lambda t: (-t.count, -t.previous_count, t.source != "taxonomy", t.id))


def report(
    business_unit: str,
    reviews: Iterable[domain.Review],
    *,
    now: datetime,
    days: int = 30,
    taxonomy: Taxonomy | None = None,
    judge: Judge | None = None,
    locale: str | None = None,
    stop_words: Iterable[str] = (),
) -> ComplaintReport:
    """The complaint report of a unit's reviews over the windows ending at `now`."""
    tax = taxonomy if taxonomy is not None else default_taxonomy()
    inside = [r for r in reviews if window_of(r.created_at, now=now, days=days) is not None]
    complaints = extract(inside, tax, judge)
    counts = [window_of(c.created_at, now=now, days=days) for c in complaints]
    return ComplaintReport(
        business_unit=business_unit,
        days=days,
        start=now - timedelta(days=days),
        end=now,
        complaints=counts.count(0),
        previous_complaints=counts.count(1),
        topics=tuple(topics(complaints, now=now, days=days, taxonomy=tax, locale=locale, stop_words=stop_words)),
    )

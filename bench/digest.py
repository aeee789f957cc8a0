"""Digest benchmark: one business unit with 100,000 reviews, and the time to build its daily digest.

    python -m bench.digest [--reviews 100000] [--days 120] [--runs 5] [--data-dir DIR]

Generates the reviews at the shared Trustpilot reviews' proportions (the rating mix and text lengths measured
from `../shared/data/trustpilot-pet-insurance` when it is there, recorded figures otherwise; none of their words),
spread over --days days up to the digest's day, a third about the shop and the rest about five products, into
the embedded store (a temporary directory, or --data-dir; MONGODB_URL if set), straight through the collection.
Then it counts the rating buckets once (what ingest keeps up to date; loaded straight into the collection, these
reviews have none yet) and times, uncached, what a digest costs: the data (the 90-day trend from the buckets, the
day's one-star reviews in full, open flags, the complaint topics), the HTML e-mail with its PNG chart, the plain
text and the web page's SVG.
Target (issue 11): data + HTML + PNG under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.scale_data import WORDS, Generator, profile
from reviews_service import digest_chart, digest_render, digest_text, digests, documents, domain, repository, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from sentiment.digest import day_bounds

BU = "bench-digest"
DAY = date(2026, 11, 19)
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam, the morning after
PRODUCTS = ("oak-chair", "walnut-table", "linen-sofa", "wool-rug", "brass-lamp")
GOAL_SECONDS = 2.0


def _load(state: ServiceState, count: int, days: int, seed: int = 11) -> dict[int, int]:
    """`count` reviews over the `days` days up to DAY's end (Amsterdam), inserted a batch at a time."""
    shape = profile()
    words = Generator(shape, seed)._words  # the generator's filler text: lengths from the profile, words our own
    ratings, weights = list(shape.ratings), list(shape.ratings.values())
    repository.save_business_unit(
        state, domain.BusinessUnit(slug=BU, name="Bench Meubels", locales=("nl",), timezone="Europe/Amsterdam")
    )
    repository.save_products(state, [domain.Product(business_unit=BU, sku=s, name=s.title()) for s in PRODUCTS])
    end = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # midnight in Amsterdam
    rng = random.Random(seed)
    mix: dict[int, int] = dict.fromkeys(domain.RATINGS, 0)
    batch: list[dict[str, Any]] = []
    for i in range(count):
        rating = rng.choices(ratings, weights)[0]
        mix[rating] += 1
        at = end - timedelta(seconds=rng.randrange(days * 86400))
        review = domain.Review(
            id=domain.review_id(BU, "bench", str(i)),
            business_unit=BU,
            source="bench",
            external_id=str(i),
            rating=rating,
            title=words(rng, WORDS["nl"], rng.choice(shape.title_lengths)),
            text=words(rng, WORDS["nl"], rng.choice(shape.text_lengths)),
            author=f"Klant {i % 4999}",
            created_at=at,
            updated_at=at,
            product=None if rng.random() < 1 / 3 else rng.choice(PRODUCTS),
            language="nl",
        )
        batch.append(documents.review_to_raw(review))
        if len(batch) == 5000:
            documents.ReviewDoc._get_collection().insert_many(batch)
            batch = []
    if batch:
        documents.ReviewDoc._get_collection().insert_many(batch)
    return mix


def _timed(state: ServiceState, step: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median seconds of `runs` uncached runs, and the last result."""
    times, result = [], None
    for _ in range(runs):
        state.reset()
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    """Load, time each step, print the table; exit 1 when the goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120, help="the reviews' spread, up to the digest's day (90+)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", default="", help="the embedded store directory (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as scratch:
        return _run(args, args.data_dir or scratch)


def _run(args: argparse.Namespace, data_dir: str) -> int:
    url = os.environ.get("MONGODB_URL") or None
    settings = Settings(REVIEWS_ENV="test", MONGODB_URL=url, MONGODB_DB="bench_digest", REVIEWS_DATA_DIR=data_dir)  # type: ignore[call-arg]
    info = store.connect(settings)
    store.drop_all()
    state = ServiceState()
    started = time.perf_counter()
    mix = _load(state, args.reviews, args.days)
    loaded = time.perf_counter() - started
    share = ", ".join(f"{r}★ {100 * n / args.reviews:.0f}%" for r, n in sorted(mix.items(), reverse=True))
    print(f"store: {info.description[:70]}")
    print(f"loaded {args.reviews:,} reviews over {args.days} days ({share}) in {loaded:.1f} s")
    started = time.perf_counter()
    buckets = digests.recount(state, BU)
    print(
        f"one-time count of the rating buckets (a unit's first digest after an upgrade; ingest keeps them after): "
        f"{buckets:,} buckets in {time.perf_counter() - started:.1f} s"
    )

    built, digest = _timed(state, lambda: digests.build(state, BU, DAY, now=NOW), args.runs)
    end = day_bounds(DAY, "Europe/Amsterdam")[1]
    topics_time, _ = _timed(state, lambda: digests._complaints(state, BU, "nl", end), args.runs)
    assert isinstance(digest, digests.Digest)
    email_time, email = _timed(
        state, lambda: digests.message(settings, digest, ["boss@example.com"], now=NOW), args.runs
    )
    png_time, png = _timed(state, lambda: digest_chart.png(digest), args.runs)
    text_time, _ = _timed(state, lambda: digest_text.text(digest, None), args.runs)
    links = digests.links(settings, digest, now=NOW)
    page_time, _ = _timed(
        state, lambda: digest_render.html(digest, links, digest_chart.svg(digest, "trend"), web=True), args.runs
    )
    whole, _ = _timed(
        state,
        lambda: digests.message(settings, digests.build(state, BU, DAY, now=NOW), ["boss@example.com"], now=NOW),
        args.runs,
    )
    trend = digest.windows[-1]
    print(
        f"the digest of {DAY}: {digest.count:,} new reviews, {digest.one_stars_total} one-star "
        f"({len(digest.one_stars)} shown in full); 90 days: {trend.count:,} reviews, read as rating buckets"
    )
    print(f"\n| step (uncached, median of {args.runs}) | ms |\n|---|---:|")
    rows = [
        ("data: 90-day trend, the day's one-star reviews, flags, complaint topics", built),
        (f"  of which the complaint topics (newest {digests.COMPLAINT_REVIEWS:,} reviews analysed)", topics_time),
        ("e-mail: HTML + PNG chart + text, as a MIME message", email_time),
        ("  of which the PNG chart", png_time),
        ("plain text alone", text_time),
        ("web page: HTML + SVG chart", page_time),
        (f"**whole digest e-mail (data + HTML + PNG), goal < {GOAL_SECONDS:g} s**", whole),
    ]
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:,.0f} |")
    size = len(bytes(email)) if email is not None else 0  # type: ignore[call-overload]
    print(f"\ne-mail size {size / 1024:,.0f} KiB (PNG {len(png) / 1024:,.0f} KiB)" if isinstance(png, bytes) else "")
    met = whole < GOAL_SECONDS
    print(f"goal {'met' if met else 'MISSED'}: {whole:.2f} s {'<' if met else '>='} {GOAL_SECONDS:g} s")
    store.drop_all()
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

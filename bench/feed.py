"""Product reviews feed benchmark: the whole feed of 2,000 and of 20,000 reviews, with its memory measured.

    python -m bench.feed [--reviews 20000] [--products 500]

Fills an in-memory embedded store with a unit of --reviews published product reviews (and a small unit with a
tenth as many), then drains the very generator GET /seo/{bu}/product-reviews.xml streams, chunk by chunk: timed,
then again under tracemalloc. Prints reviews/s, MB of XML, and the peak of memory allocated while it ran: "flat
memory" means the peak does not grow with the number of reviews (a batch's worth, not the feed's). Also the
process's peak RSS (the in-memory store included). In-process, no network; bounded by --reviews.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from reviews_service import domain, repository, store
from reviews_service.api.seo import _feed_chunks
from reviews_service.config import Settings
from reviews_service.state import ServiceState

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEXT = "Stevige stoel, snel geleverd & goed verpakt <3. Past mooi bij de tafel; ]]> de kleur valt mee. " * 5


def _load(state: ServiceState, bu: str, reviews: int, products: int) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug=bu, name=f"Bench {bu}", domain="shop.example"))
    catalogue = [
        domain.Product(bu, f"sku-{i:05d}", f"Product {i}", url=f"https://shop.example/p/{i}", brand="Bench")
        for i in range(products)
    ]
    repository.save_products(state, catalogue)
    for start in range(0, reviews, 5_000):
        batch = [
            domain.Review(
                id=f"{bu}:api:r{i}",
                business_unit=bu,
                source="api",
                external_id=f"r{i}",
                rating=1 + i % 5,
                title=f"Review {i}",
                text=TEXT,
                created_at=T0 - timedelta(minutes=i),
                updated_at=T0,
                product=f"sku-{(i * 7) % products:05d}",
                author="Sanne V." if i % 3 else "",
                collection_method="post_fulfillment" if i % 2 else None,
            )
            for i in range(start, min(start + 5_000, reviews))
        ]
        repository.write_reviews(batch, [])


def _drain(state: ServiceState, bu: str, traced: bool) -> tuple[int, int, float, float]:
    """(reviews, bytes, seconds, peak MB allocated: 0 untraced) of one whole feed."""
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    count = size = 0
    for chunk in _feed_chunks(state, bu, "https://reviews.example"):
        count += chunk.count(b"<review>")
        size += len(chunk)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    return count, size, elapsed, peak / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=500)
    args = parser.parse_args(argv)
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=":memory:", MONGODB_URL=None))  # type: ignore[call-arg]
    state = ServiceState()
    small = max(1, args.reviews // 10)
    t0 = time.perf_counter()
    _load(state, "small", small, args.products)
    _load(state, "big", args.reviews, args.products)
    load_time = time.perf_counter() - t0
    rows = []
    for bu, expected in (("small", small), ("big", args.reviews)):
        _drain(state, bu, traced=False)  # warm: imports, caches, the store's sorted index
        count, size, elapsed, _ = _drain(state, bu, traced=False)  # the time, without tracemalloc's overhead
        assert count == expected, (bu, count, expected)
        peak = _drain(state, bu, traced=True)[3]
        rows.append((bu, count, size, elapsed, peak))
    store.disconnect()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, embedded store")
    print(f"stored {small + args.reviews:,} reviews in {load_time:.1f} s; process peak RSS {rss:.0f} MB")
    print("| feed   | reviews | time    | reviews/s | MB of XML | peak allocated while streaming |")
    print("|--------|--------:|--------:|----------:|----------:|-------------------------------:|")
    for bu, count, size, elapsed, peak in rows:
        print(
            f"| {bu:<6} | {count:>7,} | {elapsed:>6.2f}s | {count / elapsed:>9,.0f} | {size / 1e6:>9.1f} |"
            f" {peak:>27.1f} MB |"
        )
    small_peak, big_peak = rows[0][4], rows[1][4]
    ok = big_peak <= max(2 * small_peak, 5.0)
    print(
        f"peak {small_peak:.1f} MB for {rows[0][1]:,} reviews vs {big_peak:.1f} MB for {rows[1][1]:,}:"
        f" {'flat' if ok else 'GROWS WITH THE FEED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Read-path benchmark: the query shapes of a product lookup, data.json, the filtered review list and the export.

    python -m bench.queries [--products 10000] [--reviews 30000] [--export-seconds 120] [--data-dir DIR]

Loads one business unit into the store this process connects to (the embedded one in a temporary directory
or --data-dir, or MONGODB_URL) straight
through the collections (so loading costs what the store costs to insert, not what ingest costs), then times
uncached reads in this thread (the widget service, the repository, the export's generator; no HTTP): every
cache is emptied before each run, and the median of the runs is printed. The export is streamed once and
stopped after --export-seconds (the table says so) to stay bounded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reviews_service import documents, domain, ingest, repository, store
from reviews_service.api import seo
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from widgets import service

BU = "bench-queries"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _load(state: ServiceState, products: int, reviews: int) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug=BU, name="Bench", locales=("nl",)))
    skus = [f"sku-{i:06d}" for i in range(products)]
    rows = [docs_product(sku) for sku in skus]
    documents.ProductDoc._get_collection().insert_many(rows)
    batch = []
    for i in range(reviews):
        # a few products with many reviews, most with a handful, some with none; a fifth of them about the shop
        product = None if i % 5 == 0 else skus[(i * i) % max(1, products // 2)] if i % 3 else skus[i % 50]
        review = domain.Review(
            id=f"{BU}:bench:r{i}",
            business_unit=BU,
            source="bench",
            external_id=f"r{i}",
            rating=1 + (i * 7) % 5,
            title=f"Review {i}",
            text="Goede stoel, snel geleverd. " * 3,
            created_at=NOW - timedelta(minutes=i),
            updated_at=NOW,
            product=product,
            language="nl" if i % 4 else "en",
        )
        batch.append(documents.review_to_raw(review))
        if len(batch) == 5000:
            documents.ReviewDoc._get_collection().insert_many(batch)
            batch = []
    if batch:
        documents.ReviewDoc._get_collection().insert_many(batch)
    ingest.rebuild_summaries(state, BU, now=NOW)


def docs_product(sku: str) -> dict[str, object]:
    product = domain.Product(business_unit=BU, sku=sku, name=f"Product {sku}", url=f"https://shop.example/{sku}")
    return documents.product_to_raw(product)


def _median_ms(state: ServiceState, run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        state.reset()  # uncached: every run reads the store
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Load, time each read uncached, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--export-seconds", type=float, default=120.0)
    parser.add_argument("--data-dir", default="", help="the embedded store directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as scratch:
        _run(args, args.data_dir or scratch)


def _run(args: argparse.Namespace, data_dir: str) -> None:
    url = os.environ.get("MONGODB_URL") or None
    settings = Settings(REVIEWS_ENV="test", MONGODB_URL=url, MONGODB_DB="bench_q", REVIEWS_DATA_DIR=data_dir)  # type: ignore[call-arg]
    info = store.connect(settings)
    store.drop_all()
    state = ServiceState()
    started = time.perf_counter()
    _load(state, args.products, args.reviews)
    print(f"store: {info.description[:60]}; loaded {args.products:,} products, {args.reviews:,} reviews "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    skus = ",".join(f"sku-{i:06d}" for i in range(0, 24 * 37, 37))
    data = f"/widgets/{BU}/data.json"
    rows = [
        ("get_product (one sku)", _median_ms(
            state, lambda: repository.get_product(state, BU, "sku-000123"), args.runs)),
        ("data.json, 24 skus", _median_ms(
            state, lambda: service.render(state, data, f"skus={skus}".encode()), args.runs)),
        ("data.json, 24 skus + 5 reviews", _median_ms(
            state, lambda: service.render(state, data, f"skus={skus}&reviews=5&product=*".encode()), args.runs)),
        ("review list, rating=2, page 1", _median_ms(
            state, lambda: repository.list_published(state, BU, rating=2, product=repository.ALL_PRODUCTS), args.runs)),
        ("review list, language=en, page 1", _median_ms(
            state, lambda: repository.list_published(state, BU, language="en", product=repository.ALL_PRODUCTS),
            args.runs)),
    ]  # fmt: skip
    print(f"\n| read (uncached, median of {args.runs}) | ms |\n|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:,.1f} |")
    state.reset()
    start, lines, stopped = time.perf_counter(), 0, False
    for chunk in seo._export_lines(state, BU, 3, None):  # what the route streams, a catalogue page at a time
        lines += chunk.count(b"\n")
        if time.perf_counter() - start > args.export_seconds:
            stopped = True
            break
    took = time.perf_counter() - start
    note = f" (stopped after {args.export_seconds:.0f} s)" if stopped else ""
    print(f"| JSON-LD export, {lines:,} products, 3 reviews each{note} | {took * 1000:,.0f} ({lines / took:,.0f}/s) |")
    store.drop_all()


if __name__ == "__main__":
    main()

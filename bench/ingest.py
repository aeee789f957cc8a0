"""Import benchmark: the five real Trustpilot CSVs through the admin import endpoint, on the embedded store.

    python -m bench.ingest [--data ../shared/data/trustpilot-pet-insurance] [--calls 1000]

Prints one table: reviews/s of the first import (every review analysed for sentiment on the way in, as
ingest does) and of the re-import (all unchanged: their analysis is kept), how many were analysed, peak RSS,
and p50/p99 of the public summary endpoint over --calls in-process calls. Targets (issue #2):
first import >= 1,000 reviews/s, re-import faster still, summary p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import httpx

from bench import SHARED_REVIEWS, print_targets, shared_csvs
from reviews_service import repository, store
from reviews_service.app import create_app
from reviews_service.config import Settings
from sentiment.analyzer import VERSION
from sentiment.reviews import RATING_FALLBACK

DEFAULT_DATA = SHARED_REVIEWS
TOKEN = "bench-admin-token-0123456789"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _import_all(client: httpx.AsyncClient, files: list[Path]) -> tuple[int, float, dict[str, int]]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    bodies = [f.read_bytes() for f in files]  # read before timing: we measure the service, not the disk
    start = time.perf_counter()
    for body in bodies:
        response = await client.post(
            "/v1/admin/business-units/pets/imports?format=trustpilot-csv", content=body, headers=headers
        )
        response.raise_for_status()
        for key in totals:
            totals[key] += response.json()[key]
    elapsed = time.perf_counter() - start
    return sum(totals[k] for k in ("inserted", "updated", "unchanged")), elapsed, totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)
    files = shared_csvs(args.data)
    if not files:
        return 2
    settings = Settings(REVIEWS_ENV="test", REVIEWS_ADMIN_TOKEN=TOKEN, REVIEWS_DATA_DIR=":memory:", MONGODB_URL=None)  # type: ignore[call-arg]
    rss_before = _peak_rss_mb()
    store.connect(settings)
    app = create_app(settings, connect=False)
    # The app in-process over ASGI: the whole FastAPI stack per request, without a socket.
    transport = httpx.ASGITransport(app=app)

    async def run() -> tuple[int, float, dict[str, int], int, float, dict[str, int], list[float], dict[str, object]]:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=300) as client:
            (
                await client.post(
                    "/v1/admin/business-units",
                    json={"slug": "pets", "name": "Pet insurers", "display_scale": 5},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
            ).raise_for_status()
            n1, t1, c1 = await _import_all(client, files)
            n2, t2, c2 = await _import_all(client, files)
            timings = []
            for _ in range(args.calls):
                start = time.perf_counter()
                response = await client.get("/v1/business-units/pets/summary")
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            return n1, t1, c1, n2, t2, c2, timings, response.json()

    n1, t1, c1, n2, t2, c2, timings, summary = asyncio.run(run())
    assert c2["unchanged"] == c1["inserted"], (c1, c2)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    stale = repository.count_stale_analyses(None, (VERSION, RATING_FALLBACK))
    analysed = repository.count_reviews(None) - stale
    rows = [
        (
            "first import, analysed",
            f"{n1:,} reviews in {t1:.2f} s",
            f"{n1 / t1:,.0f} reviews/s",
            ">= 1,000/s",
            n1 / t1 >= 1000,
        ),
        ("re-import (unchanged)", f"{n2:,} reviews in {t2:.2f} s", f"{n2 / t2:,.0f} reviews/s", "> first", t2 < t1),
        ("analysed at ingest", f"sentiment_version {VERSION}", f"{analysed:,} of {n1:,}", "all", analysed == n1),
        ("summary endpoint", f"{args.calls:,} calls", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms", "p99 < 5 ms", p99 < 5),
        ("peak RSS", f"before {rss_before:.0f} MB", f"{_peak_rss_mb():.0f} MB", "", True),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, embedded store")
    print(f"counts: first {c1}, again {c2}; summary: {summary['review_count']} reviews, average {summary['average']}")
    return print_targets(rows)


if __name__ == "__main__":
    sys.exit(main())

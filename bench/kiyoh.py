"""Kiyoh sync benchmark: the fake Kiyoh (real HTTP on 127.0.0.1) into the embedded store on disk.

    python -m bench.kiyoh [--reviews 5000] [--page-size 100] [--fail-share 0.05] [--new 50]

Prints one table: a full sync (reviews/s, API calls), the same with a share of the calls failing (503 with
Retry-After 0, 500, torn and cut bodies; the end state must be the same), and the incremental sync after
`--new` new reviews (calls made). Each row checks the store against the fake's truth.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from collectors.base import CollectReport, collect_now
from collectors.fakes.kiyoh import FakeKiyoh
from collectors.http import Backoff
from collectors.kiyoh import KiyohCollector
from reviews_service import domain, repository, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState

BU = "bench-kiyoh"


def _sync(state: ServiceState, settings: Settings) -> tuple[CollectReport, float]:
    registry = {"kiyoh": lambda: KiyohCollector(backoff=Backoff(initial=0.01, jitter=0.01))}
    started = time.perf_counter()
    report = collect_now(state, settings, registry, BU, "kiyoh")  # type: ignore[arg-type]
    return report, time.perf_counter() - started


def _same(fake: FakeKiyoh) -> bool:
    stored = {r.external_id: (r.source_rating, r.title, r.text, r.reply) for r in repository.iter_reviews(BU)}
    truth = {i: (t["score"], t["title"], t["text"], t["reply"]) for i, t in fake.truth().items()}
    return stored == truth


def main() -> None:
    """Run the three syncs and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--fail-share", type=float, default=0.05)
    parser.add_argument("--new", type=int, default=50)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as data_dir, FakeKiyoh() as fake:
        fake.retry_after = 0
        settings = Settings(REVIEWS_DATA_DIR=data_dir, KIYOH_API_TOKEN=fake.token, MONGODB_URL=None)  # type: ignore[call-arg]
        store.connect(settings)
        fake.add(args.reviews, same_instant=3)
        for label, faults in (
            ("full sync", 0.0),
            (f"full sync, {args.fail_share:.0%} of calls failing", args.fail_share),
        ):
            store.drop_all()
            state = ServiceState()
            source = {"location_id": fake.location_id, "host": fake.url, "page_size": args.page_size}
            repository.save_business_unit(
                state, domain.BusinessUnit(slug=BU, name="Bench", locales=("nl",), sources={"kiyoh": source})
            )
            pages = args.reviews // args.page_size + 1
            rng = random.Random(7)
            fake.fail(
                *(
                    rng.choice(("503", "500", "torn", "cut")) if rng.random() < faults else "ok"
                    for _ in range(pages * 2)
                )
            )
            report, seconds = _sync(state, settings)
            fake.faults.clear()
            rows.append((label, report, seconds, _same(fake)))
        fake.add(args.new, seed=2)
        report, seconds = _sync(state, settings)
        rows.append((f"incremental after {args.new} new", report, seconds, _same(fake)))
        store.disconnect()
    print(f"{'sync':<36} {'reviews':>8} {'seconds':>8} {'reviews/s':>10} {'calls':>6} {'retries':>8} {'= truth':>8}")
    for label, report, seconds, same in rows:
        print(
            f"{label:<36} {report.fetched:>8} {seconds:>8.2f} {report.fetched / seconds:>10.0f} "
            f"{report.calls:>6} {report.retries:>8} {'yes' if same else 'NO':>8}"
        )


if __name__ == "__main__":
    main()

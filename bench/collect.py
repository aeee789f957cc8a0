"""Collector benchmark: the fake Trustpilot (a real server on 127.0.0.1) into the embedded store on disk.

    python -m bench.collect [--reviews 20000] [--fail-share 0.05] [--new 50]

Prints one table: a full first sync of --reviews service reviews (100 a page) with reviews/s and API calls;
the same into an empty store with --fail-share of all calls answering 500 (same end state, how many
retries); and the incremental sync after --new reviews arrive (calls made). Each run checks that the store
ends equal to the fake's truth. The collector runs with its production timeouts and backoff.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from collectors.base import CollectReport, collect_now
from collectors.fakes.trustpilot import FakeTrustpilot
from collectors.registry import REGISTRY
from reviews_service import domain, repository, source_store, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState

UNIT = domain.BusinessUnit(slug="bench-shop", name="Bench shop", domain="shop.example", locales=("en",),
                           sources={"trustpilot": {"domain": "shop.example", "every_minutes": 15}})  # fmt: skip


def _settings(data_dir: str, fake: FakeTrustpilot) -> Settings:
    return Settings(  # type: ignore[call-arg]
        REVIEWS_ENV="test", REVIEWS_DATA_DIR=data_dir, MONGODB_URL=None,
        TRUSTPILOT_API_URL=fake.url, TRUSTPILOT_API_KEY=fake.api_key,
    )  # fmt: skip


def _same_as_truth(fake: FakeTrustpilot) -> bool:
    shown = {
        r.external_id: (r.rating, r.title, r.text, r.author, r.reply)
        for r in source_store.source_reviews(UNIT.slug, "trustpilot")
        if r.status != "removed"
    }
    return shown == {r.id: (r.stars, r.title, r.text, r.author, r.reply) for r in fake.reviews.values()}


def _run(state: ServiceState, settings: Settings) -> tuple[CollectReport, float]:
    started = time.perf_counter()
    report = collect_now(state, settings, REGISTRY, UNIT.slug, "trustpilot")
    return report, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--fail-share", type=float, default=0.05)
    parser.add_argument("--new", type=int, default=50)
    args = parser.parse_args(argv)
    newest = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    rows = []
    ok = True
    with FakeTrustpilot() as fake:
        fake.add(args.reviews, newest=newest, step=timedelta(minutes=20))  # 72 a day: a busy shop
        for label, share in (("full sync", 0.0), (f"full sync, {args.fail_share:.0%} of calls fail", args.fail_share)):
            with tempfile.TemporaryDirectory(prefix="bench-collect-") as data_dir:
                settings = _settings(data_dir, fake)
                store.connect(settings)
                state = ServiceState()
                repository.save_business_unit(state, replace(UNIT))
                fake.faults.fail_share = share
                report, seconds = _run(state, settings)
                fake.faults.fail_share = 0.0
                same = _same_as_truth(fake)
                ok &= same
                rows.append((label, report, seconds, same))
                if share == 0.0:  # the incremental sync after new reviews, on the same store
                    fake.add(args.new, newest=newest + timedelta(minutes=30), step=timedelta(seconds=20))
                    report, seconds = _run(state, settings)
                    same = _same_as_truth(fake)
                    ok &= same
                    incremental = (f"incremental after {args.new} new", report, seconds, same)
                store.disconnect()
        rows.insert(1, incremental)
    print(f"collect benchmark: fake Trustpilot on 127.0.0.1 -> embedded store on disk ({platform.python_version()})")
    head = f"{'run':<34} {'reviews':>8} {'seconds':>8} {'reviews/s':>10} {'calls':>6} {'retries':>8} {'inserted':>9}"
    print(head + "  store == truth")
    print("-" * (len(head) + 16))
    for label, report, seconds, same in rows:
        rate = report.fetched / seconds if seconds else 0.0
        print(f"{label:<34} {report.fetched:>8,} {seconds:>8.1f} {rate:>10,.0f} {report.calls:>6} "
              f"{report.retries:>8} {report.inserted:>9,}  {'yes' if same else 'NO'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

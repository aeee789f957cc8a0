"""Flags benchmark: what flagging costs at ingest, and what it finds in the real Trustpilot exports.

    python -m bench.flags [--data ../shared/data/trustpilot-pet-insurance] [--rounds 3]

Each company's CSV is imported into its own unit of a fresh in-memory store, `--rounds` times with the flag hook
and as often without it (alternating, so a busy machine slows both alike); the table shows reviews/s of each, the
flags made at ingest per kind, and the periodic job (score drop, burst) run once a day over each unit's history:
what it finds and what one run costs.
Target (issue 11): ingest with flags >= 1,000 reviews/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from bench import SHARED_REVIEWS, print_targets, shared_csvs
from reviews_service import domain, flag_store, flagging, imports, repository, store
from reviews_service.config import Settings
from reviews_service.state import ServiceState

DEFAULT_DATA = SHARED_REVIEWS


def _import(files: list[Path], bodies: list[bytes], flags: bool) -> tuple[int, float, float]:
    """One fresh store, every file into its unit; (reviews stored, seconds, seconds spent in the flag hook)."""
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=":memory:", MONGODB_URL=None))  # type: ignore[call-arg]
    state = ServiceState()
    for path in files:
        repository.save_business_unit(state, domain.BusinessUnit(slug=path.stem, name=path.stem.title()))
    hook = flagging.after_ingest
    in_hook = [0.0]

    def timed(business_unit: str, reviews: Iterable[domain.Review], now: datetime) -> list[domain.Flag]:
        start = time.perf_counter()
        try:
            return hook(business_unit, reviews, now) if flags else []
        finally:
            in_hook[0] += time.perf_counter() - start

    flagging.after_ingest = timed  # type: ignore[assignment]
    try:
        start, stored = time.perf_counter(), 0
        for path, body in zip(files, bodies, strict=True):
            report = imports.run_import(
                state, path.stem, body, "trustpilot-csv", now=datetime.now(UTC), max_text=20_000
            )
            stored += report.inserted + report.updated
        return stored, time.perf_counter() - start, in_hook[0]
    finally:
        flagging.after_ingest = hook  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    files = shared_csvs(args.data)
    if not files:
        return 2
    bodies = [f.read_bytes() for f in files]
    rates: dict[bool, list[float]] = {True: [], False: []}
    shares: list[float] = []
    for _ in range(max(1, args.rounds)):
        for flags in (False, True):
            stored, seconds, in_hook = _import(files, bodies, flags)
            store.disconnect()
            rates[flags].append(stored / seconds)
            if flags:
                shares.append(in_hook / seconds)
    stored, _, _ = _import(files, bodies, True)
    made: Counter[str] = Counter()
    found: Counter[str] = Counter()
    runs, patterns = 0, 0.0
    for path in files:
        made.update(f.kind for f in flag_store.open_flags(path.stem, limit=100_000))
        created = [
            c for c, _ in flag_store.ratings_between(path.stem, datetime(1970, 1, 1, tzinfo=UTC), datetime.now(UTC))
        ]
        day, last = min(created) + timedelta(days=30), max(created) + timedelta(days=1)
        start = time.perf_counter()
        while day <= last:  # the periodic job once a day over the unit's whole history
            found.update(f.kind for f in flagging.detect_patterns(path.stem, now=day))
            day += timedelta(days=1)
            runs += 1
        patterns += time.perf_counter() - start
    store.disconnect()
    best_with, best_without = max(rates[True]), max(rates[False])
    work = f"{stored:,} reviews, best of {args.rounds}"

    def kinds(counts: Counter[str]) -> str:
        return ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items()))

    per_run = f"{patterns / max(1, runs) * 1000:.1f} ms/run"
    rows = [
        ("ingest without flags", work, f"{best_without:,.0f} reviews/s", "", True),
        ("ingest with flags", work, f"{best_with:,.0f} reviews/s", ">= 1,000/s", best_with >= 1000),
        ("in the flag hook", "share of the ingest's time (median of the rounds)", f"{median(shares):.1%}", "", True),
        ("flags at ingest", kinds(made), f"{sum(made.values()):,}", "", True),
        ("periodic, daily", kinds(found), f"{sum(found.values()):,}", "", True),
        ("periodic job", f"{runs:,} runs (a day each, over every unit's history)", per_run, "", True),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, embedded store")
    return print_targets(rows)


if __name__ == "__main__":
    sys.exit(main())

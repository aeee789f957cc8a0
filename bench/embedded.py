"""Embedded store benchmark: ingest on disk (REVIEWS_DATA_DIR) against in memory, alone and beside other writers.

    python -m bench.embedded [--reviews 10000] [--writers 2]

Prints one table: reviews/s of loading the demo shop and of ingesting --reviews generated reviews (first
insert, then the same again with new ratings, i.e. edits) on a fresh data directory and on `:memory:`, and
the total rate of --writers processes importing into one data directory at once; and, on disk, the memory a
process holds for the new reviews: VmRSS of a fresh process that opens the data directory as `reviews serve`
does and reads the unit's first page, with the --reviews reviews against with the demo shop alone, per review;
and what they take on disk.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from reviews_service import demo, repository, store
from reviews_service.config import Settings
from reviews_service.ingest import ingest
from reviews_service.state import ServiceState

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
UNIT = "flinders-nl"


def _connect(data_dir: str) -> None:
    store.connect(Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=data_dir, MONGODB_URL=None))  # type: ignore[call-arg]


def _records(prefix: str, count: int, shift: int) -> list[dict[str, Any]]:
    skus = [p.sku for p in repository.catalogue(UNIT).values()]
    return [
        {
            "source": "bench",
            "external_id": f"{prefix}-{i}",
            "rating": 1 + (i * 7 + shift) % 5,
            "title": f"Review {i}",
            "text": f"Mooie stoel, snel geleverd en goed verpakt. Nummer {i} van de benchmark." * (1 + i % 4),
            "author": f"Klant {i}",
            "created_at": f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}T10:00:00Z",
            "product": skus[i % len(skus)] if i % 3 else None,
        }
        for i in range(count)
    ]


def _timed(state: ServiceState, records: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    report = ingest(state, UNIT, records, now=NOW)
    assert not report.rejected, report.rejected[:3]
    return len(records) / (time.perf_counter() - start)


def _rss_kb() -> int:
    """This process's resident memory (VmRSS), after a full collection."""
    gc.collect()
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _first_page() -> None:
    """Read the unit's newest reviews, as the widgets do (so a store that caches what it reads has done so)."""
    repository.list_published(ServiceState(), UNIT, limit=20, product="*")


def _one_store(data_dir: str, count: int) -> dict[str, float]:
    """Rates on one fresh store: the demo shop, then `count` new reviews, then the same reviews edited; and the
    memory the new reviews added (KB per review)."""
    _connect(data_dir)
    shipped = demo.dataset()
    size = sum(len(reviews) for reviews in shipped["reviews"].values())
    start = time.perf_counter()
    state = ServiceState()
    demo.load(state, NOW)
    rates = {"demo": size / (time.perf_counter() - start)}
    rates["insert"] = _timed(state, _records("r", count, 0))
    rates["edit"] = _timed(state, _records("r", count, 1))
    store.disconnect()
    return rates


def _resident(data_dir: str) -> int:
    """VmRSS (KB) of this process after opening `data_dir` as `reviews serve` does and reading a first page."""
    _connect(data_dir)
    store.warm_up()
    _first_page()
    rss = _rss_kb()
    store.disconnect()
    return rss


def _size(data_dir: str) -> int:
    """Bytes of the files in a data directory (after a checkpoint: the write-ahead logs emptied)."""
    total = 0
    for root, _, files in os.walk(data_dir):
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(("-wal", "-shm", ".lock")):
                with sqlite3.connect(path) as connection:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            total += os.path.getsize(path)
    return total


def _apart(function: Any, *args: Any) -> Any:
    """`function(*args)` in a fresh process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _writer(data_dir: str, prefix: str, count: int) -> None:
    _connect(data_dir)
    _timed(ServiceState(), _records(prefix, count, 0))
    store.disconnect()


def _together(data_dir: str, writers: int, count: int) -> float:
    """Total reviews/s of `writers` processes, each ingesting `count` of its own into one data directory."""
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(data_dir, f"w{n}", count)) for n in range(writers)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=600)
        assert proc.exitcode == 0
    return writers * count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-embedded-") as where:
        disk = _one_store(os.path.join(where, "alone"), args.reviews)
        memory = _one_store(":memory:", args.reviews)
        demo_only = os.path.join(where, "demo")
        _connect(demo_only)
        demo.load(ServiceState(), NOW)
        store.disconnect()
        kb = (_apart(_resident, os.path.join(where, "alone")) - _apart(_resident, demo_only)) / args.reviews
        disk_kb = (_size(os.path.join(where, "alone")) - _size(demo_only)) / 1024 / args.reviews
        shared = os.path.join(where, "shared")
        _connect(shared)
        demo.load(ServiceState(), NOW)
        store.disconnect()
        together = _together(shared, args.writers, args.reviews // args.writers)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"| {'measure':<40} | {'on disk':>14} | {'in memory':>14} |")
    print(f"|{'-' * 42}|{'-' * 16}|{'-' * 16}|")
    for key, name in (
        ("demo", "demo shop load"),
        ("insert", f"{args.reviews:,} new reviews"),
        ("edit", "the same edited"),
    ):
        print(f"| {name:<40} | {disk[key]:>10,.0f} r/s | {memory[key]:>10,.0f} r/s |")
    name = f"{args.writers} processes, {args.reviews // args.writers:,} each"
    print(f"| {name:<40} | {together:>10,.0f} r/s | {'-':>14} |")
    name = "data directory per review (with its indexes)"
    print(f"| {name:<40} | {disk_kb:>11,.2f} KB | {'-':>14} |")
    name = "memory a process holds per review"
    print(f"| {name:<40} | {kb:>11,.2f} KB | {'all of them':>14} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

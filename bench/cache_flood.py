"""Widget cache flood: junk values of known parameters against the demo shop, in-process over ASGI.

    python -m bench.cache_flood [--junk 2000 --junk 30000] [--every 100]

For each flood size: junk requests (locale=x1.., theme=t1.., frame=f1.., data.json with an unknown
sku each) go through the whole app (the widget fast path included), with the shop's real badge
requested every `--every` junk requests as a page view would. Prints one table: cache entries
and bytes before/after, RSS growth, how often the real badge was a hot-path hit, the time per junk
request, and the hot-path cost of a real badge lookup. Target (issue 8): after 2,000 junk requests
the real badge is still a hit, and the cache does not grow with junk.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sys
import time
import timeit
from datetime import UTC, datetime
from functools import partial

import httpx

from reviews_service import demo, store
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from widgets import service

BU = "flinders-nl"
BADGE, REAL = f"/widgets/{BU}/badge.html", "locale=nl"
SKU = "hay-about-a-chair-aac22-oak"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _junk(n: int) -> str:
    return (
        f"{BADGE}?locale=x{n}",
        f"{BADGE}?locale=nl&theme=t{n}",
        f"{BADGE}?locale=nl&frame=f{n}",
        f"/widgets/{BU}/data.json?locale=nl&badge=1&skus={SKU},junk-{n}",
    )[n % 4]


def _hit(state: ServiceState) -> bool:
    return service.lookup(state, BADGE, REAL.encode()) is not None


async def _flood(state: ServiceState, client: httpx.AsyncClient, junk: int, every: int) -> tuple[int, int, float]:
    hits = touches = 0
    start = time.perf_counter()
    for n in range(junk):
        assert (await client.get(_junk(n))).status_code == 200
        if n % every == every - 1:
            touches += 1
            hits += _hit(state)
            assert (await client.get(f"{BADGE}?{REAL}")).status_code == 200
    return hits, touches, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junk", type=int, action="append", help="junk requests per run (repeatable)")
    parser.add_argument("--every", type=int, default=100, help="a real badge view every N junk requests")
    args = parser.parse_args(argv)
    sizes = args.junk or [2000, 30000]
    settings = Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=":memory:", MONGODB_URL=None)  # type: ignore[call-arg]
    store.connect(settings)
    state = ServiceState()
    demo.load(state, datetime.now(UTC))
    app = create_app(settings, connect=False, state=state)
    transport = httpx.ASGITransport(app=app)
    rows = []

    async def run() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            for junk in sizes:
                state.widgets.clear()
                assert (await client.get(f"{BADGE}?{REAL}")).status_code == 200
                gc.collect()
                entries, size, rss = len(state.widgets._entries), getattr(state.widgets, "bytes", None), _rss_mb()
                hits, touches, elapsed = await _flood(state, client, junk, args.every)
                gc.collect()
                lookup_ns = min(timeit.repeat(partial(_hit, state), number=20_000, repeat=5)) / 20_000 * 1e9
                after = getattr(state.widgets, "bytes", None)
                rows.append((junk, entries, len(state.widgets._entries), size, after, _rss_mb() - rss,
                             f"{hits}/{touches}", _hit(state), elapsed / junk * 1e6, lookup_ns))  # fmt: skip

    asyncio.run(run())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, embedded store")
    print("| junk requests | entries before -> after | cache MB after | RSS growth MB | real badge hits | "
          "badge hit at end | µs per junk request | hot-path lookup ns |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|:---:|---:|---:|")
    for junk, before, after, _size, size_after, rss, hits, hit_end, per, lookup in rows:
        mb = "n/a" if size_after is None else f"{size_after / 1e6:.2f}"
        print(f"| {junk:,} | {before} -> {after:,} | {mb} | {rss:+.1f} | {hits} | {'yes' if hit_end else 'NO'} | "
              f"{per:,.0f} | {lookup:,.0f} |")  # fmt: skip
    return 0 if all(r[7] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

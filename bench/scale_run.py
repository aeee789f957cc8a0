"""One cell column of bench/scale.py: one store at one size, in its own process, one JSON line per measurement.

    python -m bench.scale_run --size 100000 [--big 100000] [--edits 1000] [--budget-seconds 300]

The store is whatever `store.connect` makes of the environment (no MONGODB_URL; REVIEWS_DATA_DIR chosen by the
parent). Each measurement prints {"step": ..., "start": true} before and {"step": ..., "value": ...} after, so the
parent can stop a step that runs past its budget and still show the others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.ingest import TOKEN, _peak_rss_mb
from bench.scale_data import BIG, NOW, Generator, Layout, layout, profile, sku
from reviews_service import ingest, store
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState

AUTH = {"Authorization": f"Bearer {TOKEN}"}
Work = Callable[[], Awaitable[dict[str, Any]] | dict[str, Any]]
Step = Callable[[str, Work], Awaitable[bool]]
REPEATS = 5  # uncached reads, each after an edit that invalidates what it reads
WARM_CALLS = 200
SAMPLING_SECONDS = 20  # enough samples of a fast read; a slow one's median comes from fewer


def emit(step: str, **fields: Any) -> None:
    """One line for the parent, flushed at once (it may stop this process at any moment)."""
    print(json.dumps({"step": step, **fields}), flush=True)


class Run:
    """The data of one size in one store, and the measurements made on it."""

    def __init__(
        self, client: httpx.AsyncClient, state: ServiceState, shape: Layout, gen: Generator, budget: float, edits: int
    ) -> None:
        self.client, self.layout, self.gen, self.budget, self.edits = client, shape, gen, budget, edits
        self.state = state  # the app's: the direct ingest calls invalidate what its requests cached
        self.rng = random.Random(9)
        self.edit_round = 1
        self.stored = 0

    async def setup(self) -> None:
        """Business units and catalogues through the admin API (not timed)."""
        for slug, products in self.layout.products.items():
            unit = {"slug": slug, "name": f"Bench {slug}", "display_scale": 5}
            (await self.client.post("/v1/admin/business-units", json=unit, headers=AUTH)).raise_for_status()
            for start in range(0, products, 5000):
                batch = [
                    {"sku": sku(i), "name": f"Product {i}", "brand": "Bench", "url": f"https://shop.example/p/{i}"}
                    for i in range(start, min(start + 5000, products))
                ]
                url = f"/v1/admin/business-units/{slug}/products"
                (await self.client.post(url, json=batch, headers=AUTH)).raise_for_status()

    def first_import(self) -> dict[str, Any]:
        """Every review through reviews_service.ingest, 2,000 a call; stops at the budget and says how far it got."""
        done, spent, deadline = 0, 0.0, time.monotonic() + self.budget
        for slug, count in self.layout.units.items():
            for batch in self.gen.batches(slug, count, self.layout.products[slug]):
                start = time.perf_counter()  # generating the batch is not the service's work
                report = ingest.ingest(self.state, slug, batch, now=NOW, default_source="bench")
                spent += time.perf_counter() - start
                assert not report.rejected, report.rejected[:3]
                done += report.inserted
                self.stored = done
                if time.monotonic() > deadline and done < self.layout.total:
                    return {"value": done / spent, "timeout": True, "done": done}
        return {"value": done / spent}

    def edit(self, count: int, product: str | None = "any") -> float:
        """Change the rating and text of `count` reviews of the big unit (of `product` if given); seconds spent."""
        products = self.layout.products[BIG]
        if product == "any":  # distinct reviews: one batch never edits the same review twice
            picked = self.rng.sample(range(self.layout.units[BIG]), count)
            records = [self.gen.record(BIG, i, products, self.edit_round) for i in picked]
        else:
            records = []
            while len(records) < count:
                record = self.gen.record(BIG, self.rng.randrange(self.layout.units[BIG]), products, self.edit_round)
                if record["product"] == product:
                    records.append(record)
        self.edit_round += 1
        start = time.perf_counter()
        report = ingest.ingest(self.state, BIG, records, now=NOW, default_source="bench")
        elapsed = time.perf_counter() - start
        assert report.updated + report.unchanged == count and not report.rejected, report
        return elapsed

    def edits_rate(self) -> dict[str, Any]:
        """Edited reviews re-ingested 250 at a time until --edits are done or the budget is spent."""
        total, spent, deadline = 0, 0.0, time.monotonic() + self.budget
        while total < self.edits:
            chunk = min(250, self.edits - total)
            spent += self.edit(chunk)
            total += chunk
            if time.monotonic() > deadline and total < self.edits:
                return {"value": total / spent, "timeout": True, "done": total}
        return {"value": total / spent}

    async def get_ms(self, url: str) -> float:
        """One GET through the whole app, in milliseconds."""
        start = time.perf_counter()
        response = await self.client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        return elapsed

    async def uncached(self, url: Callable[[], str], product: str | None = "any") -> dict[str, Any]:
        """Median of GETs each made right after an edit, which every cache of what it reads must drop."""
        timings: list[float] = []
        deadline = time.monotonic() + min(self.budget / 2, SAMPLING_SECONDS)
        while len(timings) < REPEATS and (not timings or time.monotonic() < deadline):
            self.edit(1, product)
            timings.append(await self.get_ms(url()))
        return {"value": statistics.median(timings), "samples": len(timings)}

    async def warm(self, url: str) -> dict[str, Any]:
        """Median of the same GET repeated with nothing written in between."""
        await self.get_ms(url)
        timings: list[float] = []
        deadline = time.monotonic() + min(self.budget / 2, SAMPLING_SECONDS)
        while len(timings) < WARM_CALLS and (not timings or time.monotonic() < deadline):
            timings.append(await self.get_ms(url))
        return {"value": statistics.median(timings), "samples": len(timings)}

    def skus_param(self) -> str:
        """24 skus of the big unit, popular and rare ones, a new draw each call (a page the cache has not seen)."""
        products = self.layout.products[BIG]
        return ",".join(sorted(sku(i) for i in self.rng.sample(range(products), min(24, products))))

    async def export(self) -> dict[str, Any]:
        """The big unit's whole JSON-LD export, streamed; products/s."""
        lines, start = 0, time.perf_counter()
        async with self.client.stream("GET", f"/seo/{BIG}/export.ndjson") as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                lines += bool(line)
        assert lines == self.layout.products[BIG], lines
        return {"value": lines / (time.perf_counter() - start)}

    def rebuild(self) -> dict[str, Any]:
        """The nightly job: every unit's summaries recomputed from the reviews; seconds."""
        start = time.perf_counter()
        result = ingest.rebuild_summaries(self.state, None, now=NOW)
        elapsed = time.perf_counter() - start
        assert result["reviews_counted"] > 0 and not result["differed"], result["differed"][:3]
        return {"value": elapsed}


async def measure(run: Run, baseline: float) -> None:
    """Every step in order, each announced before it starts."""
    page = f"/v1/business-units/{BIG}/reviews"
    top = sku(0)

    async def step(name: str, work: Work) -> bool:
        emit(name, start=True)
        result = work()
        fields = await result if not isinstance(result, dict) else result
        emit(name, **fields)
        return not fields.get("timeout")

    async def setup() -> dict[str, Any]:
        await run.setup()
        return {"value": 0}

    await steps(step, setup, run, page, top)
    peak = _peak_rss_mb()  # also after a step ran out of time: what the reviews stored so far cost
    emit("memory", value=peak - baseline, peak=peak, reviews=run.stored, complete=run.stored == run.layout.total)


async def steps(step: Step, setup: Work, run: Run, page: str, top: str) -> None:
    """The measurements in order; one out of time ends the run (the later ones would measure other data)."""
    if not await step("setup", setup) or not await step("import", run.first_import):
        return
    if not await step("edits", run.edits_rate):
        return
    await step("page", lambda: run.uncached(lambda: page, None))  # the list shows the shop's own reviews
    await step("page_warm", lambda: run.warm(page))
    await step("summary", lambda: run.uncached(lambda: f"/v1/business-units/{BIG}/products/{top}/summary", top))
    await step("data_json", lambda: run.uncached(lambda: f"/widgets/{BIG}/data.json?skus={run.skus_param()}"))
    await step("export", run.export)
    await step("rebuild", run.rebuild)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--budget-seconds", type=float, default=300)
    args = parser.parse_args(argv)
    shape = layout(args.size, args.big, args.units)
    gen = Generator(profile())
    # big bodies: the catalogues go through the admin API in batches of 5,000 products
    settings = Settings(
        REVIEWS_ENV="test", REVIEWS_ADMIN_TOKEN=TOKEN, MONGODB_URL=None, REVIEWS_MAX_JSON_BODY_BYTES=16 * 1024 * 1024
    )
    info = store.connect(settings)
    emit("store", description=info.description, profile=gen.shape.source, units=len(shape.units))
    baseline = _peak_rss_mb()
    app = create_app(settings, connect=False)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as client:
            await measure(
                Run(
                    client, app.state.service_state, shape, gen, args.budget_seconds, min(args.edits, shape.units[BIG])
                ),
                baseline,
            )

    asyncio.run(go())
    store.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())

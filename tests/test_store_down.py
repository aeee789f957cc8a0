"""Stopping the store under a running service: public reads answer stale, writes 503, /ready says why, and it all
recovers by itself when the store comes back.

A real `reviews serve` on the embedded store in a temporary data directory; another process (tests/store_blocker.py)
takes the locks of the store's files, as a stuck process or another program holding the SQLite files would, and
releases them by stopping. Nothing in the service is stubbed. With MONGODB_URL the same is stopping mongod, which
these tests cannot do to a server they did not start: see the README ("When the database is down") for the
`docker compose stop mongo` drill.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from reviews_service.outage import LastServed
from reviews_service.state import ServiceState
from tests.conftest import LIVE_ADMIN_TOKEN, review, serving

ADMIN = {"Authorization": f"Bearer {LIVE_ADMIN_TOKEN}"}
BU = "flinders-nl"  # the demo shop `reviews serve` loads into an empty store
PUBLIC = [
    f"/widgets/{BU}/badge.html",
    f"/widgets/{BU}/products/oak-chair/stars.html",
    f"/widgets/{BU}/reviews.html?limit=3",
    f"/widgets/{BU}/data.json?skus=oak-chair",
    f"/v1/business-units/{BU}/summary",
    f"/v1/business-units/{BU}/products/oak-chair/summary",
    f"/seo/{BU}/products/oak-chair.jsonld",
    f"/seo/{BU}/organization.jsonld",
]
LOCK_WAIT = 10.0  # embedded.LOCK_WAIT: what a write waits for a store held elsewhere before its 503


def until(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll `condition` every 0.2 s until it returns something truthy; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(0.2)


class Blocker:
    """tests/store_blocker.py in a subprocess: holds the store's locks from start() until stop()."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir, self.args = data_dir, args
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Take the locks (returns once they are held)."""
        command = [sys.executable, "-m", "tests.store_blocker", str(self.data_dir), *self.args]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the blocker's own bound: TRIES x 5 ms per lock
        assert line.startswith("held"), line + self.proc.stdout.read()

    def stop(self) -> None:
        """Release them (the process ends; the kernel drops its locks)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """`reviews serve` (demo shop, in-process scheduler) on a data directory of its own, and an HTTP client."""
    data = tmp_path / "data"
    with (
        serving(tmp_path / "serve.log", REVIEWS_DATA_DIR=str(data), REVIEWS_ADMIN_TOKEN=LIVE_ADMIN_TOKEN) as (url, _),
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        until(lambda: http.get("/ready").status_code == 200, 30, "/ready answering 200 once the scheduler beat")
        yield http, data


def test_reads_answer_stale_writes_503_and_all_recovers_without_a_restart(
    service: tuple[httpx.Client, Path],
) -> None:
    """The whole store unavailable (reads and writes), then back, under one running `reviews serve`."""
    http, data = service
    fresh = {path: http.get(path) for path in PUBLIC}  # warm: the bytes each answer last served
    for path, answer in fresh.items():
        assert answer.status_code == 200, (path, answer.text)
        assert "x-reviews-stale" not in answer.headers, path
    blocker = Blocker(data)
    blocker.start()
    try:
        not_ready = until(
            lambda: (r := http.get("/ready")).status_code == 503 and r.json()["checks"]["store"]["ok"] is False and r,
            60,
            "/ready turning 503 for the store",
        )
        body = not_ready.json()
        assert body["status"] == "not-ready"
        assert body["checks"]["store"]["error"]  # why, in words (SQLite's "locking protocol", or no answer in 2 s)
        assert "scheduler" in body["checks"]
        assert not_ready.headers["retry-after"]

        for path in PUBLIC:
            started = time.monotonic()
            stale = http.get(path)
            assert stale.status_code == 200, (path, stale.text)
            assert stale.content == fresh[path].content, path  # the very bytes served before
            assert stale.headers["x-reviews-stale"] == "store-unavailable", path
            assert int(stale.headers["age"]) >= 0, path
            assert "revalidation failed" in stale.headers["warning"].lower(), path
            assert stale.headers["cache-control"] == "public, max-age=10", path
            assert stale.headers["etag"] == fresh[path].headers["etag"], path
            assert time.monotonic() - started < 2, path  # no waiting for the store: it is known to be down
            revalidated = http.get(path, headers={"If-None-Match": fresh[path].headers["etag"]})
            assert revalidated.status_code == 304, path

        never_served = http.get(f"/widgets/{BU}/reviews.html?limit=7")
        assert never_served.status_code == 503
        assert never_served.headers["content-type"] == "application/problem+json"
        assert never_served.headers["retry-after"]

        pop_up = {"slug": "pop-up-store", "name": "Pop-up"}
        refused = http.post("/v1/admin/business-units", json=pop_up, headers=ADMIN)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        assert refused.json()["title"] == "Database unavailable"
        ingest = [review("down-1", rating=1)]
        refused = http.post(f"/v1/admin/business-units/{BU}/reviews", json=ingest, headers=ADMIN)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"]
    finally:
        blocker.stop()

    until(lambda: http.get("/ready").status_code == 200, 60, "/ready turning 200 again after the store came back")
    for path in PUBLIC:
        again = until(
            lambda path=path: (r := http.get(path)).status_code == 200 and "x-reviews-stale" not in r.headers and r,
            30,
            f"{path} answering fresh again",
        )
        assert again.content == fresh[path].content, path  # nothing was written meanwhile
    assert http.get("/v1/admin/business-units/pop-up-store", headers=ADMIN).status_code == 404  # nothing stored
    summary = http.get(f"/v1/business-units/{BU}/summary").json()
    assert summary["review_count"] == fresh[f"/v1/business-units/{BU}/summary"].json()["review_count"]

    created = http.post("/v1/admin/business-units", json={"slug": "pop-up-store", "name": "Pop-up"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    ingested = http.post(f"/v1/admin/business-units/{BU}/reviews", json=ingest, headers=ADMIN)
    assert ingested.status_code == 200, ingested.text
    counted = until(
        lambda: (
            (r := http.get(f"/v1/business-units/{BU}/summary")).json()["review_count"] > summary["review_count"] and r
        ),
        10,
        "the summary counting the review written after the store came back",
    )
    assert "x-reviews-stale" not in counted.headers


def test_a_write_lock_held_elsewhere_is_a_503_in_bounded_time_not_a_hang(service: tuple[httpx.Client, Path]) -> None:
    """Another process keeps write.lock (stuck mid-write, say): reads stay fresh, a write gives up after LOCK_WAIT
    with 503 and wrote nothing, and writes work again once the lock is free."""
    http, data = service
    blocker = Blocker(data, "--writes")
    blocker.start()
    try:
        started = time.monotonic()
        refused = http.post("/v1/admin/business-units", json={"slug": "held-up", "name": "Held up"}, headers=ADMIN)
        took = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"]
        assert LOCK_WAIT - 1 < took < LOCK_WAIT + 15, took  # bounded: today it waited for as long as the lock was held
        read = http.get(f"/v1/business-units/{BU}/summary")
        assert read.status_code == 200
    finally:
        blocker.stop()
    assert http.get("/v1/admin/business-units/held-up", headers=ADMIN).status_code == 404
    created = http.post("/v1/admin/business-units", json={"slug": "held-up", "name": "Held up"}, headers=ADMIN)
    assert created.status_code == 201, created.text


def test_a_known_change_drops_the_last_answers_so_an_outage_never_brings_old_ones_back(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    """A stale answer is one nobody could check, never one known to be out of date: after a write to the unit, an
    outage gives 503 rather than the figures from before the write."""
    path = "/v1/business-units/test-shop/summary"
    before = client.get(path)
    assert before.status_code == 200
    state.store_health.failed("a drill")
    assert client.get(path).headers["x-reviews-stale"] == "store-unavailable"
    state.store_health.ok()
    assert client.post("/v1/admin/business-units/test-shop/reviews", json=[review("r1", 1)], headers=admin).is_success
    state.store_health.failed("a drill")
    after = client.get(path)
    assert after.status_code == 503
    assert after.headers["retry-after"]
    assert after.headers["content-type"] == "application/problem+json"


def test_the_last_answers_are_bounded_in_bytes_and_count() -> None:
    """However many distinct URLs are asked for, what is kept for an outage stays under its bounds."""
    kept: LastServed[bytes] = LastServed(maxsize=100, max_bytes=50_000, size_of=len)
    for n in range(1_000):
        kept.record(("shop", "/widgets/shop/badge.html", f"v={n}".encode()), b"x" * 1_000, kept.generation("shop"))
    assert len(kept) <= 50 and kept.bytes <= 50_000
    assert kept.get(("shop", "/widgets/shop/badge.html", b"v=999")) is not None  # the latest are the ones kept
    assert kept.get(("shop", "/widgets/shop/badge.html", b"v=0")) is None

"""While the store is known to be down (StoreHealth says so), in one process: what answers at once and how.

The outage is told to the instance's StoreHealth as the poller or a failing request would; the store itself
stays up, so a request that did ask it would answer fresh (and these tests would see it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pymongo.errors import AutoReconnect

from reviews_service import domain, logs, repository, store
from reviews_service.app import create_app
from reviews_service.outage import LastServed
from reviews_service.poller import ChangePoller
from reviews_service.readiness import PROBE_SECONDS
from reviews_service.state import ServiceState
from tests.conftest import free_port, make_settings, review
from widgets.service import size_of


def test_junk_widget_names_during_an_outage_are_404s_and_add_no_metric_series(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit
) -> None:
    assert client.get(f"/widgets/{shop.slug}/badge.html").status_code == 200
    state.store_health.failed("test: the store is down")
    for i in range(20):
        answer = client.get(f"/widgets/{shop.slug}/junk{i}.html")
        assert answer.status_code == 404, answer.text
        assert "x-reviews-stale" not in answer.headers
    assert client.get(f"/widgets/{shop.slug}/badge.html").headers["x-reviews-stale"] == "store-unavailable"
    state.store_health.ok()
    exposition = client.get("/metrics").text
    assert "junk" not in exposition
    routes = {line.split('route="')[1].split('"')[0] for line in exposition.splitlines() if 'route="' in line}
    assert routes <= {"/widgets/{bu}/badge.html", "unmatched", "/metrics"}, routes


def test_a_message_with_a_newline_is_one_text_line() -> None:
    forged = "GET /widgets/shop/x\nINFO reviews.access: GET /admin 200 forged"
    record = logging.LogRecord("reviews.api", logging.WARNING, "", 0, "not found: %s", (forged,), None)
    text = logs.TextFormatter().format(record)
    assert text == "WARNING reviews.api: not found: GET /widgets/shop/x\\nINFO reviews.access: GET /admin 200 forged"
    assert "\n" not in text


INGEST = "/v1/admin/business-units/test-shop/reviews"
PAGE = "/reviews/test-shop/review/test-shop:api:x1"
STALL = 3.0  # what each read of a review waits in these tests: a store that stalls (a 10 s wait, shortened)


@contextmanager
def served(state: ServiceState) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 (uvicorn in a thread), sharing `state`: real concurrent requests."""
    server = uvicorn.Server(uvicorn.Config(create_app(make_settings(), connect=False, state=state), port=free_port()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _stalled_review_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    real = repository.get_review

    def stalled(review_id: str) -> domain.Review:
        time.sleep(STALL)
        return real(review_id)

    monkeypatch.setattr(repository, "get_review", stalled)


def _flood(base: str, path: str, count: int, headers: dict[str, str] | None = None) -> list[tuple[int, float]]:
    """`count` GETs of `path` at once; each one's status and seconds."""
    with httpx.Client(base_url=base, headers=headers, timeout=30, limits=httpx.Limits(max_connections=count)) as http:

        def one(_: int) -> tuple[int, float]:
            started = time.monotonic()
            status = http.get(path).status_code
            return status, time.monotonic() - started

        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))


def test_a_review_page_during_an_outage_is_a_503_at_once_and_ready_keeps_its_bound(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit, admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    assert client.post(INGEST, json=[review("x1")], headers=admin).json()["inserted"] == 1
    _stalled_review_reads(monkeypatch)

    def stalled_ping() -> None:
        time.sleep(STALL)
        raise AutoReconnect("test: the store is down")

    monkeypatch.setattr(store, "ping", stalled_ping)  # /ready's read, and the poller's looks, find it down too
    monkeypatch.setattr(ChangePoller, "start", lambda self: None)  # no look that finds the store up again
    client.app.state.change_poller.stop()  # type: ignore[attr-defined]
    state.store_health.failed("test: the store is down")
    with served(state) as base, ThreadPoolExecutor(1) as side:
        flood = side.submit(_flood, base, PAGE, 30)
        started = time.monotonic()
        ready = httpx.get(base + "/ready", timeout=30)
        assert time.monotonic() - started < PROBE_SECONDS + 1.0
        assert ready.status_code == 503, ready.text
        answers = flood.result(timeout=30)
    assert {status for status, _ in answers} == {503}
    assert max(seconds for _, seconds in answers) < 1.0, answers


def test_ready_answers_in_time_while_every_request_thread_waits_for_the_store(
    state: ServiceState, shop: domain.BusinessUnit, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stalled_review_reads(monkeypatch)  # admin reads keep asking the store: they fill the request threads
    with served(state) as base, ThreadPoolExecutor(1) as side:
        flood = side.submit(_flood, base, "/v1/admin/reviews/test-shop:api:none", 60, admin)
        time.sleep(0.5)  # all of them in, holding the pool's 40 threads
        started = time.monotonic()
        ready = httpx.get(base + "/ready", timeout=30)
        assert time.monotonic() - started < 1.0, ready.text  # the store answers: no need to wait for its bound
        flood.result(timeout=30)


def test_during_an_outage_pages_without_the_store_answer_and_summaries_go_stale(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit
) -> None:
    stale = [f"/v1/business-units/{shop.slug}/summary", f"/seo/{shop.slug}/organization.jsonld"]
    for path in stale:
        assert client.get(path).status_code == 200
    client.app.state.change_poller.stop()  # type: ignore[attr-defined]  # no look that ends the outage
    state.store_health.failed("test: the store is down")
    for path in stale:
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["x-reviews-stale"] == "store-unavailable", path
    for path in ("/", "/health", "/docs", "/favicon.svg", "/widgets/loader.js"):
        assert client.get(path).status_code == 200, path
    down = client.get(f"/v1/business-units/{shop.slug}/reviews")
    assert down.status_code == 503 and down.headers["retry-after"] == "5"


def test_cache_busters_do_not_push_the_outage_copies_out(
    client: TestClient, state: ServiceState, shop: domain.BusinessUnit
) -> None:
    # small bounds, so that a few dozen spellings do what 5,000 do to the real ones (4,000 and 2,000 entries)
    state.last_widgets = LastServed(20, 1 << 20, size_of)
    state.last_answers = LastServed(20, 1 << 20, lambda answer: answer.size)
    real = [
        f"/widgets/{shop.slug}/badge.html",
        f"/widgets/{shop.slug}/reviews.html?limit=3&locale=nl",
        f"/v1/business-units/{shop.slug}/summary",
        f"/seo/{shop.slug}/organization.jsonld",
        f"/seo/{shop.slug}/products/oak-chair.jsonld",
    ]
    for path in real:
        assert client.get(path).status_code == 200, path
    for i in range(60):
        for path in real:
            assert client.get(f"{path}{'&' if '?' in path else '?'}utm_source={i}").status_code == 200
    client.app.state.change_poller.stop()  # type: ignore[attr-defined]  # no look that ends the outage
    state.store_health.failed("test: the store is down")
    state.widgets.clear()  # what an outage answers widgets with: their last copies, not the widget cache
    for path in real:
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["x-reviews-stale"] == "store-unavailable", path

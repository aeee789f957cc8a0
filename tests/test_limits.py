"""Hostile requests against real servers on 127.0.0.1: trickling pages, floods of slow validations, rates per
client, and big chunked bodies with and without a token. Every loop is bounded in count and time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bench.hostile import TOKEN, Server
from reviews_service import store
from reviews_service.app import create_app
from reviews_service.limits import RateLimiter
from tests.conftest import local_http_server, make_settings

ROOT = Path(__file__).resolve().parents[1]
TRICKLE_FOR = 40.0  # seconds a trickling answer would last if nobody cut it off


class _Trickle(BaseHTTPRequestHandler):
    """/body: headers at once, then one byte every 0.5 s; /head: the status line itself one byte at a time."""

    def do_GET(self) -> None:
        stop = time.monotonic() + TRICKLE_FOR
        try:
            if self.path == "/head":
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" * 20:
                    if time.monotonic() > stop:
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            while time.monotonic() < stop:
                self.wfile.write(b"<")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:  # the validator hung up: what we want
            return

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def trickle() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers very slowly."""
    with local_http_server(_Trickle) as url:
        yield url


def _client(connected: store.StoreInfo, **settings: str) -> TestClient:
    return TestClient(create_app(make_settings(**settings), connect=False))


def test_a_trickling_page_is_cut_off_at_the_deadline(connected: store.StoreInfo, trickle: str) -> None:
    settings = {"REVIEWS_VALIDATE_PRIVATE_URLS": "true", "REVIEWS_VALIDATE_FETCH_SECONDS": "1.5"}
    with _client(connected, **settings) as client:
        for path in ("/body", "/head"):
            start = time.monotonic()
            answer = client.post("/seo/validate", json={"url": f"{trickle}{path}"})
            assert time.monotonic() - start < 5, path
            assert answer.status_code == 422 and "within 1.5 s" in answer.json()["detail"], answer.text


def test_slow_validations_never_starve_other_routes(trickle: str) -> None:
    """45 validations of a trickling page at once: 4 fetch, the rest are told to retry; /health and a summary
    keep answering fast meanwhile, and every validation is over within its deadline."""
    server = Server(
        ROOT,
        REVIEWS_VALIDATE_PRIVATE_URLS="true",
        REVIEWS_VALIDATE_FETCH_SECONDS="6",
        REVIEWS_PUBLIC_POSTS_PER_MINUTE="0",
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.post("/v1/admin/business-units", json={"slug": "shop", "name": "Shop"}, headers=auth)
            summary = "/v1/business-units/shop/summary"
            assert client.get(summary).status_code == 200

            def validate(_: int) -> tuple[int, str | None, float]:
                start = time.monotonic()
                answer = httpx.post(f"{server.url}/seo/validate", json={"url": f"{trickle}/body"}, timeout=30)
                return answer.status_code, answer.headers.get("retry-after"), time.monotonic() - start

            with ThreadPoolExecutor(max_workers=45) as pool:
                running = pool.map(validate, range(45))
                time.sleep(1)  # let them all arrive
                slowest = 0.0
                for _ in range(10):
                    for path in ("/health", summary):
                        start = time.monotonic()
                        assert client.get(path).status_code == 200
                        slowest = max(slowest, time.monotonic() - start)
                    time.sleep(0.1)
                results = list(running)
        assert slowest < 3.0, f"a read took {slowest:.2f} s while validations were running"
        statuses = [status for status, _, _ in results]
        # 4 at a time: a place frees up only when a fetch hits its 6 s deadline, after (nearly) all have arrived
        assert 4 <= statuses.count(422) <= 8 and statuses.count(422) + statuses.count(503) == 45, statuses
        assert all(retry == "5" for status, retry, _ in results if status == 503)
        assert max(seconds for _, _, seconds in results) < 20  # the trickle lasts 40 s
    finally:
        server.stop()


def test_public_posts_are_limited_per_client_address(connected: store.StoreInfo) -> None:
    page = {"content": b"<p>hello</p>", "headers": {"Content-Type": "text/html"}}
    with _client(connected, REVIEWS_PUBLIC_POSTS_PER_MINUTE="3") as client:
        assert [client.post("/seo/validate", **page).status_code for _ in range(3)] == [200] * 3  # type: ignore[arg-type]
        refused = client.post("/seo/validate", **page)  # type: ignore[arg-type]
        assert refused.status_code == 429 and refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert client.get("/health").status_code == 200  # reads are not limited
    other = TestClient(client.app, client=("192.0.2.7", 4000))
    assert other.post("/seo/validate", **page).status_code == 200  # type: ignore[arg-type]


def test_the_rate_limiter_refills_and_forgets_the_least_recent_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clients=2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(30.0)  # one token per 30 s
    now[0] = 30.0
    assert limiter.take("a") == 0.0
    limiter.take("b")
    limiter.take("c")  # "a" is the least recently seen: forgotten, so it starts full again
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert RateLimiter(per_minute=0).take("anyone") == 0.0  # 0 turns the limit off


@pytest.fixture(scope="module")
def body_server() -> Iterator[Server]:
    """One `reviews serve` for the upload tests (its RSS is what they watch)."""
    server = Server(ROOT)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("path", "token", "status", "most_mb"),
    [
        ("/v1/admin/business-units", False, 401, 8),  # a JSON route: before, 400 MB were read before the 401
        ("/v1/admin/business-units/x/imports", False, 401, 8),
        ("/v1/admin/business-units", True, 413, 16),  # admin JSON: 2 MB
        ("/v1/admin/tokens", True, 413, 16),
        ("/seo/validate", False, 413, 16),  # public: a page of 5 MB
        ("/v1/admin/business-units/x/imports", True, 413, 64),  # imports: 32 MB
    ],
)
def test_big_chunked_bodies_are_refused_early_and_memory_stays_flat(
    body_server: Server, path: str, token: bool, status: int, most_mb: int
) -> None:
    """Up to 200 MB streamed without Content-Length: the answer comes early and the server barely grows."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {TOKEN}"} if token else {})
    _, grown_mb, answered, sent = body_server.upload(path, headers, 200 * 1024 * 1024)
    assert answered == status
    assert sent < most_mb * 1024 * 1024, f"{sent / 2**20:.0f} MB were sent before the answer"
    assert grown_mb < 50 + (32 if most_mb > 16 else 0), f"the server grew {grown_mb:.0f} MB"
    assert httpx.get(f"{body_server.url}/health", timeout=5).status_code == 200

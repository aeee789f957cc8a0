"""Shared fixtures: a fresh store per test (embedded, or the MongoDB named by MONGODB_URL), an app, a shop,
and one real `reviews serve` process for the whole session (CLI and browser tests share it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from collectors.registry import REGISTRY
from reviews_service import domain, repository, store
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.collection import Registry
from reviews_service.config import Settings
from reviews_service.state import ServiceState

ADMIN_TOKEN = "test-admin-token-0123456789"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "trustpilot-pet-insurance"
REVIEWS = [sys.executable, "-m", "reviews_service.cli"]
LIVE_ADMIN_TOKEN = "cli-test-admin-token-0123456789"


def make_settings(**overrides: object) -> Settings:
    """Test settings: the bootstrap admin token, the in-memory store, and MONGODB_URL from the environment if set."""
    values: dict[str, object] = {
        "REVIEWS_ENV": "test",
        "REVIEWS_DATA_DIR": ":memory:",
        "REVIEWS_ADMIN_TOKEN": ADMIN_TOKEN,
        "MONGODB_URL": os.environ.get("MONGODB_URL") or None,
        "MONGODB_DB": os.environ.get("MONGODB_DB", "reviews_test"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def _refuse_a_real_database_that_is_not_for_tests() -> None:
    """The suite empties every collection it touches: never let it near a database not named for tests."""
    url = os.environ.get("MONGODB_URL")
    if url:
        database = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] if url.count("/") >= 3 else ""
        if "test" not in database:
            pytest.exit(
                f"MONGODB_URL must name a throw-away database with 'test' in its name "
                f"(e.g. mongodb://127.0.0.1:27017/reviews_test); got {database or 'none'!r}. The suite empties it.",
                returncode=4,
            )


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def connected(settings: Settings) -> Iterator[store.StoreInfo]:
    """A connected, empty store; against a real server every collection is emptied first."""
    info = store.connect(settings)
    store.drop_all()
    yield info
    store.drop_all()
    store.disconnect()


@pytest.fixture
def state() -> ServiceState:
    """The caches, change feed and locks of the test's one service instance: `client`'s app has these too, so
    a test's direct repository and ingest calls go through the same caches as its requests."""
    return ServiceState()


@pytest.fixture
def registry() -> Registry:
    """The collectors `client`'s app knows: the production REGISTRY (a test module may override this fixture)."""
    return REGISTRY


@pytest.fixture
def client(
    settings: Settings, connected: store.StoreInfo, state: ServiceState, registry: Registry
) -> Iterator[TestClient]:
    """The whole app over HTTP (in-process), with the clock pinned at NOW."""
    app = create_app(settings, connect=False, state=state, registry=registry)
    app.dependency_overrides[now_dep] = lambda: NOW
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def shop(connected: store.StoreInfo, state: ServiceState) -> domain.BusinessUnit:
    """A business unit `test-shop` (scale 5) with products oak-chair and walnut-table."""
    unit = domain.BusinessUnit(slug="test-shop", name="Test Shop", domain="shop.example", locales=("nl", "en"))
    repository.save_business_unit(state, unit)
    repository.save_products(
        state,
        [
            domain.Product(business_unit=unit.slug, sku="oak-chair", name="Oak chair", gtin="8712345678906"),
            domain.Product(business_unit=unit.slug, sku="walnut-table", name="Walnut table"),
        ],
    )
    return unit


def review(external_id: str, rating: int = 5, **fields: object) -> dict[str, object]:
    """A valid ingest record with sensible defaults."""
    record: dict[str, object] = {
        "source": "api",
        "external_id": external_id,
        "rating": rating,
        "title": f"Review {external_id}",
        "text": "Mooie stoel, snel geleverd en goed verpakt.",
        "author": "Sanne V.",
        "created_at": "2026-10-01T10:00:00Z",
    }
    record.update(fields)
    return record


def shared_data_or_skip() -> Path:
    """The real Trustpilot data beside the repo, or a skip saying why."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs ../shared/data/trustpilot-pet-insurance (not found at {SHARED_DATA}); CI has it")
    return SHARED_DATA


def _env(**extra: str) -> dict[str, str]:
    """The environment of a `reviews` subprocess: ours without MONGODB_URL (so the embedded store, in memory
    unless `extra` names a REVIEWS_DATA_DIR), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
    env["REVIEWS_DATA_DIR"] = ":memory:"
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """The nginx executable; skipped without one, a failure on CI (where the test setup installs it)."""
    from bench.widgets import find_nginx

    nginx = find_nginx()
    if nginx is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI is set but nginx is not installed: apt-get install -y nginx")
        pytest.skip("nginx is not installed (apt-get install -y nginx); CI=true turns this skip into a failure")
    return nginx


@contextmanager
def local_http_server(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real threaded HTTP server on 127.0.0.1 (a free port) answering with `handler`; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(proc: subprocess.Popen[Any], url: str, timeout: float, what: str, log: Callable[[], str]) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"{what} exited:\n{log()}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer {url} within {timeout:.0f} s:\n{log()}")
        time.sleep(0.1)


def stop_process(proc: subprocess.Popen[Any], grace: float = 20) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def serving(log_path: Path, timeout: float = 90, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `reviews serve` on a free port with `env` added to ours (no MONGODB_URL); yields its base URL and
    process (a test may kill it first). Its output goes to `log_path`, shown if it does not come up."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*REVIEWS, "serve", "--port", str(port), "--log-level", "warning"],
            env=_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(proc, f"{url}/health", timeout, "reviews serve", log_path.read_text)
            yield url, proc
        finally:
            if proc.poll() is None:
                stop_process(proc)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`reviews serve` on the embedded store on disk with the demo shop, as the README's first command runs it.

    One process for the session; the answer is its base URL. Admin token: LIVE_ADMIN_TOKEN. Tests that write
    into it must not assume counts other tests may change (compare with the live API instead).
    """
    where = tmp_path_factory.mktemp("live-server")
    env = {"REVIEWS_ADMIN_TOKEN": LIVE_ADMIN_TOKEN, "REVIEWS_DATA_DIR": str(where / "data")}
    with serving(where / "serve.log", timeout=60, **env) as (url, _):
        yield url

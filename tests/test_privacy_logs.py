"""Reviewers' e-mail addresses never reach a URL or a log line: the API takes them in bodies (no route has one in its
path or query), uvicorn's access log (which logs paths) and our own logs carry none through a whole journey, and
erasure and export read only through `_id` or declared indexes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from reviews_service import documents, domain
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import ADMIN_TOKEN, NOW, free_port, review
from tests.form_helpers import EMAIL, invite
from tests.test_query_shapes import record

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PERSONAL = ("email", "mail", "address", "order_ref", "reviewer_name", "phone")


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def _served(settings: Settings, state: ServiceState) -> Iterator[tuple[str, _Kept]]:
    """The app under uvicorn with its access log on (as `reviews serve --log-level info`), every log line kept."""
    kept = _Kept()
    kept.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(kept)
    root.setLevel(logging.DEBUG)
    # whatever an earlier test configured (a level, a dictConfig that disabled existing loggers, no propagation),
    # every line of these loggers reaches the root here, as it does in `reviews serve`
    names = ("reviews", "reviews.access", "reviews.privacy", "uvicorn", "uvicorn.access", "uvicorn.error")
    saved = {n: (lg.level, lg.disabled, lg.propagate) for n in names for lg in [logging.getLogger(n)]}
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.disabled, logger.propagate = False, True
    app = create_app(settings, connect=False, state=state)
    app.dependency_overrides[now_dep] = lambda: NOW
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="debug", access_log=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", kept
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        root.removeHandler(kept)
        root.setLevel(old_level)
        for name, (level, disabled, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.disabled, logger.propagate = disabled, propagate


def test_a_reviewers_journey_leaves_no_address_in_any_log_line(
    shop: domain.BusinessUnit, settings: Settings, state: ServiceState, capfd: pytest.CaptureFixture[str]
) -> None:
    _, token = invite(settings)
    with _served(settings, state) as (url, kept), httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
        records = [review("a", 4, email=EMAIL, order_ref="ORD-77"), review("b", 9, email=EMAIL)]  # b is refused
        assert http.post("/v1/admin/business-units/test-shop/reviews", json=records).status_code == 200
        order = {"business_unit": "test-shop", "order_ref": "ORD-78", "email": EMAIL, "products": []}
        assert http.post("/v1/admin/invitations", json=order).status_code == 201
        assert http.post(f"/r/{token}", data={"rating": "5", "website": ""}).status_code in (200, 303)
        assert http.post("/v1/admin/reviewers/export", json={"email": EMAIL}).status_code == 200
        assert http.post("/v1/admin/reviewers/erasure", json={"email": EMAIL.upper()}).status_code == 200
        assert http.post("/v1/admin/reviewers/erasure", json={"email": "not an address"}).status_code == 422
    lines = kept.lines + capfd.readouterr().out.splitlines()
    # the access line of the erasure: ours (reviews.access, by route) or uvicorn's, whichever logs it
    access = ("POST /v1/admin/reviewers/erasure 200", '"POST /v1/admin/reviewers/erasure HTTP/1.1" 200')
    assert any(a in line for a in access for line in kept.lines), kept.lines[-5:]
    assert any(line.startswith("reviews.privacy INFO erasure done: reviews 2") for line in kept.lines)
    for line in lines:
        for personal in (EMAIL, "anna.bakker", "ORD-77", "ORD-78", "Bakker"):
            assert personal.lower() not in line.lower(), line


def test_no_route_takes_an_address_in_its_path_or_query(settings: Settings) -> None:
    """What uvicorn's access line holds is the path and query; neither ever has a place for personal data."""
    routes = list(_routes(create_app(settings, connect=False).routes))
    assert {"/v1/admin/reviewers/erasure", "/v1/admin/reviewers/export"} <= {r.path for r in routes}
    for route in routes:
        params = [p.name for p in (*route.dependant.path_params, *route.dependant.query_params)]
        for name in [*params, route.path]:
            assert not any(word in name.lower() for word in PERSONAL), (route.path, name)
    for route in routes:
        if route.path.startswith("/v1/admin/reviewers"):
            assert route.methods == {"POST"} and not route.dependant.query_params


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every API route, including those of included routers (and routes left out of the OpenAPI document)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included router
            yield from _routes(route.original_router.routes)


@pytest.mark.parametrize("call", ["erasure", "export"])
def test_erasure_and_export_read_through_ids_and_declared_indexes(
    shop: domain.BusinessUnit, settings: Settings, state: ServiceState, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    app = create_app(settings, connect=False, state=state)
    with TestClient(app) as client:
        client.post("/v1/admin/business-units/test-shop/reviews", json=[review("a", 1, email=EMAIL)], headers=ADMIN)
        invite(settings)
        collections = [documents.ReviewDoc, documents.InvitationDoc, documents.FlagDoc, documents.PhotoDoc,
                       documents.SuppressionDoc, documents.ErasureDoc]  # fmt: skip
        recorders = {doc.__name__: (doc, record(monkeypatch, doc)) for doc in collections}
        assert client.post(f"/v1/admin/reviewers/{call}", json={"email": EMAIL}, headers=ADMIN).status_code == 200
    for name, (doc, recorder) in recorders.items():
        indexed = _indexed(doc)
        for find in recorder.finds:  # an equality (or `$in`) on `_id` or on a declared index's first field
            pinned = [f for f, v in find.filter.items() if not isinstance(v, dict) or set(v) <= {"$in", "$eq"}]
            assert set(pinned) & (indexed | {"_id"}), (name, find.filter)


def _indexed(doc: Any) -> set[str]:
    """The first field of every index the Document declares (what a query may start its walk on)."""
    return {spec["fields"][0].lstrip("-") for spec in doc._meta.get("indexes", []) if isinstance(spec, dict)} | {
        spec.lstrip("-") for spec in doc._meta.get("indexes", []) if isinstance(spec, str)
    }

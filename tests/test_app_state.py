"""Two app instances in one process on one store, as two replicas: each has its own caches.

A write through one instance shows there at once; the other serves what it cached until its change poller
brings the write over (as it does for another process's write), and resetting one instance's caches leaves the
other's alone. Before the caches were per app, both instances shared one set of module-level caches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reviews_service import documents as docs
from reviews_service import domain
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import WIDGET_GRACE, ServiceState
from tests.conftest import review

SUMMARY = "/v1/business-units/test-shop/summary"
LIST = "/v1/business-units/test-shop/reviews"
BADGE = "/widgets/test-shop/badge.html?locale=nl"
INGEST = "/v1/admin/business-units/test-shop/reviews"


@contextmanager
def two_apps(settings: Settings, *, b_polls: bool) -> Iterator[tuple[TestClient, FastAPI, TestClient, FastAPI]]:
    """Apps A and B on the connected store, both running; with `b_polls=False` B's poller looks only at start-up
    and when the test calls `poll()`, so what B serves meanwhile is its own cache, not a race with its thread."""
    app_a, app_b = create_app(settings, connect=False), create_app(settings, connect=False)
    if not b_polls:
        app_b.state.change_poller.interval = 3600
    with TestClient(app_a) as a, TestClient(app_b) as b:
        yield a, app_a, b, app_b


def _count(client: TestClient) -> int:
    count: int = client.get(SUMMARY).json()["review_count"]
    return count


def _listed(client: TestClient) -> list[str]:
    return [item["id"] for item in client.get(LIST).json()["items"]]


def test_a_write_through_one_instance_reaches_the_other_when_its_poller_looks(
    settings: Settings, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    with two_apps(settings, b_polls=False) as (a, _, b, app_b):
        assert a.post(INGEST, json=[review("r1", 5)], headers=admin).status_code == 200
        before = {"count": 1, "listed": _listed(a), "badge": a.get(BADGE).headers["etag"]}
        for client in (a, b):  # both warm: the summary, the first page and the badge cached in each
            assert (_count(client), _listed(client), client.get(BADGE).headers["etag"]) == tuple(before.values())

        assert (
            a.post(INGEST, json=[review("r2", 1, created_at="2026-10-02T10:00:00Z")], headers=admin).json()["inserted"]
            == 1
        )
        assert _count(a) == 2 and len(_listed(a)) == 2  # at once where it was written
        assert a.get(BADGE).headers["etag"] != before["badge"]
        assert _count(b) == 1  # B serves its own caches: nothing has told it yet
        assert _listed(b) == before["listed"]
        assert b.get(BADGE).headers["etag"] == before["badge"]

        assert app_b.state.change_poller.poll() == ["test-shop"]  # what B's poller thread does every 0.5 s
        assert _count(b) == 2 and _listed(b) == _listed(a)
        # B's widget may answer its last bytes while it renders the new ones, for WIDGET_GRACE at most
        deadline = time.monotonic() + WIDGET_GRACE + 1
        while b.get(BADGE).headers["etag"] != a.get(BADGE).headers["etag"]:
            assert time.monotonic() < deadline, "B's badge did not follow within the grace"
            time.sleep(0.02)


def test_a_hide_on_one_instance_is_gone_from_the_others_widget_within_2_s(
    settings: Settings, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    with two_apps(settings, b_polls=True) as (a, _, b, _app_b):
        assert a.post(INGEST, json=[review("r1", 5), review("r2", 1)], headers=admin).status_code == 200
        shown = b.get(BADGE).headers["etag"]
        assert _count(b) == 2
        hidden = a.patch(
            f"/v1/admin/reviews/{domain.review_id('test-shop', 'api', 'r2')}",
            json={"status": "hidden", "reason": "Spam"},
            headers=admin,
        )
        assert hidden.status_code == 200
        assert _count(a) == 1  # at once where it was written
        deadline = time.monotonic() + 2.0
        while _count(b) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(b) == 1
        while b.get(BADGE).headers["etag"] == shown:  # its last bytes, while it renders (WIDGET_GRACE)
            assert time.monotonic() < deadline + WIDGET_GRACE, "B's badge still showed the hidden review"
            time.sleep(0.02)


def test_resetting_one_instance_leaves_the_others_caches_alone(
    settings: Settings, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    with two_apps(settings, b_polls=False) as (a, app_a, b, app_b):
        state_a: ServiceState = app_a.state.service_state
        state_b: ServiceState = app_b.state.service_state
        assert state_a is not state_b
        assert a.post(INGEST, json=[review("r1", 5)], headers=admin).status_code == 200
        for client in (a, b):
            assert _count(client) == 1 and client.get(BADGE).status_code == 200
        widgets_b = len(state_b.widgets._entries)
        assert widgets_b > 0
        # A change behind both instances' backs (none recorded, so no poller can see it), then A forgets all.
        docs.SummaryDoc._get_collection().update_one({"_id": "test-shop"}, {"$inc": {"h1": 1}})
        state_a.reset()
        assert len(state_a.widgets._entries) == 0
        assert len(state_b.widgets._entries) == widgets_b
        assert _count(a) == 2  # A reads the store again
        assert _count(b) == 1  # B still answers from its own cache
        state_b.reset()
        assert _count(b) == 2

"""POST /v1/hooks/trustpilot/{bu}: events through the one parse and ingest, per-unit secret, idempotent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from collectors.fakes.trustpilot import FakeTrustpilot
from reviews_service import domain, repository
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.trustpilot_helpers import RECENT, assert_store_is_truth, collect, configure, removed, stored

PROBLEM = "application/problem+json"


@pytest.fixture
def fake() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as server:
        server.add(250, newest=RECENT)
        yield server


@pytest.fixture
def web(settings: Settings, connected: object, state: ServiceState) -> Iterator[TestClient]:
    """The app on the real clock (webhook events carry today's dates), sharing the test's state."""
    with TestClient(create_app(settings, connect=False, state=state)) as test_client:
        yield test_client


@pytest.fixture
def hook(shop: domain.BusinessUnit, state: ServiceState, web: TestClient, admin: dict[str, str]) -> str:
    """The unit's hook path, as an admin reads it."""
    configure(state, shop)
    answer = web.get("/v1/admin/business-units/test-shop/hooks/trustpilot", headers=admin)
    assert answer.status_code == 200
    path: str = answer.json()["path"]
    assert path.startswith("/v1/hooks/trustpilot/test-shop?secret=")
    return path


def test_a_created_event_is_stored_once_however_often_trustpilot_retries_it(
    hook: str, web: TestClient, state: ServiceState, fake: FakeTrustpilot
) -> None:
    review = fake.reviews[next(iter(fake.reviews))]
    event = fake.event("service-review-created", review)
    first = web.post(hook, json=event)
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 1
    again = web.post(hook, json=event)
    assert again.json()["inserted"] == 0 and again.json()["unchanged"] == 1
    assert stored()[review.id] == (review.stars, review.title, review.text, review.author, review.reply, None)
    assert repository.get_summary(state, "test-shop").count == 1


def test_an_updated_event_edits_and_a_deleted_event_removes_but_keeps(
    hook: str, web: TestClient, state: ServiceState, fake: FakeTrustpilot
) -> None:
    review = fake.reviews[next(iter(fake.reviews))]
    web.post(hook, json=fake.event("service-review-created", review))
    fake.edit(review.id, stars=2, text="On second thought: the drawer sticks.")
    assert web.post(hook, json=fake.event("service-review-updated", review)).json()["updated"] == 1
    assert stored()[review.id][0:3] == (2, review.title, "On second thought: the drawer sticks.")
    deleted = web.post(hook, json={"events": [{"eventName": "service-review-deleted", "version": "v1",
                                               "eventData": {"id": review.id}}]})  # fmt: skip
    assert deleted.json()["removed"] == 1
    assert removed() == {review.id}
    assert repository.get_summary(state, "test-shop").count == 0


def test_a_wrong_or_missing_secret_is_401_and_stores_nothing(hook: str, web: TestClient, fake: FakeTrustpilot) -> None:
    event = fake.event("service-review-created", next(iter(fake.reviews.values())))
    for path in (hook[:-1] + ("0" if hook[-1] != "0" else "1"), hook.split("?")[0]):
        answer = web.post(path, json=event)
        assert answer.status_code == 401 and answer.headers["content-type"].startswith(PROBLEM)
    assert stored() == {}


def test_a_unit_without_trustpilot_is_404_and_bad_bodies_are_4xx_problems(
    hook: str, web: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    for body, status in ((b"{not json", 400), (b'{"events": 3}', 422), (b"[]", 422)):
        answer = web.post(hook, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == status and answer.headers["content-type"].startswith(PROBLEM)
    big = b'{"events": [' + b'{"eventName": "x"},' * 80_000 + b"{}]}"  # over the public body limit
    assert web.post(hook, content=big, headers={"content-type": "application/json"}).status_code == 413
    repository.save_business_unit(state, shop)  # no sources
    assert web.post(hook, json={"events": []}).status_code == 404


def test_a_configured_hook_secret_is_the_one_asked_for(
    shop: domain.BusinessUnit, state: ServiceState, web: TestClient
) -> None:
    configure(state, shop, domain="shop.example", hook_secret="s3cret-from-config-123")
    path = "/v1/hooks/trustpilot/test-shop?secret="
    assert web.post(path + "s3cret-from-config-123", json={"events": []}).status_code == 200
    assert web.post(path + "derived-one-no-longer", json={"events": []}).status_code == 401


def test_a_webhook_event_arriving_during_a_sync_ends_with_the_store_equal_to_the_truth(
    hook: str, web: TestClient, state: ServiceState, fake: FakeTrustpilot
) -> None:
    """A review posted on top after the sync read page 1 only arrives by webhook; nothing is lost or doubled."""
    fake.faults.insert_after_page = fake.faults.hold_after_page = 1  # page 2 waits until the webhook is in
    before = set(fake.reviews)
    sync = threading.Thread(target=collect, args=(state, fake))
    sync.start()
    deadline = time.monotonic() + 10
    while set(fake.reviews) == before and time.monotonic() < deadline:
        time.sleep(0.005)
    (new_id,) = set(fake.reviews) - before
    assert web.post(hook, json=fake.event("service-review-created", fake.reviews[new_id])).status_code == 200
    assert sync.is_alive()  # the sync is still paging
    fake.faults.release.set()
    sync.join(timeout=30)
    assert not sync.is_alive()
    assert_store_is_truth(state, fake)
    assert fake.reviews[new_id].created_at > RECENT - timedelta(minutes=1)

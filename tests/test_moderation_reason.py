"""A moderator holds back (pending), hides or removes a review only with a reason, kept with who and when,
shown to admins only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, ingest
from reviews_service.errors import InvalidInput
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

SHOP_REVIEWS = "/v1/admin/business-units/test-shop/reviews"
PUBLIC = "/v1/business-units/test-shop/reviews"
RID = "test-shop:api:r1"
REASON = "Names the delivery driver in full and gives his phone number"


@pytest.fixture
def one_review(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> str:
    response = client.post(
        SHOP_REVIEWS, json=[review("r1", 1, text="Nooit geleverd. Bel Jan Jansen 0612345678")], headers=admin
    )
    assert response.status_code == 200, response.text
    return RID


def patch(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.patch(f"/v1/admin/reviews/{RID}", json=body, headers=headers)


@pytest.mark.parametrize("status", ["pending", "hidden", "removed"])  # each takes it off the public side
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_hiding_without_a_reason_is_refused_and_changes_nothing(
    client: TestClient, admin: dict[str, str], one_review: str, status: str, reason: str | None
) -> None:
    body: dict[str, Any] = {"status": status}
    if reason is not None:
        body["reason"] = reason
    response = patch(client, admin, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "reason" in response.json()["detail"]
    assert [item["id"] for item in client.get(PUBLIC).json()["items"]] == [RID]
    stored = client.get(f"/v1/admin/reviews/{RID}", headers=admin).json()
    assert (stored["status"], stored["moderation"]) == ("published", None)


def test_a_hide_records_reason_category_who_and_when_for_admins_only(
    client: TestClient, admin: dict[str, str], one_review: str
) -> None:
    minted = client.post("/v1/admin/tokens", json={"name": "moderator-anna"}, headers=admin).json()
    anna = {"Authorization": f"Bearer {minted['token']}"}
    response = patch(client, anna, {"status": "hidden", "reason": REASON, "category": "personal_data"})
    assert response.status_code == 200, response.text
    expected = {
        "status": "hidden",
        "reason": REASON,
        "category": "personal_data",
        "by": "moderator-anna",
        "at": "2026-11-20T12:00:00.000Z",
    }
    assert response.json()["moderation"] == expected
    assert client.get(f"/v1/admin/reviews/{RID}", headers=admin).json()["moderation"] == expected
    assert client.get(PUBLIC).json()["items"] == []

    # published again (no reason needed): public once more, and the public answer says nothing of the moderation
    again = patch(client, admin, {"status": "published"}).json()
    assert again["moderation"]["status"] == "published" and again["moderation"]["by"] == "bootstrap"
    public = client.get(PUBLIC)
    assert [item["id"] for item in public.json()["items"]] == [RID]
    assert "moderation" not in public.json()["items"][0]
    assert "moderator-anna" not in public.text and "bootstrap" not in public.text


def test_the_category_defaults_to_other_and_must_be_a_known_one(
    client: TestClient, admin: dict[str, str], one_review: str
) -> None:
    assert patch(client, admin, {"status": "removed", "reason": "Spam"}).json()["moderation"]["category"] == "other"
    unknown = patch(client, admin, {"status": "hidden", "reason": "Spam", "category": "too-negative"})
    assert unknown.status_code == 422
    assert "category" in unknown.text


def test_a_reason_without_a_hide_is_refused(client: TestClient, admin: dict[str, str], one_review: str) -> None:
    response = patch(client, admin, {"status": "published", "reason": "Looked fine"})
    assert response.status_code == 422
    assert "hidden or removed" in response.json()["detail"]
    assert patch(client, admin, {"reply": "Sorry!", "reason": "x"}).status_code == 422


def test_a_reply_alone_keeps_the_recorded_decision(client: TestClient, admin: dict[str, str], one_review: str) -> None:
    patch(client, admin, {"status": "hidden", "reason": REASON, "category": "personal_data"}).raise_for_status()
    replied = patch(client, admin, {"reply": "We hebben contact met u opgenomen."}).json()
    assert replied["moderation"]["reason"] == REASON


def test_the_decision_survives_the_source_sending_the_review_again(
    client: TestClient, admin: dict[str, str], one_review: str
) -> None:
    patch(client, admin, {"status": "hidden", "reason": REASON, "category": "personal_data"}).raise_for_status()
    edited = review("r1", 2, text="Toch nog geleverd, maar laat.")
    assert client.post(SHOP_REVIEWS, json=[edited], headers=admin).json()["updated"] == 1
    stored = client.get(f"/v1/admin/reviews/{RID}", headers=admin).json()
    assert (stored["status"], stored["moderation"]["reason"]) == ("hidden", REASON)


def test_the_domain_refuses_a_hide_without_a_reason_too(state: ServiceState, one_review: str) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        ingest.moderate(state, RID, status="hidden", reply=None, now=NOW)
    with pytest.raises(InvalidInput, match="reason"):
        ingest.moderate(state, RID, status="pending", reply=None, now=NOW)


def test_holding_a_review_back_as_pending_records_the_reason(
    client: TestClient, admin: dict[str, str], one_review: str
) -> None:
    response = patch(client, admin, {"status": "pending", "reason": REASON, "category": "personal_data"})
    assert response.status_code == 200, response.text
    decision = response.json()["moderation"]
    assert (decision["status"], decision["reason"], decision["category"]) == ("pending", REASON, "personal_data")
    assert client.get(PUBLIC).json()["items"] == []

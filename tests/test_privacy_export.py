"""POST /v1/admin/reviewers/export: everything held about one reviewer as a JSON file to hand over (GDPR Art. 15):
her reviews with their texts, her invitations with their fields and states, photos, flags, suppression status."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reviews_service import domain
from reviews_service.config import Settings
from tests.form_helpers import EMAIL, ORDER
from tests.test_privacy_erasure import ERASE, _annas_reviews

EXPORT = "/v1/admin/reviewers/export"


def test_the_export_holds_her_reviews_invitations_photos_flags_and_suppression_as_a_file(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    invitation, _ = _annas_reviews(client, admin, settings)
    answer = client.post(EXPORT, json={"email": " Anna.Bakker@EXAMPLE.com"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and "anna" not in disposition.lower()
    held = answer.json()
    assert held["email"] == EMAIL and held["complete"] is True and held["generated_at"] == "2026-11-20T12:00:00.000Z"
    by_id = {r["id"]: r for r in held["reviews"]}
    assert set(by_id) == {
        "test-shop:api:imp-1",
        "test-shop:api:imp-2",
        f"test-shop:form:{invitation.id}",
        f"test-shop:form:{invitation.id}.oak-chair",
    }  # Piet's is not hers
    imported = by_id["test-shop:api:imp-1"]
    assert (imported["title"], imported["author"], imported["email"], imported["order_ref"]) == (
        "Eén ster", "Anna Bakker", EMAIL, "ORD-77"
    )  # fmt: skip
    form = by_id[f"test-shop:form:{invitation.id}.oak-chair"]
    assert form["text"] == "Zit prettig, de kleur klopt met de foto." and form["status"] == "published"
    (photo,) = held["photos"]
    assert photo["review_id"] == form["id"] and photo["url"].endswith(f"/v1/admin/photos/{photo['id']}.jpg")
    assert client.get(photo["url"].removeprefix(settings.public_url), headers=admin).status_code == 200
    (sent,) = held["invitations"]
    assert (sent["id"], sent["email"], sent["name"], sent["order_ref"], sent["state"]) == (
        invitation.id, EMAIL, "Anna Bakker", ORDER, "reviewed"
    )  # fmt: skip
    assert [f["id"] for f in held["flags"]] == ["test-shop:one-star:test-shop:api:imp-1"]
    assert held["suppression"] == {"suppressed": False, "reason": None, "since": None}

    assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
    after = client.post(EXPORT, json={"email": EMAIL}, headers=admin).json()
    assert (after["reviews"], after["invitations"], after["photos"], after["flags"]) == ([], [], [], [])
    assert after["suppression"] == {"suppressed": True, "reason": "erased", "since": "2026-11-20T12:00:00.000Z"}


def test_an_opted_out_address_shows_as_suppressed_and_an_unknown_one_holds_nothing(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    _annas_reviews(client, admin, settings)
    nobody = client.post(EXPORT, json={"email": "nobody@example.com"}, headers=admin).json()
    assert nobody["reviews"] == [] and nobody["invitations"] == [] and nobody["suppression"]["suppressed"] is False
    order = {"business_unit": "test-shop", "order_ref": "P-1", "email": "piet@example.com", "products": []}
    made = client.post("/v1/admin/invitations", json=order, headers=admin).json()
    token = made["link"].rsplit("/", 1)[-1]
    assert client.post(f"/r/{token}/unsubscribe", follow_redirects=False).status_code == 200
    piet = client.post(EXPORT, json={"email": "PIET@example.com"}, headers=admin).json()
    assert piet["suppression"]["reason"] == "opted_out" and piet["invitations"][0]["state"] == "opted_out"
    assert [r["text"] for r in piet["reviews"]] == ["Piet is tevreden."]
    for refused in ({"email": "piet"}, {"email": None}, {"email": EMAIL, "extra": 1}):
        assert client.post(EXPORT, json=refused, headers=admin).status_code == 422
    assert client.post(EXPORT, json={"email": EMAIL}).status_code == 401

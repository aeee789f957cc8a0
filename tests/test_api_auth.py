"""Admin routes need a bearer token; public routes don't. Minted tokens are shown once and stored hashed."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from reviews_service import documents, domain
from tests.conftest import ADMIN_TOKEN, review

UNITS = "/v1/admin/business-units"
TOKENS = "/v1/admin/tokens"
SHOP_REVIEWS = "/v1/admin/business-units/test-shop/reviews"
OTHER_REVIEWS = "/v1/admin/business-units/other-shop/reviews"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint(client: TestClient, admin: dict[str, str], name: str, business_unit: str | None = None) -> dict:
    response = client.post(TOKENS, json={"name": name, "business_unit": business_unit}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def assert_unauthorized(response, *, says: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    if says is not None:
        assert says in body["detail"].lower()


def assert_forbidden(response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 403


@pytest.fixture
def other_shop(shop: domain.BusinessUnit, client: TestClient, admin: dict[str, str]) -> str:
    response = client.post(UNITS, json={"slug": "other-shop", "name": "Other Shop"}, headers=admin)
    assert response.status_code == 201, response.text
    return "other-shop"


# --- no / wrong credentials -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
        {"Authorization": "Bearer rvw_deadbeef_not-a-real-secret"},
        {"Authorization": ADMIN_TOKEN},
    ],
    ids=["none", "empty", "basic-with-token", "basic", "bearer-empty", "wrong", "prefix", "fake-minted", "no-scheme"],
)
def test_admin_routes_refuse_missing_or_wrong_credentials(
    client: TestClient, shop: domain.BusinessUnit, headers: dict[str, str]
) -> None:
    assert_unauthorized(client.get(UNITS, headers=headers))
    assert_unauthorized(client.post(SHOP_REVIEWS, json=[review("r1")], headers=headers))
    assert_unauthorized(client.get(TOKENS, headers=headers))
    # nothing was stored by the refused ingest
    assert client.get("/v1/business-units/test-shop/summary").json()["review_count"] == 0


def test_missing_token_says_how_to_send_one(client: TestClient) -> None:
    response = client.get(UNITS)
    assert_unauthorized(response, says="bearer")
    assert {"type", "title", "status", "detail"} <= response.json().keys()


def test_bootstrap_token_works(client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]) -> None:
    response = client.get(UNITS, headers=admin)
    assert response.status_code == 200
    assert [u["slug"] for u in response.json()["items"]] == ["test-shop"]
    response = client.post(SHOP_REVIEWS, json=[review("r1")], headers=admin)
    assert response.status_code == 200
    assert response.json()["inserted"] == 1


def test_bearer_scheme_is_case_insensitive(client: TestClient, shop: domain.BusinessUnit) -> None:
    assert client.get(UNITS, headers={"Authorization": f"bearer {ADMIN_TOKEN}"}).status_code == 200


# --- minted tokens ----------------------------------------------------------------------------


def test_minted_token_works_and_its_secret_is_shown_only_once(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    minted = mint(client, admin, "ci-importer")
    secret = minted["token"]
    assert minted["name"] == "ci-importer"
    assert minted["business_unit"] is None
    assert minted["revoked_at"] is None

    assert client.get(UNITS, headers=bearer(secret)).status_code == 200
    response = client.post(SHOP_REVIEWS, json=[review("r1")], headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["inserted"] == 1

    listing = client.get(TOKENS, headers=admin)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert [t["id"] for t in items] == [minted["id"]]
    assert set(items[0]) == {"id", "name", "business_unit", "created_at", "revoked_at"}
    assert secret not in listing.text
    assert hashlib.sha256(secret.encode()).hexdigest() not in listing.text


def test_two_minted_tokens_have_different_secrets(client: TestClient, admin: dict[str, str]) -> None:
    first, second = mint(client, admin, "one"), mint(client, admin, "two")
    assert first["id"] != second["id"]
    assert first["token"] != second["token"]


def test_store_holds_only_the_sha256_digest(client: TestClient, admin: dict[str, str]) -> None:
    minted = mint(client, admin, "digest-check")
    secret = minted["token"]
    stored = documents.AdminTokenDoc.objects(id=minted["id"]).first()
    assert stored is not None
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    raw = documents.AdminTokenDoc._get_collection().find_one({"_id": minted["id"]})
    assert secret not in repr(raw)
    # nor any large piece of it
    assert secret[-20:] not in repr(raw)


def test_scoped_token_works_only_for_its_business_unit(
    client: TestClient, other_shop: str, admin: dict[str, str]
) -> None:
    scoped = bearer(mint(client, admin, "shop-team", business_unit="test-shop")["token"])

    ok = client.post(SHOP_REVIEWS, json=[review("r1")], headers=scoped)
    assert ok.status_code == 200
    assert ok.json()["inserted"] == 1
    assert [u["slug"] for u in client.get(UNITS, headers=scoped).json()["items"]] == ["test-shop"]

    assert_forbidden(client.post(OTHER_REVIEWS, json=[review("r2")], headers=scoped))
    assert client.get("/v1/business-units/other-shop/summary").json()["review_count"] == 0
    assert_forbidden(client.post(UNITS, json={"slug": "third-shop", "name": "Third"}, headers=scoped))
    assert_forbidden(client.post(UNITS, json={"slug": "test-shop", "name": "Renamed"}, headers=scoped))
    assert_forbidden(client.post(TOKENS, json={"name": "escalate"}, headers=scoped))
    assert_forbidden(client.post(TOKENS, json={"name": "sibling", "business_unit": "test-shop"}, headers=scoped))
    assert_forbidden(client.get(TOKENS, headers=scoped))
    assert [u["slug"] for u in client.get(UNITS, headers=admin).json()["items"]] == ["other-shop", "test-shop"]
    assert len(client.get(TOKENS, headers=admin).json()["items"]) == 1


def test_scoped_token_cannot_moderate_another_units_review(
    client: TestClient, other_shop: str, admin: dict[str, str]
) -> None:
    inserted = client.post(OTHER_REVIEWS, json=[review("r1")], headers=admin)
    assert inserted.json()["inserted"] == 1
    review_id = client.get("/v1/business-units/other-shop/reviews").json()["items"][0]["id"]
    scoped = bearer(mint(client, admin, "shop-team", business_unit="test-shop")["token"])

    assert_forbidden(
        client.patch(f"/v1/admin/reviews/{review_id}", json={"status": "hidden", "reason": "Spam"}, headers=scoped)
    )
    assert_forbidden(client.get(f"/v1/admin/reviews/{review_id}", headers=scoped))
    assert client.get("/v1/business-units/other-shop/summary").json()["review_count"] == 1


def test_minting_for_an_unknown_business_unit_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(TOKENS, json={"name": "x", "business_unit": "no-such-shop"}, headers=admin)
    assert response.status_code == 404
    assert "no-such-shop" in response.json()["detail"]
    assert client.get(TOKENS, headers=admin).json()["items"] == []


# --- revocation -------------------------------------------------------------------------------


def test_revoked_token_stops_working_and_says_so(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    minted = mint(client, admin, "leaked-laptop")
    token = bearer(minted["token"])
    assert client.get(UNITS, headers=token).status_code == 200

    revoked = client.delete(f"{TOKENS}/{minted['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert minted["token"] not in revoked.text

    response = client.get(UNITS, headers=token)
    assert_unauthorized(response, says="revoked")
    assert_unauthorized(client.post(SHOP_REVIEWS, json=[review("r1")], headers=token), says="revoked")
    listed = client.get(TOKENS, headers=admin).json()["items"]
    assert [t["revoked_at"] is not None for t in listed] == [True]
    # revoking twice is harmless, and another token keeps working
    assert client.delete(f"{TOKENS}/{minted['id']}", headers=admin).status_code == 200
    other = bearer(mint(client, admin, "replacement")["token"])
    assert client.get(UNITS, headers=other).status_code == 200


def test_revoking_an_unknown_token_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.delete(f"{TOKENS}/no-such-id", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "no-such-id" in response.json()["detail"]


def test_only_an_unscoped_token_may_revoke(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    victim = mint(client, admin, "victim")
    scoped = bearer(mint(client, admin, "shop-team", business_unit="test-shop")["token"])
    assert_forbidden(client.delete(f"{TOKENS}/{victim['id']}", headers=scoped))
    assert client.get(UNITS, headers=bearer(victim["token"])).status_code == 200


# --- public routes ----------------------------------------------------------------------------


def test_public_routes_need_no_token(client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]) -> None:
    client.post(SHOP_REVIEWS, json=[review("r1", 4), review("r2", 5, product="oak-chair")], headers=admin)
    for path in (
        "/health",
        "/v1/business-units/test-shop/summary",
        "/v1/business-units/test-shop/products/oak-chair/summary",
        "/v1/business-units/test-shop/reviews",
        "/v1/business-units/test-shop/reviews?product=*",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
    assert client.get("/v1/business-units/test-shop/summary").json()["review_count"] == 1
    assert len(client.get("/v1/business-units/test-shop/reviews?product=*").json()["items"]) == 2


def test_a_bad_token_on_a_public_route_is_ignored(client: TestClient, shop: domain.BusinessUnit) -> None:
    response = client.get("/v1/business-units/test-shop/summary", headers=bearer("nonsense"))
    assert response.status_code == 200

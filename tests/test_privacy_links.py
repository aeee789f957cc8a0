"""What ties a review or an order to a reviewer besides the address as she typed it: the order reference of one of
her invitations (a platform's reference code), a new order of an erased address, the same address in another
Unicode form. Erasure and export reach all of them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reviews_service import domain, repository
from reviews_service.config import Settings
from tests.conftest import review
from tests.form_helpers import EMAIL, ORDER, invite

ERASE = "/v1/admin/reviewers/erasure"
EXPORT = "/v1/admin/reviewers/export"
IMPORT = "/v1/admin/business-units/test-shop/reviews"


def test_a_review_tied_to_her_only_by_her_order_reference_is_exported_and_erased(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    """Kiyoh keeps the shop's order reference (referenceCode), not the address: the review of her order is hers;
    the same reference in another unit is another shop's order, not hers."""
    invite(settings)
    hers = review("kiyoh-1", 2, source="kiyoh", author="Anna Bakker", text="Slecht, vraag naar Anna.", order_ref=ORDER)
    assert client.post(IMPORT, json=[hers], headers=admin).json()["inserted"] == 1
    client.post("/v1/admin/business-units", json={"slug": "other-shop", "name": "Other"}, headers=admin)
    theirs = review("kiyoh-2", 4, source="kiyoh", author="Piet", text="Prima.", order_ref=ORDER)
    answer = client.post("/v1/admin/business-units/other-shop/reviews", json=[theirs], headers=admin)
    assert answer.json()["inserted"] == 1, answer.text
    held = client.post(EXPORT, json={"email": EMAIL}, headers=admin).json()
    exported = {r["id"]: r for r in held["reviews"]}
    assert set(exported) == {"test-shop:kiyoh:kiyoh-1"}
    assert exported["test-shop:kiyoh:kiyoh-1"]["text"] == "Slecht, vraag naar Anna."
    erased = client.post(ERASE, json={"email": EMAIL}, headers=admin).json()["erased"]
    assert erased["reviews"] == 1
    kept = repository.get_review("test-shop:kiyoh:kiyoh-1")
    assert (kept.author, kept.text, kept.order_ref, kept.rating) == ("", "", None, 2)
    assert repository.get_review("other-shop:kiyoh:kiyoh-2").text == "Prima."

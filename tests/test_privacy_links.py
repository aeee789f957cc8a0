"""What ties a review or an order to a reviewer besides the address as she typed it: the order reference of one of
her invitations (a platform's reference code), a new order of an erased address, the same address in another
Unicode form. Erasure and export reach all of them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reviews_service import domain, invitation_store, repository
from reviews_service.config import Settings
from tests.conftest import NOW, review
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
    # a later collection brings a new review of that order (its reference, no address): it is stored anonymised,
    # as is a review of the same reference in another unit left alone
    later = review("kiyoh-3", 1, source="kiyoh", author="Anna Bakker", text="Nog steeds kapot, Anna.", order_ref=ORDER)
    assert client.post(IMPORT, json=[later], headers=admin).json()["inserted"] == 1
    stored = repository.get_review("test-shop:kiyoh:kiyoh-3")
    assert (stored.author, stored.text, stored.order_ref, stored.rating) == ("", "", None, 1)
    again = review("kiyoh-4", 5, source="kiyoh", author="Piet", text="Weer prima.", order_ref=ORDER)
    assert client.post("/v1/admin/business-units/other-shop/reviews", json=[again], headers=admin).status_code == 200
    assert repository.get_review("other-shop:kiyoh:kiyoh-4").text == "Weer prima."


def test_a_new_order_of_an_erased_address_keeps_neither_her_name_nor_her_order_reference(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    """Her next order (by the API, or a line of a CSV) is invited without her address, name or order reference,
    which no export or erasure by her address could reach; the same order again is still 'existing'. An address
    that only opted out keeps the buyer's name (the order is the shop's, the mail is what she refused)."""
    invite(settings)
    assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
    order = {"business_unit": "test-shop", "order_ref": "ORDER-2026-0043", "email": EMAIL, "name": "Anna Bakker",
             "products": ["oak-chair"], "ordered_at": "2026-11-18T10:00:00"}  # fmt: skip
    made = client.post("/v1/admin/invitations", json=order, headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["email"], body["name"], body["order_ref"], body["mail"]) == (None, "", "", "suppressed")
    again = client.post("/v1/admin/invitations", json=order, headers=admin)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    csv = (
        f"order_ref,email,name,products,ordered_at\nORDER-2026-0044,{EMAIL.upper()},Anna Bakker,oak-chair,2026-11-18\n"
    )
    url = "/v1/admin/business-units/test-shop/invitations/import"
    report = client.post(url, content=csv, headers={**admin, "Content-Type": "text/csv"}).json()
    assert report["created"] == 1 and report["mail"]["suppressed"] == 1, report
    listed = client.get("/v1/admin/invitations?business_unit=test-shop", headers=admin).json()["items"]
    assert (
        len(listed) == 3
        and "Bakker" not in str(listed)
        and "ORDER-2026-004" not in str(listed)
        and "anna" not in str(listed).lower()
    )
    invitation_store.suppress(settings.secret_key.get_secret_value(), "piet@example.com", "opted_out", NOW)
    piet = {**order, "order_ref": "P-1", "email": "piet@example.com", "name": "Piet"}
    kept = client.post("/v1/admin/invitations", json=piet, headers=admin).json()
    assert (kept["email"], kept["name"], kept["order_ref"], kept["mail"]) == (None, "Piet", "P-1", "suppressed")


def test_the_same_address_in_another_unicode_form_is_the_same_reviewer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    """'josé' sent as 'e' plus a combining accent (NFD, as some systems export it) and asked for as one 'é' (NFC,
    as a person types it): the export and the erasure find her review, and her next import and order are guarded."""
    nfd, nfc = "jose\u0301@example.com", "jos\u00e9@example.com"
    record = review("u1", 2, text="Tekst van José.", author="José", email=nfd)
    assert client.post(IMPORT, json=[record], headers=admin).json()["inserted"] == 1
    held = client.post(EXPORT, json={"email": nfc}, headers=admin).json()
    assert [r["id"] for r in held["reviews"]] == ["test-shop:api:u1"]
    assert client.post(ERASE, json={"email": nfc}, headers=admin).json()["erased"]["reviews"] == 1
    kept = repository.get_review("test-shop:api:u1")
    assert (kept.author, kept.text, kept.email) == ("", "", None)
    again = review("u2", 3, text="Weer José.", author="José", email=nfd)
    client.post(IMPORT, json=[again], headers=admin)
    assert repository.get_review("test-shop:api:u2").text == ""
    order = {"business_unit": "test-shop", "order_ref": "J-1", "email": nfd, "name": "José", "products": ["oak-chair"],
             "ordered_at": "2026-11-18T10:00:00"}  # fmt: skip
    assert client.post("/v1/admin/invitations", json=order, headers=admin).json()["mail"] == "suppressed"

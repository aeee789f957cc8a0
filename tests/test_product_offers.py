"""A catalogue price (price, currency, availability) is kept as given and becomes the Product's `offers`.

Google requires review, aggregateRating or offers on a Product for a product snippet; a product without
reviews qualifies through its price. Bad prices are a 422 that says what is wrong, and store nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain

PRODUCTS = "/v1/admin/business-units/test-shop/products"


def _catalogue(client: TestClient, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = client.get(PRODUCTS, headers=admin)
    assert answer.status_code == 200, answer.text
    return {p["sku"]: p for p in answer.json()["items"]}


@pytest.mark.parametrize(
    ("given", "stored"),
    [("249.9", "249.90"), (249.9, "249.90"), (1249, "1249.00"), ("0", "0.00"), (" 19.95 ", "19.95")],
)
def test_a_price_is_stored_with_two_decimals_and_shown_as_an_offer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], given: object, stored: str
) -> None:
    product = {"sku": "lamp", "name": "Lamp", "url": "https://shop.example/lamp", "price": given}
    assert client.post(PRODUCTS, json=product, headers=admin).status_code == 200
    listed = _catalogue(client, admin)["lamp"]
    assert (listed["price"], listed["currency"], listed["availability"]) == (stored, "EUR", "")
    markup = client.get("/seo/test-shop/products/lamp.jsonld").json()
    assert markup["offers"] == {
        "@type": "Offer",
        "price": stored,
        "priceCurrency": "EUR",
        "url": "https://shop.example/lamp",
    }


def test_currency_and_availability_reach_the_offer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    product = {"sku": "lamp", "name": "Lamp", "price": "89.00", "currency": "gbp", "availability": "PreOrder"}
    assert client.post(PRODUCTS, json=product, headers=admin).status_code == 200
    offer = client.get("/seo/test-shop/products/lamp.jsonld").json()["offers"]
    assert offer == {
        "@type": "Offer",
        "price": "89.00",
        "priceCurrency": "GBP",
        "availability": "https://schema.org/PreOrder",
    }
    # the full schema.org URL is accepted too, and stored as its name
    product["availability"] = "https://schema.org/InStock"
    client.post(PRODUCTS, json=product, headers=admin).raise_for_status()
    assert _catalogue(client, admin)["lamp"]["availability"] == "InStock"


def test_a_product_without_a_price_has_no_offer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    markup = client.get("/seo/test-shop/products/walnut-table.jsonld").json()
    assert "offers" not in markup
    # a price removed again (a product sent without one) takes the offer with it
    client.post(PRODUCTS, json={"sku": "walnut-table", "name": "Walnut table", "price": "999"}, headers=admin)
    assert client.get("/seo/test-shop/products/walnut-table.jsonld").json()["offers"]["price"] == "999.00"
    client.post(PRODUCTS, json={"sku": "walnut-table", "name": "Walnut table"}, headers=admin).raise_for_status()
    assert "offers" not in client.get("/seo/test-shop/products/walnut-table.jsonld").json()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"price": -1}, "price must be an amount of at least 0 with at most 2 decimals"),
        ({"price": "12.345"}, "at most 2 decimals"),
        ({"price": 0.1 + 0.2}, "at most 2 decimals"),
        ({"price": "12,50"}, "such as 249.00"),
        ({"price": "NaN"}, "such as 249.00"),
        ({"price": 1e20}, "such as 249.00"),
        ({"price": True}, "such as 249.00"),
        ({"price": {"amount": 5}}, "such as 249.00"),
        ({"price": "5", "currency": "EURO"}, "currency must be a 3-letter ISO 4217 code such as EUR"),
        ({"price": "5", "currency": "€"}, "currency must be a 3-letter ISO 4217 code"),
        ({"price": "5", "currency": 978}, "currency must be a 3-letter ISO 4217 code"),
        ({"price": "5", "availability": "Maybe"}, "availability must be one of InStock, OutOfStock"),
    ],
)
def test_a_bad_price_is_a_422_in_plain_words_and_stores_nothing(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], fields: dict[str, object], words: str
) -> None:
    before = _catalogue(client, admin)
    answer = client.post(PRODUCTS, json={"sku": "lamp", "name": "Lamp", **fields}, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"]
    assert _catalogue(client, admin) == before

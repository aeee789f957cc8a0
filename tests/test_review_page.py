"""GET /reviews/{bu}/review/{id}: one published review on a page of its own (the feed's `singleton` review_url),
its words escaped as written, its reviewer by display name only, and nothing for a review that is not public."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reviews_service import domain
from tests.conftest import review

INGEST = "/v1/admin/business-units/test-shop/reviews"
PAGE = "/reviews/test-shop/review/test-shop:api:"


def test_a_review_has_a_page_of_its_own_in_the_shop_s_language(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    hostile = review(
        "x1", 2, product="oak-chair", title="<b>Kapot</b>", text="Poot los & <script>alert(1)</script>",
        author="Anna B.", email="anna.bakker@example.com", order_ref="ORD-1", verified=True,
    )  # fmt: skip
    assert client.post(INGEST, json=[hostile], headers=admin).json()["inserted"] == 1
    page = client.get(PAGE + "x1")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "&lt;b&gt;Kapot&lt;/b&gt;" in page.text and "Anna B." in page.text
    assert "anna.bakker" not in page.text and "ORD-1" not in page.text
    assert 'lang="nl"' in page.text and "Geverifieerde koper" in page.text  # test-shop speaks Dutch
    assert "2 van de 5 sterren" in page.text and "/reviews/test-shop/about?locale=nl" in page.text
    english = client.get(PAGE + "x1?locale=en")
    assert "2 out of 5 stars" in english.text and "Verified buyer" in english.text
    again = client.get(PAGE + "x1", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304


def test_a_review_s_page_is_cached_no_longer_than_the_public_reviews(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    """Hidden or erased, a review must leave shared caches as soon as it leaves the public list: the page is
    cached as the list is (short, no stale copies), with its ETag."""
    assert client.post(INGEST, json=[review("c1", 4)], headers=admin).json()["inserted"] == 1
    listed = client.get("/v1/business-units/test-shop/reviews")
    page = client.get(PAGE + "c1")
    assert page.headers["cache-control"] == listed.headers["cache-control"] == "public, max-age=30"
    assert "stale" not in page.headers["cache-control"]
    again = client.get(PAGE + "c1", headers={"If-None-Match": page.headers["etag"]})
    assert (again.status_code, again.headers["etag"]) == (304, page.headers["etag"])
    assert again.headers["cache-control"] == "public, max-age=30"


def test_a_review_that_is_not_public_or_not_this_unit_s_has_no_page(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    records = [review("gone", 1, product="oak-chair"), review("later", 4, status="pending")]
    assert client.post(INGEST, json=records, headers=admin).json()["inserted"] == 2
    hide = {"status": "hidden", "reason": "Noemt een telefoonnummer", "category": "personal_data"}
    assert client.patch("/v1/admin/reviews/test-shop:api:gone", json=hide, headers=admin).status_code == 200
    for path in (PAGE + "gone", PAGE + "later", PAGE + "never", "/reviews/test-shop/review/other-shop:api:x"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json", path
    assert client.get("/reviews/no-such-shop/review/no-such-shop:api:x").status_code == 404

"""Text that looks like markup is stored as written and shown as text by every output (widgets, JSON-LD)."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from reviews_service import domain
from tests.conftest import review

WRITTEN = [
    "the site showed <script> errors and I could not pay",
    "a<b and c>d",
    "<b>kapot</b>",
    "</script><script>alert(1)</script>",
]


def test_markup_looking_reviews_are_shown_as_their_text_everywhere(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    records = [review(f"t{i}", 3, title=text, text=text, product="oak-chair") for i, text in enumerate(WRITTEN)]
    answer = client.post(f"/v1/admin/business-units/{shop.slug}/reviews", json=records, headers=admin)
    assert answer.status_code == 200 and answer.json()["inserted"] == len(WRITTEN), answer.text

    fragment = client.get(f"/widgets/{shop.slug}/reviews.html?product=oak-chair&limit=10").text
    soup = BeautifulSoup(fragment, "html.parser")
    assert soup.find_all(["script", "b"]) == []  # no element made from a review
    shown = soup.get_text()
    for text in WRITTEN:
        assert text in shown  # the reader sees what the customer wrote
    assert "&lt;script&gt; errors" in fragment and "&lt;b&gt;kapot&lt;/b&gt;" in fragment

    data = client.get(f"/seo/{shop.slug}/products/oak-chair.jsonld").json()
    assert sorted(r["reviewBody"] for r in data["review"]) == sorted(WRITTEN)
    element = client.get(f"/seo/{shop.slug}/products/oak-chair.jsonld?format=html").text
    scripts = BeautifulSoup(element, "html.parser").find_all("script")
    assert len(scripts) == 1  # nothing broke out of the element
    assert json.loads(scripts[0].string or "") == data

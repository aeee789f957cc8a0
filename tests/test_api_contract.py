"""The HTTP contract: one status and shape per kind of error, plain messages, HEAD, Allow, a true OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain


@pytest.mark.parametrize("locale", ["€", "\r\nX-Injected: 1", 'n"l', "nl\x00"])
def test_export_etag_never_carries_the_raw_locale(client: TestClient, shop: domain.BusinessUnit, locale: str) -> None:
    """A hostile locale gets the shop's default rendering and a well-formed validator, not a 500 or a dropped line."""
    plain = client.get(f"/seo/{shop.slug}/export.ndjson")
    hostile = client.get(f"/seo/{shop.slug}/export.ndjson", params={"locale": locale})
    assert hostile.status_code == 200
    assert hostile.headers["etag"] == plain.headers["etag"]
    assert hostile.headers["etag"].isascii() and hostile.headers["etag"].count('"') == 2
    assert "x-injected" not in hostile.headers
    assert hostile.content == plain.content
    again = client.get(
        f"/seo/{shop.slug}/export.ndjson", params={"locale": locale}, headers={"If-None-Match": hostile.headers["etag"]}
    )
    assert again.status_code == 304


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_openapi_names_the_media_type_each_route_really_sends(client: TestClient, shop: domain.BusinessUnit) -> None:
    """The document's success media type is the Content-Type the route answers with."""
    doc = client.get("/openapi.json").json()
    paths = {
        "/widgets/loader.js": "/widgets/loader.js",
        "/widgets/widgets.css": "/widgets/widgets.css",
        "/widgets/{bu}/badge.html": "/widgets/test-shop/badge.html",
        "/widgets/{bu}/badge.svg": "/widgets/test-shop/badge.svg",
        "/widgets/{bu}/data.json": "/widgets/test-shop/data.json",
        "/widgets/{bu}/products/{sku}/stars.html": "/widgets/test-shop/products/oak-chair/stars.html",
        "/seo/{bu}/products/{sku}.jsonld": "/seo/test-shop/products/oak-chair.jsonld",
        "/seo/{bu}/organization.jsonld": "/seo/test-shop/organization.jsonld",
        "/seo/{bu}/export.ndjson": "/seo/test-shop/export.ndjson",
        "/v1/business-units/{bu}/summary": "/v1/business-units/test-shop/summary",
    }
    for template, url in paths.items():
        documented = list(doc["paths"][template]["get"]["responses"]["200"]["content"])
        sent = client.get(url).headers["content-type"].split(";")[0]
        assert documented[0] == sent, template
    assert list(doc["paths"]["/seo/{bu}/products/{sku}.jsonld"]["get"]["responses"]["200"]["content"]) == [
        "application/ld+json",
        "text/html",
    ]
    assert (
        client.get("/seo/test-shop/products/oak-chair.jsonld?format=html")
        .headers["content-type"]
        .startswith("text/html")
    )


def test_openapi_errors_are_problem_json_and_admin_routes_need_a_bearer_token(client: TestClient) -> None:
    """Every documented 4xx is the Problem shape; every admin operation carries the bearer scheme, not a header."""
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert set(doc["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}
    (scheme_name, scheme), *_ = doc["components"]["securitySchemes"].items()
    assert scheme == {"type": "http", "scheme": "bearer", "description": scheme["description"]}
    admin_operations = 0
    for path, method, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == ["application/problem+json"], (path, method, status)
        if path.startswith("/v1/admin"):
            admin_operations += 1
            assert operation["security"] == [{scheme_name: []}], (path, method)
            assert "401" in operation["responses"], (path, method)
            assert all(p["name"].lower() != "authorization" for p in operation.get("parameters", []))
        else:
            assert "security" not in operation, (path, method)
    assert admin_operations >= 10
    assert "201" in doc["paths"]["/v1/admin/tokens"]["post"]["responses"]
    assert {"200", "201"} <= set(doc["paths"]["/v1/admin/business-units"]["post"]["responses"])


def test_an_out_of_range_query_value_is_the_same_422_on_widgets_and_the_api(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    """limit=0 is one kind of mistake: one status, one content type, one title, wherever it is made."""
    answers = [
        client.get("/widgets/test-shop/reviews.html?limit=0"),
        client.get("/widgets/test-shop/data.json?reviews=99"),
        client.get("/v1/business-units/test-shop/reviews?limit=0"),
        client.get("/v1/business-units/test-shop/reviews?cursor=not-a-cursor"),
    ]
    for response in answers:
        assert response.status_code == 422, response.url
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Invalid input"
        assert response.json()["status"] == 422

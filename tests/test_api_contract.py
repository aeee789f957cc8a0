"""The HTTP contract: one status and shape per kind of error, plain messages, HEAD, Allow, a true OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, photos
from tests.conftest import NOW, review
from tests.photo_helpers import photo_bytes


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


NOT_IN_THE_DOCUMENT = [
    "/",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/demo/demo.css",
    "/demo/{bu}/",
    "/demo/{bu}/products/{sku}",
]


def test_head_answers_like_get_without_a_body_on_every_get_route(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    """HEAD is GET's status and headers with no body, on every GET route (FastAPI's routes answer GET alone)."""
    photo = photos.new_photo_id()  # a buyer's photo of r1, for the photo routes
    photos.save_photo(photo, "test-shop", "test-shop:api:r1", photos.process(photo_bytes()), NOW)
    ingested = client.post(
        "/v1/admin/business-units/test-shop/reviews", json=[review("r1", photos=[photo])], headers=admin
    )
    assert ingested.status_code == 200
    token = client.post("/v1/admin/tokens", json={"name": "ci"}, headers=admin).json()["id"]
    order = {"business_unit": "test-shop", "order_ref": "o1", "email": "a@example.nl", "products": ["oak-chair"]}
    invitation = client.post("/v1/admin/invitations", json=order, headers=admin).json()["id"]
    values = {"{bu}": "test-shop", "{sku}": "oak-chair", "{review_id}": "test-shop:api:r1", "{token_id}": token,
              "{day}": "2026-11-19", "{photo_id}": photo,
              "{invitation_id}": invitation}  # fmt: skip
    doc = client.get("/openapi.json").json()
    templates = [p for p, ops in doc["paths"].items() if "get" in ops] + NOT_IN_THE_DOCUMENT
    assert len(templates) > 20
    for template in templates:
        url = template
        for name, value in values.items():
            url = url.replace(name, value)
        get, head = client.get(url, headers=admin), client.head(url, headers=admin)
        expected = 503 if url == "/ready" else 200  # no scheduler beats beside a test app: /ready says so
        assert get.status_code == expected, url
        assert head.status_code == expected, url
        assert head.content == b"", url
        assert head.headers["content-type"] == get.headers["content-type"], url
        assert head.headers.get("etag") == get.headers.get("etag"), url


def test_405_names_every_method_the_path_allows(client: TestClient, admin: dict[str, str]) -> None:
    """A wrong method gets the Allow header RFC 9110 requires, listing the methods of every route on the path."""
    cases = {
        ("DELETE", "/v1/admin/business-units"): "GET, HEAD, POST",
        ("PUT", "/v1/admin/reviews/test-shop:api:r1"): "GET, HEAD, PATCH",
        ("POST", "/widgets/loader.js"): "GET, HEAD",
        ("POST", "/health"): "GET, HEAD",
    }
    for (method, url), allowed in cases.items():
        response = client.request(method, url, headers=admin)  # admin paths ask for the token first
        assert response.status_code == 405, url
        assert response.headers["allow"] == allowed, url
        assert response.headers["content-type"] == "application/problem+json"
        assert allowed in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "body", "expected"),
    [
        (
            "/v1/admin/business-units/test-shop/products",
            {"sku": "bad sku!", "name": "Chair"},
            "sku must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        ),
        ("/v1/admin/business-units/test-shop/products", [{"sku": "a"}], "body[0].name is required."),
        ("/v1/admin/business-units/test-shop/products", 5, "body must be a JSON object or a list of them."),
        (
            "/v1/admin/business-units",
            {"slug": "Bad Slug", "name": "X"},
            "slug must be 1-63 lowercase letters, digits or '-', starting with a letter or digit.",
        ),
        ("/v1/admin/business-units", {"slug": "x", "name": "X", "display_scale": 7}, "display_scale must be 5 or 10."),
        ("/v1/admin/tokens", {"name": "ci", "business_unit": None, "nmae": 1}, "nmae is not a field of this request"),
        ("/v1/admin/tokens", {"name": 5}, "name must be text."),
    ],
)
def test_invalid_fields_are_told_in_plain_words(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], url: str, body: Any, expected: str
) -> None:
    """A 422 names the field as the caller wrote it and what it must be: no class names, NoneType or regex."""
    response = client.post(url, json=body, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    assert expected in problem["detail"]
    assert all(set(e) == {"field", "message"} for e in problem["errors"])
    for jargon in ("ProductIn", "TokenIn", "BusinessUnitIn", "NoneType", "list[", "^", "Input should", "pattern"):
        assert jargon not in response.text, jargon


def test_out_of_range_query_values_are_told_in_plain_words(client: TestClient, shop: domain.BusinessUnit) -> None:
    """The same plain sentences for query parameters."""
    response = client.get("/v1/business-units/test-shop/reviews?limit=0&rating=x&language=NLD")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "limit must be at least 1. rating must be a whole number. "
        "language must be a two-letter language code such as nl."
    )


def test_json_that_parses_into_the_wrong_shape_is_422_and_json_that_does_not_parse_is_400(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    """One rule on every JSON route: unreadable is 400, readable but unusable is 422."""
    client.post("/v1/admin/business-units/test-shop/reviews", json=[review("r1")], headers=admin)
    routes = [
        ("POST", "/v1/admin/business-units/test-shop/reviews"),
        ("POST", "/v1/admin/business-units/test-shop/products"),
        ("POST", "/v1/admin/business-units"),
        ("PATCH", "/v1/admin/reviews/test-shop:api:r1"),
        ("POST", "/v1/admin/reviewers/erasure"),
        ("POST", "/v1/admin/reviewers/export"),
        ("POST", "/seo/validate"),
    ]
    json_type = {**admin, "Content-Type": "application/json"}
    for method, url in routes:
        wrong_shape = client.request(method, url, content=b"5" if "reviews" in url else b"{}", headers=json_type)
        assert wrong_shape.status_code == 422, (url, wrong_shape.text)
        broken = client.request(method, url, content=b'{"name": ', headers=json_type)
        assert broken.status_code == 400, (url, broken.text)
        for answer in (wrong_shape, broken):
            assert answer.headers["content-type"] == "application/problem+json"


def test_rejections_name_json_types_not_python_ones(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    """A reviewer of the answer knows JSON's null and numbers, not Python's NoneType and int."""
    batch = [None, review("r1", title=5), review("r2", text=["a", "list"])]
    answer = client.post("/v1/admin/business-units/test-shop/reviews", json=batch, headers=admin)
    reasons = [r["reason"] for r in answer.json()["rejections"]]
    assert reasons == [
        "each review must be a JSON object, not null",
        "title must be a string, not a number",
        "text must be a string, not a list",
    ]
    lines = (json.dumps(review("r3")) + '\n[1]\nnull\n{"external_id": "x"').encode()
    imported = client.post(
        "/v1/admin/business-units/test-shop/imports?format=jsonl", content=lines, headers=admin
    ).json()
    text = str(imported["rejections"])
    assert "a list, not a JSON object" in text and "null, not a JSON object" in text
    for jargon in ("NoneType", "int", "'list'"):
        assert jargon not in str(reasons) + text

"""Every error is application/problem+json with type/title/status/detail, and bad input is never a 500.

The app here runs with `raise_server_exceptions=False`, so a crash shows up as a 500 answer (and fails
the status assertion) instead of as an exception inside the test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, store
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from tests.conftest import ADMIN_TOKEN, NOW, make_settings, review

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
CSV = {**AUTH, "Content-Type": "text/csv"}
UNITS = "/v1/admin/business-units"
INGEST = "/v1/admin/business-units/test-shop/reviews"
IMPORT = "/v1/admin/business-units/test-shop/imports"
LIST = "/v1/business-units/test-shop/reviews"
TRUSTPILOT_HEADER = "id,filtered,pending,text,rating,title,likes,experienced,published,source\n"


def make_client(settings: Settings) -> TestClient:
    """The whole app like the `client` fixture, but a server error comes back as a 500 answer."""
    app = create_app(settings, connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def api(settings: Settings, connected: store.StoreInfo, shop: domain.BusinessUnit) -> Iterator[TestClient]:
    with make_client(settings) as test_client:
        yield test_client


@pytest.fixture
def small_api(connected: store.StoreInfo, shop: domain.BusinessUnit) -> Iterator[TestClient]:
    with make_client(make_settings(REVIEWS_MAX_BODY_BYTES=1000)) as test_client:
        yield test_client


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert a problem+json answer with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def review_count(api: TestClient) -> int:
    """How many reviews the public list shows (all products)."""
    return len(api.get(LIST, params={"product": "*", "limit": 100}).json()["items"])


# --- malformed JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'[{"external_id": "r1", "rating": 5,', "line 1, column"),
        (b'[\n  {"external_id": "r1"}\n  {"external_id": "r2"}\n]', "line 3"),
        (b"{'single': 'quotes'}", "line 1, column 2"),
        (b"[1, 2,]", "line 1, column"),
    ],
)
def test_malformed_json_on_ingest_is_400_saying_where(api: TestClient, body: bytes, where: str) -> None:
    detail = problem(api.post(INGEST, content=body, headers=JSON), 400)["detail"]
    assert "JSON" in detail
    assert where in detail
    assert review_count(api) == 0


def test_malformed_json_on_business_unit_create_is_400(api: TestClient) -> None:
    body = problem(api.post(UNITS, content=b'{"slug": "new-shop", "name": ', headers=JSON), 400)
    assert "JSON" in body["detail"]
    assert api.get("/v1/business-units/new-shop/summary").status_code == 404


def test_malformed_json_on_moderation_is_400(api: TestClient) -> None:
    api.post(INGEST, json=[review("r1")], headers=AUTH)
    problem(api.patch("/v1/admin/reviews/test-shop:api:r1", content=b'{"status": hid', headers=JSON), 400)


def test_deeply_nested_json_is_400_not_a_crash(api: TestClient) -> None:
    problem(api.post(INGEST, content=b"[" * 100_000, headers=JSON), 400)
    problem(api.post(UNITS, content=b'{"slug": "x", "name": "x", "sources": ' + b"[" * 100_000, headers=JSON), 400)


def test_non_utf8_json_is_400(api: TestClient) -> None:
    body = '[{"external_id": "r1", "rating": 5, "title": "café"}]'.encode("latin-1")
    problem(api.post(INGEST, content=body, headers=JSON), 400)


# --- wrong shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"5", b'"a string"', b"null", b"true", b"3.5"])
def test_a_json_scalar_as_ingest_body_is_422(api: TestClient, body: bytes) -> None:
    assert "list" in problem(api.post(INGEST, content=body, headers=JSON), 422)["detail"]


def test_a_list_of_strings_is_rejected_per_record(api: TestClient) -> None:
    response = api.post(INGEST, json=["a", "b", 7, None, [1]], headers=AUTH)
    assert response.status_code == 200
    report = response.json()
    assert (report["inserted"], report["rejected"]) == (0, 5)
    assert [r["index"] for r in report["rejections"]] == [0, 1, 2, 3, 4]
    assert all("object" in r["reason"] for r in report["rejections"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", UNITS, 5),
        ("POST", UNITS, ["a", "b"]),
        ("POST", UNITS, {"slug": ["a"], "name": {"x": 1}}),
        ("POST", UNITS, {"slug": "ok-shop", "name": "x", "unexpected": 1}),
        ("POST", "/v1/admin/business-units/test-shop/products", 5),
        ("POST", "/v1/admin/business-units/test-shop/products", ["a", "b"]),
        ("POST", "/v1/admin/business-units/test-shop/products", {"sku": "x y", "name": "bad sku"}),
        ("POST", "/v1/admin/business-units/test-shop/products", {"sku": "x", "name": "x", "gtin": "123"}),
        ("POST", "/v1/admin/tokens", 5),
        ("POST", "/v1/admin/tokens", ["a"]),
        ("POST", "/v1/admin/tokens", {"name": ""}),
        ("PATCH", "/v1/admin/reviews/test-shop:api:r1", 5),
        ("PATCH", "/v1/admin/reviews/test-shop:api:r1", ["hidden"]),
        ("PATCH", "/v1/admin/reviews/test-shop:api:r1", {"status": 1}),
    ],
)
def test_wrong_shapes_are_4xx(api: TestClient, method: str, path: str, body: Any) -> None:
    api.post(INGEST, json=[review("r1")], headers=AUTH)
    response = api.request(method, path, content=json.dumps(body).encode(), headers=JSON)
    assert 400 <= response.status_code < 500, response.text
    problem(response, response.status_code)
    assert api.get("/v1/admin/reviews/test-shop:api:r1", headers=AUTH).json()["status"] == "published"


# --- not found ----------------------------------------------------------------------------------


ONE_ROW_CSV = (TRUSTPILOT_HEADER + "a1,False,False,Fine,5,Good,0,,2026-10-01T10:00:00Z,\n").encode()


@pytest.mark.parametrize(
    ("method", "path", "send"),
    [
        ("GET", "/v1/business-units/no-such-shop/summary", {}),
        ("GET", "/v1/business-units/no-such-shop/reviews", {}),
        ("GET", "/v1/business-units/no-such-shop/products/oak-chair/summary", {}),
        ("POST", "/v1/admin/business-units/no-such-shop/reviews", {"json": [review("r1")], "headers": AUTH}),
        ("POST", "/v1/admin/business-units/no-such-shop/imports", {"content": ONE_ROW_CSV, "headers": CSV}),
        (
            "POST",
            "/v1/admin/business-units/no-such-shop/products",
            {"json": {"sku": "x", "name": "x"}, "headers": AUTH},
        ),
        ("POST", "/v1/admin/summaries/rebuild?business_unit=no-such-shop", {"headers": AUTH}),
    ],
)
def test_unknown_business_unit_is_404_naming_it(api: TestClient, method: str, path: str, send: dict) -> None:
    assert "no-such-shop" in problem(api.request(method, path, **send), 404)["detail"]


def test_unknown_sku_is_404(api: TestClient) -> None:
    assert "no-such-sku" in problem(api.get("/v1/business-units/test-shop/products/no-such-sku/summary"), 404)["detail"]
    assert "no-such-sku" in problem(api.get(LIST, params={"product": "no-such-sku"}), 404)["detail"]


def test_unknown_review_is_404(api: TestClient) -> None:
    assert (
        "test-shop:api:ghost"
        in problem(
            api.patch(
                "/v1/admin/reviews/test-shop:api:ghost", json={"status": "hidden", "reason": "Spam"}, headers=AUTH
            ),
            404,
        )["detail"]
    )
    problem(api.get("/v1/admin/reviews/test-shop:api:ghost", headers=AUTH), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/no/such/route"), ("GET", "/v1/business-units"), ("POST", "/v1/nothing-here"), ("GET", "/v2/x")],
)
def test_unknown_route_is_404_problem(api: TestClient, method: str, path: str) -> None:
    problem(api.request(method, path), 404)


def test_wrong_method_is_405_problem(api: TestClient) -> None:
    problem(api.delete("/v1/business-units/test-shop/summary"), 405)


# --- invalid business unit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"display_scale": 7}, "display_scale"),
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "-leading-dash"}, "slug"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"locales": ["english"]}, "locales"),
        ({"locales": []}, "locales"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_business_unit_is_422_naming_the_field(api: TestClient, fields: dict[str, Any], named: str) -> None:
    body = {"slug": "new-shop", "name": "New Shop", **fields}
    problem_body = problem(api.post(UNITS, json=body, headers=AUTH), 422)
    assert named in problem_body["detail"]
    assert any(e["field"].startswith(named) for e in problem_body["errors"])
    assert [u["slug"] for u in api.get(UNITS, headers=AUTH).json()["items"]] == ["test-shop"]


# --- pagination parameters ----------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        _b64(b"hello world"),
        _b64(b'{"after": 1}'),
        _b64(b'["2026-10-01", "test-shop:api:r1"]'),
        _b64(b"[1, 2]"),
        _b64(b"[1]"),
        _b64(b"\xff\xfe\x00"),
        _b64(b'[99999999999999999999, "x"]'),
        _b64(b'[-99999999999999999999, "x"]'),
    ],
)
def test_invalid_cursor_is_422(api: TestClient, cursor: str) -> None:
    api.post(INGEST, json=[review("r1")], headers=AUTH)
    assert "cursor" in problem(api.get(LIST, params={"cursor": cursor}), 422)["detail"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({"language": "dutch"}, "language"),
    ],
)
def test_out_of_range_query_parameters_are_422(api: TestClient, params: dict[str, Any], named: str) -> None:
    assert named in problem(api.get(LIST, params=params), 422)["detail"]


# --- imports ------------------------------------------------------------------------------------


def test_csv_with_the_wrong_header_is_400_naming_the_missing_columns(api: TestClient) -> None:
    body = b"review_id,stars,comment\nx1,5,Fine chair\n"
    detail = problem(api.post(IMPORT, params={"format": "trustpilot-csv"}, content=body, headers=CSV), 400)["detail"]
    for column in ("id", "rating", "published", "filtered", "pending"):
        assert column in detail
    detail = problem(api.post(IMPORT, params={"format": "generic-csv"}, content=body, headers=CSV), 400)["detail"]
    for column in ("external_id", "rating", "created_at"):
        assert column in detail
    assert review_count(api) == 0


def test_csv_with_nul_bytes_is_400(api: TestClient) -> None:
    body = (TRUSTPILOT_HEADER + "a1,False,False,Fine\x00chair,5,Good,0,,2026-10-01T10:00:00Z,\n").encode()
    assert "NUL" in problem(api.post(IMPORT, content=body, headers=CSV), 400)["detail"]
    assert review_count(api) == 0


def test_latin1_csv_is_400(api: TestClient) -> None:
    body = (TRUSTPILOT_HEADER + "a1,False,False,Très bien,5,Chaise géniale,0,,2026-10-01T10:00:00Z,\n").encode(
        "latin-1"
    )
    assert "UTF-8" in problem(api.post(IMPORT, content=body, headers=CSV), 400)["detail"]
    assert review_count(api) == 0


@pytest.mark.parametrize("fmt", ["trustpilot-csv", "generic-csv", "jsonl"])
@pytest.mark.parametrize("body", [b"", b"  \n\n  "])
def test_empty_import_is_400(api: TestClient, fmt: str, body: bytes) -> None:
    assert "empty" in problem(api.post(IMPORT, params={"format": fmt}, content=body, headers=CSV), 400)["detail"]


def test_unknown_import_format_is_422(api: TestClient) -> None:
    assert "format" in problem(api.post(IMPORT, params={"format": "xml"}, content=b"<x/>", headers=CSV), 422)["detail"]


def test_empty_ingest_body_is_400(api: TestClient) -> None:
    assert "empty" in problem(api.post(INGEST, content=b"", headers=JSON), 400)["detail"]


# --- body size ----------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(small_api: TestClient) -> None:
    big_json = json.dumps([review(f"r{i}") for i in range(20)]).encode()
    assert len(big_json) > 1000
    assert "1,000" in problem(small_api.post(INGEST, content=big_json, headers=JSON), 413)["detail"]
    big_csv = (TRUSTPILOT_HEADER + "a1,False,False,Fine,5,Good,0,,2026-10-01T10:00:00Z,\n" * 30).encode()
    problem(small_api.post(IMPORT, content=big_csv, headers=CSV), 413)
    assert small_api.get(LIST, params={"product": "*"}).json()["items"] == []


def test_every_route_refuses_a_declared_body_over_the_limit(small_api: TestClient) -> None:
    huge_unit = {"slug": "too-big-unit", "name": "x" * 2000}
    assert "1,000" in problem(small_api.post(UNITS, json=huge_unit, headers=AUTH), 413)["detail"]
    products = [{"sku": f"p{i}", "name": "Chair"} for i in range(40)]
    problem(small_api.post(f"{UNITS}/test-shop/products", json=products, headers=AUTH), 413)
    assert "too-big-unit" not in small_api.get(UNITS, headers=AUTH).text


def test_malformed_json_on_a_model_route_says_where(api: TestClient) -> None:
    detail = problem(api.post(UNITS, content=b'{"slug": "a", "name": }', headers=JSON), 400)["detail"]
    assert "character" in detail


def test_body_under_the_limit_is_accepted(small_api: TestClient) -> None:
    small = json.dumps([review("r1")]).encode()
    assert len(small) < 1000
    response = small_api.post(INGEST, content=small, headers=JSON)
    assert response.status_code == 200
    assert response.json()["inserted"] == 1


def test_streamed_body_over_the_limit_is_413(small_api: TestClient) -> None:
    """No Content-Length (chunked upload): the limit still holds while reading."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100

    problem(small_api.post(INGEST, content=chunks(), headers=JSON), 413)


# --- nothing crashes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        review("r1", created_at="9999-12-31T23:59:59-23:59"),
        review("r1", created_at="0001-01-01T00:00:00+01:00"),
        review("r1", created_at=12345),
        review("r1", created_at={"$gt": ""}),
        review({"$ne": None}),
        review("r1", rating={"$gt": 0}),
        review("r1", product={"$ne": None}),
        review("r1", verified="perhaps"),
        review("r1", source="Not A Source!"),
        review("r1", status="removed"),
        review("r1", language=["nl"]),
        review("r1", email=["a@b.nl"]),
        review("r1", order_ref={"id": 1}),
        review("r1", author=12),
    ],
)
def test_hostile_field_values_are_rejected_per_record(api: TestClient, record: dict[str, Any]) -> None:
    response = api.post(INGEST, json=[record, review("good")], headers=AUTH)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert report["rejections"][0]["index"] == 0
    assert report["rejections"][0]["reason"]
    assert review_count(api) == 1

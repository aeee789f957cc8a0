"""Headers on every answer: nosniff and Referrer-Policy everywhere, no-store on admin answers, a CSP on
the pages that render on their own (widget frames, the SVG badge), ETag/304 and gzip on the public reads
and gzip on the demo pages. Through the whole app, fast path included."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from tests.conftest import review

INGEST = "/v1/admin/business-units/test-shop/reviews"
SUMMARY = "/v1/business-units/test-shop/summary"
PRODUCT_SUMMARY = "/v1/business-units/test-shop/products/oak-chair/summary"
REVIEWS = "/v1/business-units/test-shop/reviews?product=*&limit=20"
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The answer and its bytes as sent (httpx would otherwise decode the gzip for us)."""
    with client.stream("GET", path, headers=headers) as answer:
        return answer, b"".join(answer.iter_raw())


def _constant(answer: httpx.Response, what: str) -> None:
    assert answer.headers.get("x-content-type-options") == "nosniff", what
    assert answer.headers.get("referrer-policy") == "strict-origin-when-cross-origin", what
    assert len(answer.headers.get_list("x-content-type-options")) == 1, what


def test_every_kind_of_answer_says_nosniff_and_its_referrer_policy(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    badge = "/widgets/test-shop/badge.html"
    answers = {
        "health": client.get("/health"),
        "summary": client.get(SUMMARY),
        "reviews": client.get(REVIEWS),
        "widget miss": client.get(badge),
        "widget hit": client.get(badge),
        "widget 304": client.get(badge, headers={"If-None-Match": client.get(badge).headers["etag"]}),
        "widget problem": client.get("/widgets/no-such-shop/badge.html"),
        "loader": client.get("/widgets/loader.js"),
        "svg": client.get("/widgets/test-shop/badge.svg"),
        "unknown route": client.get("/no/such/thing"),
        "seo": client.get("/seo/test-shop/products/oak-chair.jsonld"),
        "export": client.get("/seo/test-shop/export.ndjson"),
        "demo page": client.get("/demo/test-shop/"),
        "favicon": client.get("/favicon.ico"),
        "openapi": client.get("/openapi.json"),
        "admin": client.get("/v1/admin/business-units/test-shop/products", headers=admin),
        "admin 401": client.get("/v1/admin/business-units/test-shop/products"),
        "413": client.post(INGEST, content=b"x", headers={**admin, "Content-Length": str(10**12)}),
        "cors preflight": client.options(
            SUMMARY, headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
        ),
    }
    assert answers["widget 304"].status_code == 304 and answers["widget problem"].status_code == 404
    assert answers["413"].status_code == 413 and answers["admin 401"].status_code == 401
    for what, answer in answers.items():
        _constant(answer, what)


def test_every_admin_answer_is_no_store_errors_included(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("a", 5, email="eve@example.com")], headers=admin).raise_for_status()
    answers = {
        "review with e-mail": client.get("/v1/admin/reviews/test-shop:api:a", headers=admin),
        "products": client.get("/v1/admin/business-units/test-shop/products", headers=admin),
        "ingest": client.post(INGEST, json=[review("a", 5)], headers=admin),
        "401": client.get("/v1/admin/business-units/test-shop/products"),
        "bad token": client.get("/v1/admin/business-units/test-shop/products", headers={"Authorization": "Bearer no"}),
        "404": client.get("/v1/admin/business-units/no-such-shop/products", headers=admin),
        "422": client.post(
            "/v1/admin/business-units/test-shop/products", json={"sku": "x", "name": "x", "price": -1}, headers=admin
        ),
        "400": client.post(INGEST, content=b"{", headers={**admin, "Content-Type": "application/json"}),
        "405": client.delete("/v1/admin/business-units/test-shop/products", headers=admin),
        "tokens": client.get("/v1/admin/tokens", headers=admin),
    }
    assert "eve@example.com" in answers["review with e-mail"].text
    statuses = {what: answer.status_code for what, answer in answers.items()}
    assert statuses == {
        "review with e-mail": 200, "products": 200, "ingest": 200, "401": 401, "bad token": 401, "404": 404,
        "422": 422, "400": 400, "405": 405, "tokens": 200,
    }  # fmt: skip
    for what, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", (what, answer.status_code, answer.headers)
        assert len(answer.headers.get_list("cache-control")) == 1, what
    # public answers keep theirs
    assert client.get(SUMMARY).headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    assert client.get(REVIEWS).headers["cache-control"] == "public, max-age=30"


@pytest.mark.parametrize("path", [SUMMARY, PRODUCT_SUMMARY, REVIEWS])
def test_public_reads_answer_if_none_match_with_304_until_the_data_changes(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], path: str
) -> None:
    client.post(INGEST, json=[review("a", 4, product="oak-chair"), review("b", 5)], headers=admin).raise_for_status()
    first = client.get(path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong: a hash of the exact bytes
    assert client.get(path).headers["etag"] == etag  # the same data, the same tag
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == first.headers["cache-control"]
    assert client.get(path, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200

    more = [review("c", 1, product="oak-chair"), review("d", 2)]
    client.post(INGEST, json=more, headers=admin).raise_for_status()
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json() != first.json()


def test_the_review_list_is_gzipped_only_for_a_client_that_accepts_it(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    long_text = "Mooie stoel, snel geleverd en goed verpakt. " * 5
    records = [review(f"r{i}", 1 + i % 5, text=long_text, product="oak-chair") for i in range(12)]
    client.post(INGEST, json=records, headers=admin).raise_for_status()

    plain, plain_bytes = _raw(client, REVIEWS, PLAIN)
    packed, packed_bytes = _raw(client, REVIEWS, {"Accept-Encoding": "gzip, deflate, br, zstd"})
    refused, refused_bytes = _raw(client, REVIEWS, {"Accept-Encoding": "gzip;q=0, identity"})

    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert refused_bytes == plain_bytes
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed_bytes) == plain_bytes
    assert int(packed.headers["content-length"]) == len(packed_bytes) < len(plain_bytes) / 3
    for answer in (plain, packed, refused):
        assert "Accept-Encoding" in answer.headers["vary"]
        assert answer.headers["etag"] == plain.headers["etag"]
        assert answer.headers["cache-control"] == "public, max-age=30"
    assert json.loads(plain_bytes)["items"]


def test_demo_pages_are_gzipped_html_with_a_description_and_a_favicon(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    for path in ("/demo/test-shop/", "/demo/test-shop/products", "/demo/test-shop/products/oak-chair"):
        plain, plain_bytes = _raw(client, path, PLAIN)
        packed, packed_bytes = _raw(client, path, GZIP)
        assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/html")
        assert packed.headers["content-encoding"] == "gzip" and gzip.decompress(packed_bytes) == plain_bytes
        assert "Accept-Encoding" in plain.headers["vary"]
        page = plain_bytes.decode()
        assert '<meta name="description" content="' in page
        assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in page
    svg = client.get("/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and "script" not in svg.text
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in ico.content[22:26]
    assert "max-age" in ico.headers["cache-control"]


def test_frame_pages_and_the_svg_badge_carry_a_csp_and_fragments_do_not(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    frames = ["/widgets/test-shop/badge.html?frame=1", "/widgets/test-shop/reviews.html?frame=1&limit=3"]
    for path in frames:
        for attempt in ("miss", "hit"):  # rendered, then from the fast path's cache
            csp = client.get(path).headers.get("content-security-policy", "")
            assert "default-src 'none'" in csp and "style-src 'self'" in csp, (path, attempt)
            assert "script-src" not in csp and "frame-ancestors" not in csp  # no script; embeddable anywhere
    for attempt in ("miss", "hit"):
        svg = client.get("/widgets/test-shop/badge.svg")
        assert svg.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'", attempt
    for path in ("/widgets/test-shop/badge.html", "/widgets/test-shop/data.json"):
        assert "content-security-policy" not in client.get(path).headers, path  # parts of the shop's own page


def test_an_unexpected_500_carries_the_same_headers(settings: object, connected: object) -> None:
    """Starlette sends the 500 from outside every middleware; it still says nosniff, and no-store on admin."""
    from reviews_service.app import create_app

    app = create_app(settings, connect=False)  # type: ignore[arg-type]

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/admin/boom", boom)
    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/v1/admin/boom", "/boom"):
            answer = client.get(path)
            assert answer.status_code == 500 and answer.json()["status"] == 500, path
            _constant(answer, path)
        assert client.get("/v1/admin/boom").headers["cache-control"] == "no-store"

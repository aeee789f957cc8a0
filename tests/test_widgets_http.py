"""Widget answers over HTTP: cached bytes with validators, fresh after every change, safe and small."""

from __future__ import annotations

import gzip
import json
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, i18n
from reviews_service.state import ServiceState
from tests.conftest import review
from widgets import i18n as widget_i18n

BADGE = "/widgets/test-shop/badge.html"
STARS = "/widgets/test-shop/products/oak-chair/stars.html"
DATA = "/widgets/test-shop/data.json?skus=oak-chair,walnut-table,unknown-sku&locale=nl&reviews=3"
INGEST = "/v1/admin/business-units/test-shop/reviews"


def test_every_widget_answer_is_cacheable_and_revalidates_with_304(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    for path in (BADGE, STARS, DATA, "/widgets/test-shop/badge.svg", "/widgets/test-shop/reviews.html?limit=2"):
        first = client.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
        assert first.headers["access-control-allow-origin"] == "*"
        etag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_new_review_changes_the_badge_and_its_etag_at_once(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    before = client.get(BADGE)
    assert "Nog geen beoordelingen" in before.text
    client.post(INGEST, json=[review("a", 5), review("b", 4)], headers=admin).raise_for_status()
    after = client.get(BADGE, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "2 beoordelingen" in after.text and "<b>4,5</b> / 5" in after.text


def test_hiding_a_product_review_updates_the_product_stars(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(
        INGEST, json=[review("p1", 1, product="oak-chair"), review("p2", 5, product="oak-chair")], headers=admin
    )
    assert "op basis van 2 beoordelingen" in client.get(STARS).text
    client.patch(
        "/v1/admin/reviews/test-shop:api:p1", json={"status": "hidden", "reason": "Spam"}, headers=admin
    ).raise_for_status()
    stars = client.get(STARS).text
    assert 'aria-label="Beoordeeld met 5,0 van 5 op basis van 1 beoordeling"' in stars


def test_data_json_serves_a_whole_page_in_one_answer(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(
        INGEST,
        json=[review("s1", 4), review("p1", 5, product="oak-chair", email="eve@example.com", order_ref="ORD-77")],
        headers=admin,
    )
    data = client.get(DATA).json()
    assert data["summary"]["review_count"] == 1
    assert set(data["products"]) == {"oak-chair", "walnut-table", "unknown-sku"}
    assert data["products"]["unknown-sku"] is None  # the loader shows its fallback there
    assert "Nog geen beoordelingen" in data["products"]["walnut-table"]
    assert data["product_summaries"]["oak-chair"]["review_count"] == 1
    assert 'role="img"' in data["badge"] and data["reviews"].count('class="rw-review"') == 1
    raw = client.get(DATA).text
    assert "eve@example.com" not in raw and "ORD-77" not in raw


def test_latest_reviews_are_the_honest_latest_unless_a_filter_is_asked_for(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    records = [review(f"r{i}", 1 + i % 5, created_at=f"2026-10-{10 + i:02d}T10:00:00Z") for i in range(8)]
    client.post(INGEST, json=records, headers=admin).raise_for_status()
    latest = client.get("/widgets/test-shop/reviews.html?limit=3").text
    assert latest.count('class="rw-review"') == 3
    assert latest.index("Review r7") < latest.index("Review r6") < latest.index("Review r5")
    assert "Review r4" not in latest
    fives = client.get("/widgets/test-shop/reviews.html?limit=5&rating=5").text
    assert "Review r4" in fives and "Review r7" not in fives


def test_gzip_is_served_when_asked_for(client: TestClient, shop: domain.BusinessUnit) -> None:
    response = client.get(BADGE, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    plain = client.get(BADGE, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert response.text == plain.text  # the client decoded the gzip body to the same bytes


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip, deflate, br, zstd", True),
        ("gzip;q=0.5, identity", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("gzip;q=0", False),
        ("br, gzip; q=0.000", False),
        ("*;q=0", False),
        ("deflate, br", False),
        ("", False),
    ],
)
def test_gzip_only_where_accept_encoding_allows_it(
    client: TestClient, shop: domain.BusinessUnit, accept_encoding: str, gzipped: bool
) -> None:
    response = client.get(BADGE, headers={"Accept-Encoding": accept_encoding})
    assert response.status_code == 200
    assert (response.headers.get("content-encoding") == "gzip") is gzipped
    assert 'class="rw rw-badge"' in response.text


def test_the_loader_is_tiny_and_needs_no_inline_code(client: TestClient) -> None:
    loader = client.get("/widgets/loader.js", headers={"Accept-Encoding": "identity"})
    assert loader.status_code == 200 and loader.headers["content-type"].startswith("application/javascript")
    assert len(gzip.compress(loader.content, 9)) <= 4096
    assert "eval(" not in loader.text and "new Function" not in loader.text and "import " not in loader.text
    css = client.get("/widgets/widgets.css")
    assert css.status_code == 200 and "[data-reviews-widget=" in css.text


def test_the_loaders_fallback_text_comes_from_the_catalogs_and_stays_valid_js(
    client: TestClient, tmp_path: Path
) -> None:
    served = client.get("/widgets/loader.js").text
    start = served.index("var FALLBACK = ") + len("var FALLBACK = ")
    fallback = json.loads(served[start : served.index(";", start)])
    assert fallback == {locale: i18n.gettext(locale, "Read our reviews") for locale in widget_i18n.LOCALES}
    assert fallback["nl"] == "Bekijk onze beoordelingen" and fallback["fr"] == "Lire nos avis"
    on_disk = resources.files("widgets").joinpath("static/loader.js").read_text(encoding="utf-8")
    for name, text in (("served.js", served), ("on-disk.js", on_disk)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        checked = subprocess.run(["node", "--check", str(tmp_path / name)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr


def test_unknown_business_unit_or_product_is_a_404_problem(client: TestClient, shop: domain.BusinessUnit) -> None:
    for path in ("/widgets/nope/badge.html", "/widgets/test-shop/products/nope/stars.html", "/widgets/nope/data.json"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert json.loads(response.text)["status"] == 404


def test_bad_widget_parameters_are_a_422_like_the_api_not_a_500(client: TestClient, shop: domain.BusinessUnit) -> None:
    for query in ("limit=0", "limit=abc", "limit=999", "rating=9", "language=dutch"):
        response = client.get(f"/widgets/test-shop/reviews.html?{query}")
        assert response.status_code == 422, query
    too_many = ",".join(f"s{i}" for i in range(101))
    assert client.get(f"/widgets/test-shop/data.json?skus={too_many}").status_code == 422
    # a malformed sku is just not one of the shop's: null there, like any unknown sku (tests/test_widgets_cache.py)
    assert client.get("/widgets/test-shop/data.json?skus=%3Cscript%3E").json()["products"] == {"<script>": None}


def test_iframe_mode_is_a_whole_page_with_our_stylesheet(client: TestClient, shop: domain.BusinessUnit) -> None:
    page = client.get(f"{BADGE}?frame=1&theme=dark").text
    assert page.startswith("<!doctype html>") and '/widgets/widgets.css"' in page
    assert 'data-theme="dark"' in page


def test_demo_pages_use_a_strict_csp_and_the_loader(client: TestClient, state: ServiceState) -> None:
    from reviews_service import demo
    from tests.conftest import NOW

    demo.load(state, NOW)
    home = client.get("/demo", follow_redirects=True)
    assert home.status_code == 200
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert "'unsafe-inline'" not in home.headers["content-security-policy"]
    assert '<script src="/widgets/loader.js" async></script>' in home.text
    listing = client.get("/demo/flinders-nl/products").text
    assert listing.count('data-reviews-widget="product-stars"') == 24


def test_cache_busting_parameters_share_one_rendering(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:

    first = client.get(f"{BADGE}?locale=nl&cb=1")
    entries = len(state.widgets._entries)
    for n in range(2, 50):
        again = client.get(f"{BADGE}?locale=nl&cb={n}")
        assert again.headers["etag"] == first.headers["etag"]
    assert len(state.widgets._entries) == entries  # junk parameters add nothing to the cache


def test_if_none_match_lists_and_weak_tags_revalidate(client: TestClient, shop: domain.BusinessUnit) -> None:
    from reviews_service.cache import etag_matches

    etag = client.get(BADGE).headers["etag"]
    for header in (f'"x", {etag}', f"W/{etag}", "*"):
        assert client.get(BADGE, headers={"If-None-Match": header}).status_code == 304, header
    seo = "/seo/test-shop/products/oak-chair.jsonld"
    seo_etag = client.get(seo).headers["etag"]
    assert client.get(seo, headers={"If-None-Match": f'"x", {seo_etag}'}).status_code == 304
    assert not etag_matches('"a", "b"', '"c"') and not etag_matches(None, '"c"') and not etag_matches("", '"c"')

"""schema.org JSON-LD: the builders' exact output, safe embedding in a page, the SEO endpoints, the export,
and the demo shop's product pages read back the way a search engine reads them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import extruct
import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews_service import domain
from reviews_service.api.deps import now_dep
from seo import jsonld, validate
from tests.conftest import LIVE_ADMIN_TOKEN, review

INGEST = "/v1/admin/business-units/test-shop/reviews"
OAK = "/seo/test-shop/products/oak-chair.jsonld"
EXPORT = "/seo/test-shop/export.ndjson"
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def _review(ext: str, rating: int, days: int = 0, **fields: Any) -> domain.Review:
    values: dict[str, Any] = {
        "id": f"s:api:{ext}",
        "business_unit": "s",
        "source": "api",
        "external_id": ext,
        "rating": rating,
        "title": f"Title {ext}",
        "text": f"Text {ext}",
        "created_at": T0 - timedelta(days=days),
        "updated_at": T0,
        "product": "chair",
        "language": "nl",
        "author": f"Author {ext}",
    }
    values.update(fields)
    return domain.Review(**values)


def _summary(sku: str | None, reviews: list[domain.Review]) -> domain.RatingSummary:
    histogram = dict.fromkeys(domain.RATINGS, 0)
    for r in reviews:
        histogram[r.rating] += 1
    return domain.RatingSummary(
        key=domain.summary_key("s", sku), business_unit="s", product=sku, histogram=histogram, last_review_at=T0
    )


def _types(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type", [])
    return {str(t).rsplit("/", 1)[-1] for t in (raw if isinstance(raw, list) else [raw])}


# --- the pure builders ----------------------------------------------------------------------------


def test_product_on_a_ten_point_unit_is_exactly_the_google_ready_dict() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop", locales=("nl", "en"), display_scale=10)
    chair = domain.Product(
        business_unit="s",
        sku="chair",
        name="Oak chair",
        url="https://shop.example/chair",
        image="https://shop.example/chair.jpg",
        gtin="8712345678906",
        brand="Flinders",
    )
    newest = _review("a", 5, 0, email="eve@example.com", order_ref="ORD-4711")
    blank = _review("b", 4, 1, author="  ", title="", text="", language=None)
    lowest = _review("c", 1, 2, language="en")
    hidden = _review("d", 1, 3, status="hidden", author="Hidden Harry", text="secret")
    other = _review("e", 2, 4, product="table", author="Table Tom")
    published = [newest, blank, lowest]

    data = jsonld.product(unit, chair, _summary("chair", published), [newest, blank, lowest, hidden, other])

    assert data == {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Oak chair",
        "sku": "chair",
        "url": "https://shop.example/chair",
        "image": "https://shop.example/chair.jpg",
        "gtin": "8712345678906",
        "brand": {"@type": "Brand", "name": "Flinders"},
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": 6.7,  # (5 + 4 + 1) / 3 = 3.33 of 5 = 6.7 of 10
            "reviewCount": 3,
            "bestRating": 10,
            "worstRating": 2,
        },
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": "Author a"},
                "reviewRating": {"@type": "Rating", "ratingValue": 10, "bestRating": 10, "worstRating": 2},
                "datePublished": "2026-10-01",
                "name": "Title a",
                "reviewBody": "Text a",
                "inLanguage": "nl",
            },
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": "Klant"},  # blank name: the widgets' word in nl
                "reviewRating": {"@type": "Rating", "ratingValue": 8, "bestRating": 10, "worstRating": 2},
                "datePublished": "2026-09-30",
            },
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": "Author c"},
                "reviewRating": {"@type": "Rating", "ratingValue": 2, "bestRating": 10, "worstRating": 2},
                "datePublished": "2026-09-29",
                "name": "Title c",
                "reviewBody": "Text c",
                "inLanguage": "en",
            },
        ],
    }
    text = json.dumps(data)
    for secret in ("eve@example.com", "ORD-4711", "Hidden Harry", "secret", "Table Tom"):
        assert secret not in text


def test_a_five_point_unit_states_its_bounds_and_keeps_one_decimal() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop", locales=("en",))
    chair = domain.Product(business_unit="s", sku="chair", name="Chair")
    reviews = [_review("a", 5), _review("b", 4, 1), _review("c", 4, 2)]
    data = jsonld.product(unit, chair, _summary("chair", reviews), reviews)
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.3,
        "reviewCount": 3,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert [r["reviewRating"]["ratingValue"] for r in data["review"]] == [5, 4, 4]
    assert set(data) == {"@context", "@type", "name", "sku", "aggregateRating", "review"}  # no empty catalogue fields


def test_a_product_without_published_reviews_has_no_rating_and_no_review_key() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop", display_scale=10)
    chair = domain.Product(business_unit="s", sku="chair", name="Chair")
    stray = [_review("a", 5, status="hidden"), _review("b", 4)]  # whatever the caller passes, the summary rules
    for reviews in ([], stray):
        data = jsonld.product(unit, chair, domain.RatingSummary.empty("s", "chair"), reviews)
        assert data == {"@context": "https://schema.org", "@type": "Product", "name": "Chair", "sku": "chair"}


def test_a_catalogue_price_becomes_the_products_offer_and_only_then() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop", locales=("nl",), display_scale=5)
    lamp = domain.Product(
        business_unit="s",
        sku="lamp",
        name="Lamp",
        url="https://shop.example/lamp",
        price="1249.90",
        currency="GBP",
        availability="BackOrder",
    )
    data = jsonld.product(unit, lamp, domain.RatingSummary.empty("s", "lamp"), [])
    assert data == {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Lamp",
        "sku": "lamp",
        "url": "https://shop.example/lamp",
        "offers": {
            "@type": "Offer",
            "price": "1249.90",
            "priceCurrency": "GBP",
            "availability": "https://schema.org/BackOrder",
            "url": "https://shop.example/lamp",
        },
    }
    assert validate.validate_html(jsonld.script_element(data))["problems"] == []
    # no price: no offers at all (never a price of 0 the shop did not state), and Google's required property is missing
    bare = domain.Product(business_unit="s", sku="lamp", name="Lamp")
    unpriced = jsonld.product(unit, bare, domain.RatingSummary.empty("s", "lamp"), [])
    assert "offers" not in unpriced
    problems = validate.validate_html(jsonld.script_element(unpriced))["problems"]
    assert [(p["rule"], p["severity"]) for p in problems] == [("product-snippet", "error")]


def test_author_names_are_cut_under_100_characters() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop")
    chair = domain.Product(business_unit="s", sku="chair", name="Chair")
    names = ["A" * 150, "B" * 100, "C" * 98 + " " + "D" * 10, "é" * 99]
    reviews = [_review(str(i), 4, i, author=name) for i, name in enumerate(names)]
    data = jsonld.product(unit, chair, _summary("chair", reviews), reviews)
    got = [r["author"]["name"] for r in data["review"]]
    assert got == ["A" * 99, "B" * 99, "C" * 98, "é" * 99]
    assert all(len(name) < 100 for name in got)


def test_date_published_is_the_shops_local_day() -> None:
    chair = domain.Product(business_unit="s", sku="chair", name="Chair")
    late = _review("late", 4, created_at=datetime(2026, 10, 1, 23, 30, tzinfo=UTC))
    days = {}
    for zone in ("UTC", "Europe/Amsterdam", "America/New_York"):
        unit = domain.BusinessUnit(slug="s", name="Shop", timezone=zone)
        days[zone] = jsonld.product(unit, chair, _summary("chair", [late]), [late])["review"][0]["datePublished"]
    assert days == {"UTC": "2026-10-01", "Europe/Amsterdam": "2026-10-02", "America/New_York": "2026-10-01"}


def test_organization_markup_has_the_shop_rating_on_its_scale() -> None:
    unit = domain.BusinessUnit(slug="s", name="Shop", domain="shop.example", display_scale=10)
    reviews = [_review("a", 5, product=None), _review("b", 4, product=None)]
    assert jsonld.organization(unit, _summary(None, reviews)) == {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Shop",
        "url": "https://shop.example/",
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": 9,
            "reviewCount": 2,
            "bestRating": 10,
            "worstRating": 2,
        },
    }
    assert "aggregateRating" not in jsonld.organization(unit, domain.RatingSummary.empty("s", None))


# --- safe embedding (property) --------------------------------------------------------------------

NASTY = st.sampled_from(
    ["</script>", "</SCRIPT >", "<!--", "-->", "<script>", "]]>", "\u2028", "\u2029", '"', "'", "\\", "\\u003c",
     "&amp;", "&lt;", "😀", "👩‍👩‍👧", "שלום", "مرحبا", "\u202e", "\u200f", "\ufeff", "\x00", "\x85", "\r\n", "\t",
     "\U0010ffff", "{", "}"]
)  # fmt: skip
ANY_TEXT = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=6).map("".join)
NAME = ANY_TEXT.filter(lambda s: bool(s.strip()))
AUTHOR = ANY_TEXT.filter(lambda s: not validate.PROMOTIONAL.search(s))  # "50% off" is rightly refused as a name
MOMENT = st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[domain.BusinessUnit, list[tuple[domain.Product, list[domain.Review]]]]:
    unit = domain.BusinessUnit(
        slug="s",
        name=draw(NAME),
        locales=draw(st.sampled_from([("nl", "en"), ("fr",), ("de",), ("en",), ("xx",)])),
        display_scale=draw(st.sampled_from([5, 10])),
    )
    entries = []
    for index in range(draw(st.integers(1, 3))):
        sku = f"sku-{index}"
        item = domain.Product(
            business_unit="s",
            sku=sku,
            name=draw(NAME),
            url=draw(ANY_TEXT),
            image=draw(ANY_TEXT),
            gtin=draw(st.sampled_from(["", "8712345678906"])),
            brand=draw(ANY_TEXT),
            price=draw(st.sampled_from(["", "", "0.00", "1249.90"])),
            availability=draw(st.sampled_from(["", "InStock", "BackOrder"])),
        )
        reviews = [
            domain.Review(
                id=f"s:api:{sku}-{n}",
                business_unit="s",
                source="api",
                external_id=f"{sku}-{n}",
                rating=draw(st.integers(1, 5)),
                title=draw(ANY_TEXT),
                text=draw(ANY_TEXT),
                created_at=draw(MOMENT),
                updated_at=T0,
                product=sku,
                language=draw(st.sampled_from([None, "nl", "en", "fr", "ar", "he"])),
                author=draw(AUTHOR),
                email=draw(st.sampled_from([None, "leak@example.com"])),
                order_ref=draw(st.sampled_from([None, "ORD-LEAK-1"])),
                status=draw(st.sampled_from(["published", "published", "hidden"])),
            )
            for n in range(draw(st.integers(0, 4)))
        ]
        entries.append((item, reviews))
    return unit, entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogue=catalogues())
def test_any_text_survives_the_script_element_and_validates_clean(
    catalogue: tuple[domain.BusinessUnit, list[tuple[domain.Product, list[domain.Review]]]],
) -> None:
    unit, entries = catalogue
    built = []
    for item, reviews in entries:
        published = [r for r in reviews if r.status == "published"]
        built.append(jsonld.product(unit, item, _summary(item.sku, published), reviews))
    scripts = "".join(jsonld.script_element(data) for data in built)
    page = (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Shop</title>'
        f"{scripts}</head><body><h1>Shop</h1><p>after the markup</p></body></html>"
    )

    found = extruct.extract(page, syntaxes=["json-ld"], uniform=True, errors="strict")["json-ld"]
    assert found == built  # nothing broke out of a <script>, nothing was lost or altered

    soup = BeautifulSoup(page, "html.parser")
    assert len(soup.find_all("script")) == len(built)
    assert soup.find("p") is not None and soup.find("p").text == "after the markup"

    report = validate.validate_html(page)
    # The one thing a product without published reviews or a price lacks: Google requires review,
    # aggregateRating or offers, so the validator calls it an error.
    bare = [index for index, data in enumerate(built) if "aggregateRating" not in data and "offers" not in data]
    assert [p["rule"] for p in report["problems"]] == ["product-snippet"] * len(bare)
    assert all(p["severity"] == "error" for p in report["problems"])
    for (item, _reviews), data in zip(entries, built, strict=True):
        assert ("offers" in data) == bool(item.price)
        if item.price:
            assert (data["offers"]["price"], data["offers"]["priceCurrency"]) == (item.price, "EUR")
    assert [i["@type"] for i in report["items"]] == ["Product"] * len(built)
    for data in built:
        for r in data.get("review", []):
            assert len(r["author"]["name"]) < 100
    assert "leak@example.com" not in page and "ORD-LEAK-1" not in page


# --- the endpoints ---------------------------------------------------------------------------------


def _create_ten_point_shop(client: TestClient, admin: dict[str, str]) -> None:
    unit = {
        "slug": "tien",
        "name": "Tien Shop",
        "domain": "tien.example",
        "locales": ["nl"],
        "timezone": "Europe/Amsterdam",
        "display_scale": 10,
    }
    client.post("/v1/admin/business-units", json=unit, headers=admin).raise_for_status()
    product = {
        "sku": "lamp",
        "name": "Brass lamp",
        "url": "https://tien.example/lamp",
        "image": "https://tien.example/lamp.jpg",
        "gtin": "8712345678906",
        "brand": "Flinders",
    }
    client.post("/v1/admin/business-units/tien/products", json=product, headers=admin).raise_for_status()


def test_product_endpoint_on_a_ten_point_unit_shows_the_widgets_figures(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create_ten_point_shop(client, admin)
    records = [
        review("l1", 5, product="lamp", created_at="2026-10-03T10:00:00Z", language="nl", author="Sanne V."),
        review("l2", 4, product="lamp", created_at="2026-10-02T10:00:00Z", language="en", author="Tom B."),
        review("l3", 4, product="lamp", created_at="2026-10-01T10:00:00Z", language="nl", author="Ilse K."),
        review("shop", 1),  # about the shop, not the lamp
    ]
    client.post("/v1/admin/business-units/tien/reviews", json=records, headers=admin).raise_for_status()

    answer = client.get("/seo/tien/products/lamp.jsonld")
    assert answer.status_code == 200
    data = answer.json()
    summary = client.get("/v1/business-units/tien/products/lamp/summary").json()
    stars = client.get("/widgets/tien/products/lamp/stars.html").text

    assert summary["display"] == {"value": 8.7, "scale": 10}
    assert data["aggregateRating"]["ratingValue"] == summary["display"]["value"]
    assert '<span class="rw-score" aria-hidden="true">8,7<span class="rw-scale"> / 10</span></span>' in stars
    assert data == {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Brass lamp",
        "sku": "lamp",
        "url": "https://tien.example/lamp",
        "image": "https://tien.example/lamp.jpg",
        "gtin": "8712345678906",
        "brand": {"@type": "Brand", "name": "Flinders"},
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": 8.7,
            "reviewCount": 3,
            "bestRating": 10,
            "worstRating": 2,
        },
        "review": [
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": name},
                "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": 10, "worstRating": 2},
                "datePublished": day,
                "name": f"Review {ext}",
                "reviewBody": "Mooie stoel, snel geleverd en goed verpakt.",
                "inLanguage": lang,
            }
            for ext, name, value, day, lang in [
                ("l1", "Sanne V.", 10, "2026-10-03", "nl"),
                ("l2", "Tom B.", 8, "2026-10-02", "en"),
                ("l3", "Ilse K.", 8, "2026-10-01", "nl"),
            ]
        ],
    }
    assert [r["author"]["name"] for r in client.get("/seo/tien/products/lamp.jsonld?reviews=1").json()["review"]] == [
        "Sanne V."
    ]
    assert "review" not in client.get("/seo/tien/products/lamp.jsonld?reviews=0").json()


def test_date_published_is_the_day_the_widgets_show_in_the_shops_time_zone(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create_ten_point_shop(client, admin)
    late = review("late", 5, product="lamp", created_at="2026-10-01T23:30:00Z")  # 2 Oct, 01:30 in Amsterdam
    client.post("/v1/admin/business-units/tien/reviews", json=[late], headers=admin).raise_for_status()
    shown = client.get("/widgets/tien/reviews.html?product=lamp&limit=5").text
    assert '<time class="rw-date"' in shown and "2 okt 2026</time>" in shown
    markup = client.get("/seo/tien/products/lamp.jsonld").json()
    assert markup["review"][0]["datePublished"] == "2026-10-02"


def test_product_without_published_reviews_has_no_aggregate_rating(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    walnut = client.get("/seo/test-shop/products/walnut-table.jsonld")
    assert walnut.status_code == 200
    assert walnut.json() == {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Walnut table",
        "sku": "walnut-table",
    }
    client.post(INGEST, json=[review("w1", 2, product="walnut-table")], headers=admin).raise_for_status()
    assert client.get("/seo/test-shop/products/walnut-table.jsonld").json()["aggregateRating"]["reviewCount"] == 1
    client.patch(
        "/v1/admin/reviews/test-shop:api:w1", json={"status": "hidden", "reason": "Spam"}, headers=admin
    ).raise_for_status()
    hidden_all = client.get("/seo/test-shop/products/walnut-table.jsonld")
    assert "aggregateRating" not in hidden_all.json() and "review" not in hidden_all.json()
    assert "reviewCount" not in hidden_all.text and "ratingCount" not in hidden_all.text


def test_hidden_reviews_never_appear(client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]) -> None:
    records = [
        review("o1", 5, product="oak-chair", author="Visible Vera", created_at="2026-10-01T10:00:00Z"),
        review(
            "o2",
            1,
            product="oak-chair",
            author="Hidden Henk",
            text="Verborgen tekst",
            created_at="2026-10-02T10:00:00Z",
        ),
        review("o3", 4, product="oak-chair", author="Visible Vince", created_at="2026-10-03T10:00:00Z"),
    ]
    client.post(INGEST, json=records, headers=admin).raise_for_status()
    client.patch(
        "/v1/admin/reviews/test-shop:api:o2", json={"status": "hidden", "reason": "Spam"}, headers=admin
    ).raise_for_status()
    for path in (OAK, f"{OAK}?format=html", EXPORT):
        text = client.get(path).text
        assert "Hidden Henk" not in text and "Verborgen" not in text, path
        assert "Visible Vera" in text and "Visible Vince" in text, path
    data = client.get(OAK).json()
    assert data["aggregateRating"]["reviewCount"] == 2 and data["aggregateRating"]["ratingValue"] == 4.5
    assert [r["author"]["name"] for r in data["review"]] == ["Visible Vince", "Visible Vera"]


def test_long_author_names_are_cut_under_100_over_http(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("long", 5, product="oak-chair", author="Z" * 250)], headers=admin)
    name = client.get(OAK).json()["review"][0]["author"]["name"]
    assert name == "Z" * 99


def test_email_and_order_ref_never_appear(client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]) -> None:
    records = [
        review("p1", 5, product="oak-chair", email="eve.secret@example.com", order_ref="ORD-SECRET-1"),
        review("p2", 4, product="oak-chair", author="mallory.secret@example.org", order_ref="ORD-SECRET-2"),
        review("s1", 3, email="shop.secret@example.net", order_ref="ORD-SECRET-3"),
    ]
    client.post(INGEST, json=records, headers=admin).raise_for_status()
    paths = [OAK, f"{OAK}?format=html", "/seo/test-shop/organization.jsonld", EXPORT]
    for path in paths:
        text = client.get(path).text
        assert "secret@" not in text and "ORD-SECRET" not in text and "@example." not in text, path
    assert [r["author"]["name"] for r in client.get(OAK).json()["review"]] == ["Mallory S.", "Sanne V."]


def test_product_endpoint_content_type_html_format_and_etag(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("e1", 4, product="oak-chair")], headers=admin).raise_for_status()
    answer = client.get(OAK)
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == "application/ld+json"
    assert answer.json()["gtin"] == "8712345678906"

    html = client.get(f"{OAK}?format=html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    scripts = BeautifulSoup(html.text, "html.parser").find_all("script")
    assert len(scripts) == 1 and scripts[0]["type"] == "application/ld+json"
    assert html.text.startswith("<script") and html.text.endswith("</script>")
    assert json.loads(scripts[0].string) == answer.json()

    etag = answer.headers["etag"]
    again = client.get(OAK, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(OAK, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get(f"{OAK}?format=html", headers={"If-None-Match": etag}).status_code == 200  # its own ETag

    client.post(INGEST, json=[review("e2", 1, product="oak-chair")], headers=admin).raise_for_status()
    changed = client.get(OAK, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["aggregateRating"]["reviewCount"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/seo/no-such-shop/products/oak-chair.jsonld",
        "/seo/test-shop/products/no-such-sku.jsonld",
        "/seo/no-such-shop/organization.jsonld",
        "/seo/no-such-shop/export.ndjson",
    ],
)
def test_unknown_business_unit_or_sku_is_a_404_problem(
    client: TestClient, shop: domain.BusinessUnit, path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 404 and problem["title"] and problem["detail"]


def test_organization_is_valid_but_says_it_earns_no_stars(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("s1", 5), review("s2", 4)], headers=admin).raise_for_status()
    answer = client.get("/seo/test-shop/organization.jsonld")
    assert answer.status_code == 200
    assert answer.headers["x-rich-results"].startswith("not-eligible")
    assert answer.headers["content-type"].split(";")[0] == "application/ld+json"
    data = answer.json()
    assert data["@type"] == "Organization" and data["aggregateRating"]["reviewCount"] == 2

    element = client.get("/seo/test-shop/organization.jsonld?format=html")
    assert element.headers["x-rich-results"].startswith("not-eligible")
    report = validate.validate_html(f"<html><head>{element.text}</head><body></body></html>")
    assert len(report["problems"]) == 1
    problem = report["problems"][0]
    assert (problem["rule"], problem["severity"], problem["path"]) == ("self-serving", "warning", "Organization")
    via_http = client.post("/seo/validate", content=element.text, headers={"Content-Type": "text/html"}).json()
    assert [(p["rule"], p["severity"]) for p in via_http["problems"]] == [("self-serving", "warning")]


# --- the export ------------------------------------------------------------------------------------


def test_export_streams_every_product_in_sku_order_like_the_product_endpoint(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    stool = {"sku": "beech-stool", "name": "Beech stool", "brand": "Flinders"}
    client.post("/v1/admin/business-units/test-shop/products", json=stool, headers=admin).raise_for_status()
    records = [
        review(f"o{i}", 1 + i % 5, product="oak-chair", created_at=f"2026-10-0{i + 1}T10:00:00Z") for i in range(5)
    ]
    records += [review("w1", 3, product="walnut-table"), review("shop", 5)]
    client.post(INGEST, json=records, headers=admin).raise_for_status()

    answer = client.get(EXPORT)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.text.endswith("\n")
    lines = answer.text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["sku"] for o in objects] == ["beech-stool", "oak-chair", "walnut-table"]
    for obj in objects:
        assert obj == client.get(f"/seo/test-shop/products/{obj['sku']}.jsonld?reviews=3").json()
    assert "aggregateRating" not in objects[0]
    assert len(objects[1]["review"]) == 3 and objects[1]["aggregateRating"]["reviewCount"] == 5
    assert [r["datePublished"] for r in objects[1]["review"]] == ["2026-10-05", "2026-10-04", "2026-10-03"]


def test_export_answers_changed_since_with_304(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("o1", 4, product="oak-chair")], headers=admin).raise_for_status()
    later = datetime.now(UTC) + timedelta(seconds=2)  # Last-Modified waits for the change's second to be over
    client.app.dependency_overrides[now_dep] = lambda: later  # type: ignore[attr-defined]
    first = client.get(EXPORT)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag and modified

    not_modified = client.get(EXPORT, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(EXPORT, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(EXPORT, headers={"If-None-Match": '"stale"'}).status_code == 200

    client.post(INGEST, json=[review("o2", 2, product="oak-chair")], headers=admin).raise_for_status()
    after = client.get(EXPORT, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    oak = next(json.loads(line) for line in after.text.splitlines() if json.loads(line)["sku"] == "oak-chair")
    assert oak["aggregateRating"]["reviewCount"] == 2
    assert client.get(EXPORT, headers={"If-None-Match": after.headers["etag"]}).status_code == 304


# --- the demo shop, as a search engine reads it ---------------------------------------------------

LIVE_ADMIN = {"Authorization": f"Bearer {LIVE_ADMIN_TOKEN}"}


def _skus(url: str, bu: str) -> list[str]:
    answer = httpx.get(f"{url}/v1/admin/business-units/{bu}/products", headers=LIVE_ADMIN, timeout=30)
    answer.raise_for_status()
    skus = [p["sku"] for p in answer.json()["items"]]
    assert skus, f"the demo shop {bu} has no products"
    return skus


def _products_on(page: str) -> list[dict[str, Any]]:
    found = extruct.extract(page, syntaxes=["json-ld", "microdata", "rdfa"], uniform=True, errors="strict")
    return [item for items in found.values() for item in items if "Product" in _types(item)]


def _validate(url: str, page: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/seo/validate", content=page.encode(), headers={"Content-Type": "text/html; charset=utf-8"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def test_every_demo_product_page_carries_exactly_its_markup_and_validates_clean(live_server: str) -> None:
    url = live_server
    skus = _skus(url, "flinders-nl")
    for sku in skus:
        page = httpx.get(f"{url}/demo/flinders-nl/products/{sku}", timeout=30)
        assert page.status_code == 200, sku
        products = _products_on(page.text)
        markup = httpx.get(f"{url}/seo/flinders-nl/products/{sku}.jsonld", params={"reviews": 5}, timeout=30).json()
        assert len(products) == 1, sku
        assert products[0] == markup, sku
        assert _validate(url, page.text)["problems"] == [], sku

        summary = httpx.get(f"{url}/v1/business-units/flinders-nl/products/{sku}/summary", timeout=30).json()
        if summary["review_count"]:
            rating = markup["aggregateRating"]
            assert rating["ratingValue"] == summary["display"]["value"], sku
            assert (rating["reviewCount"], rating["bestRating"], rating["worstRating"]) == (
                summary["review_count"],
                10,
                2,
            ), sku
            listed = httpx.get(
                f"{url}/v1/business-units/flinders-nl/reviews", params={"product": sku, "limit": 5}, timeout=30
            ).json()["items"]
            assert [r["author"]["name"] for r in markup["review"]] == [r["author"] for r in listed], sku
        else:
            assert "aggregateRating" not in markup, sku
        assert "@example" not in page.text, sku


def test_demo_products_without_reviews_carry_their_price_as_offers_and_validate_clean(live_server: str) -> None:
    url = live_server
    listed = httpx.get(f"{url}/v1/admin/business-units/flinders-be/products", headers=LIVE_ADMIN, timeout=30)
    catalogue = {p["sku"]: p for p in listed.json()["items"]}
    unrated = [
        sku
        for sku in catalogue
        if httpx.get(f"{url}/v1/business-units/flinders-be/products/{sku}/summary", timeout=30).json()["review_count"]
        == 0
    ]
    assert unrated, "the demo's flinders-be has products without reviews on purpose"
    for sku in unrated:
        page = httpx.get(f"{url}/demo/flinders-be/products/{sku}", timeout=30).text
        products = _products_on(page)
        assert len(products) == 1, sku
        assert "aggregateRating" not in products[0] and "review" not in products[0], sku
        assert products[0]["name"] and products[0]["sku"] == sku
        item = catalogue[sku]
        assert products[0]["offers"] == {
            "@type": "Offer",
            "price": item["price"],
            "priceCurrency": "EUR",
            "availability": f"https://schema.org/{item['availability']}",
            "url": item["url"],
        }, sku
        assert _validate(url, page)["problems"] == [], sku
        # the price the markup states is the one the page shows (nl: "€ 1.549,00")
        euros, cents = item["price"].split(".")
        assert f"€\u00a0{int(euros):,}".replace(",", ".") + f",{cents}" in page, sku
        # Without its offers the same Product is not eligible, and the validator says so as an error.
        bare = {k: v for k, v in products[0].items() if k != "offers"}
        problems = _validate(url, f'<script type="application/ld+json">{json.dumps(bare)}</script>')["problems"]
        assert [(p["rule"], p["severity"]) for p in problems] == [("product-snippet", "error")], sku
        assert "offers" in problems[0]["message"]

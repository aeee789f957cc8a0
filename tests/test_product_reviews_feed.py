"""Google's product reviews feed: what it lists, in the schema's order, valid whatever customers typed, complete
however long, and answered with 304 until something of the unit changes.

The 2.4 schema could not be obtained offline: the feed is checked against Google's published 2.2 schema (every
element the feed writes has the same place there; see the fixture's header) with its version set to 2.2, and
byte for byte against a golden file read by hand against Google's 2.4 schema reference and sample feed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from reviews_service import demo, documents, domain, ingest, repository, store
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.state import ServiceState
from seo import product_reviews
from tests.conftest import NOW, make_settings, review
from tests.test_query_shapes import record

FEED = "/seo/test-shop/product-reviews.xml"
INGEST = "/v1/admin/business-units/test-shop/reviews"
PRODUCTS = "/v1/admin/business-units/test-shop/products"
FIXTURES = Path(__file__).parent / "fixtures" / "google"
SCHEMA = etree.XMLSchema(etree.parse(str(FIXTURES / "product_reviews-2.2.xsd")))
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
REVIEW_ORDER = [
    "review_id",
    "reviewer",
    "review_timestamp",
    "title",
    "content",
    "review_url",
    "ratings",
    "products",
    "is_spam",
    "collection_method",
]


def valid(text: str) -> etree._Element:
    """The feed parsed (so well-formed) and valid against the schema (its version set to the fixture's 2.2)."""
    assert "<version>2.4</version>" in text
    root = etree.fromstring(text.replace("<version>2.4</version>", "<version>2.2</version>", 1).encode())
    assert SCHEMA.validate(root), SCHEMA.error_log
    return root


def listed(root: etree._Element) -> dict[str, etree._Element]:
    return {r.findtext("review_id"): r for r in root.iterfind("reviews/review")}


def in_order(element: etree._Element) -> list[str]:
    """The children's names, checked to follow the schema's sequence."""
    names = [child.tag for child in element]
    assert names == sorted(names, key=REVIEW_ORDER.index)
    return names


def _review(ext: str, rating: int = 5, days: int = 0, **fields: Any) -> domain.Review:
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
        "author": "Anna B.",
    }
    values.update(fields)
    return domain.Review(**values)


UNIT = domain.BusinessUnit(slug="s", name="Shop & Sons", domain="shop.example")
CHAIR = domain.Product(
    business_unit="s",
    sku="chair",
    name="Oak chair",
    url="https://shop.example/chair",
    gtin="8712345678906",
    mpn="OC-1",
    brand="Flinders",
)


def built(reviews: list[domain.Review], unit: domain.BusinessUnit = UNIT, batch: int = 2) -> str:
    batches = [(reviews[i : i + batch], {"chair": CHAIR}) for i in range(0, len(reviews), batch)]
    return "".join(product_reviews.feed(unit, batches, "https://reviews.example"))


# --- the builder ----------------------------------------------------------------------------------


def test_the_feed_is_the_golden_file_and_valid() -> None:
    reviews = [
        _review("full", 4, collection_method="post_fulfillment", moderated=True),
        _review("anon", 1, days=1, author="", title="", collection_method="campaign_driven"),
        _review("loose", 3, days=2, author="anoniem", product="gone", collection_method="unsolicited"),
    ]
    text = built(reviews)
    valid(text)
    assert text == (FIXTURES / "product-reviews.golden.xml").read_text(encoding="utf-8")


def test_hostile_text_gives_a_valid_document_with_the_customers_words_and_nothing_xml_cannot_carry() -> None:
    words = (
        "<script>alert(1)</script> & ]]> <![CDATA[x]]> &amp; \u202e\u05e9\u05dc\u05d5\u05dd e\u0301 \U0001f600\u200d"
    )
    hostile = words + "\x00\x01\x08\x0b\x0c\x1b\x7f\ud800\udfff\ufffe\uffff"
    huge = "lang " * 400_000  # 2 MB of text
    reviews = [
        _review("h1", text=hostile, title=hostile, author=hostile + "</name>"),
        _review("h2", text="\x00\x01 \ud800", title="ok"),  # nothing printable left: not listed
        _review("h3", text=huge, author="\x07"),
        _review("h]]>4", text="ok"),
    ]
    root = valid(built(reviews))
    found = listed(root)
    assert set(found) == {"s:api:h1", "s:api:h3", "s:api:h]]>4"}
    kept = words + "\x7f"  # DEL is allowed in XML 1.0
    assert found["s:api:h1"].findtext("content") == kept
    assert found["s:api:h1"].findtext("title") == kept
    assert found["s:api:h1"].findtext("reviewer/name") == kept + "</name>"
    assert found["s:api:h3"].findtext("content") == huge.strip()
    assert found["s:api:h3"].find("reviewer/name").attrib == {"is_anonymous": "true"}
    assert found["s:api:h3"].findtext("reviewer/name") == "Anonymous"


def test_ratings_are_on_the_units_scale_and_times_in_utc_with_their_zone() -> None:
    ten = dataclasses.replace(UNIT, display_scale=10)
    amsterdam = datetime(2026, 7, 1, 11, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    root = valid(built([_review("a", 4, created_at=amsterdam), _review("b", 1)], unit=ten))
    overall = [r.find("ratings/overall") for r in root.iterfind("reviews/review")]
    assert [(o.text, o.get("min"), o.get("max")) for o in overall] == [("8", "2", "10"), ("2", "2", "10")]
    assert root.findtext("reviews/review/review_timestamp") == "2026-07-01T09:30:00Z"
    five = valid(built([_review("a", 4)]))
    assert five.find("reviews/review/ratings/overall").attrib == {"min": "1", "max": "5"}


def test_a_reviews_page_or_product_given_as_a_path_is_linked_on_this_services_address() -> None:
    on_service = dataclasses.replace(UNIT, reviews_url="/demo/s/reviews")
    relative = dataclasses.replace(CHAIR, url="/demo/s/products/chair")
    batches = [([_review("a")], {"chair": relative})]
    root = valid("".join(product_reviews.feed(on_service, batches, "https://reviews.example/")))
    assert root.findtext("reviews/review/review_url") == "https://reviews.example/reviews/s/review/s:api:a"
    assert (
        root.findtext("reviews/review/products/product/product_url") == "https://reviews.example/demo/s/products/chair"
    )


# --- the endpoint ---------------------------------------------------------------------------------


def test_the_feed_lists_every_published_product_review_with_text_and_no_personal_data(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    stool = {"sku": "beech-stool", "name": "Beech stool", "mpn": "BS-40", "brand": "Flinders"}
    client.post(PRODUCTS, json=stool, headers=admin).raise_for_status()
    private = {"email": "anna.bakker@example.com", "order_ref": "ORD-99812"}
    records = [
        review("form", 4, product="oak-chair", collection_method="post_fulfillment", verified=True, **private),
        review("stool", 2, product="beech-stool", author="", created_at="2026-10-02T08:15:00+02:00", **private),
        review("own", 5),  # about the shop, not a product
        review("empty", 5, product="oak-chair", text=""),
        review("later", 3, product="walnut-table", status="pending"),
        review("hidden", 1, product="walnut-table"),
    ]
    assert client.post(INGEST, json=records, headers=admin).json()["inserted"] == len(records)
    hide = client.patch(
        "/v1/admin/reviews/test-shop:api:hidden", json={"status": "hidden", "reason": "test"}, headers=admin
    )
    hide.raise_for_status()
    client.patch("/v1/admin/reviews/test-shop:api:form", json={"status": "published"}, headers=admin).raise_for_status()

    answer = client.get(FEED)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    root = valid(answer.text)
    assert root.findtext("publisher/name") == "Test Shop"
    found = listed(root)
    assert list(found) == ["test-shop:api:form", "test-shop:api:stool"]  # in id order (Google wants none)
    for item in found.values():
        in_order(item)
    form, stool_review = found.values()
    assert in_order(form) == REVIEW_ORDER  # moderated: is_spam known; asked after the order: post_fulfillment
    assert form.findtext("is_spam") == "false" and form.findtext("collection_method") == "post_fulfillment"
    assert form.findtext("reviewer/name") == "Sanne V." and "is_anonymous" not in form.find("reviewer/name").attrib
    assert form.findtext("review_url").endswith("/reviews/test-shop/review/test-shop:api:form")
    assert form.find("review_url").attrib == {"type": "singleton"}
    page = client.get(form.findtext("review_url").split("://", 1)[1].partition("/")[2].join(["/", ""]))
    assert page.status_code == 200 and "Sanne V." in page.text and "anna.bakker" not in page.text
    assert form.findtext("products/product/product_ids/gtins/gtin") == "8712345678906"
    assert (
        form.findtext("products/product/product_url") == "http://127.0.0.1:8000/seo/test-shop/products/oak-chair.jsonld"
    )
    assert stool_review.findtext("review_timestamp") == "2026-10-02T06:15:00Z"
    assert stool_review.find("reviewer/name").attrib == {"is_anonymous": "true"}
    ids = stool_review.find("products/product/product_ids")
    assert [(c.tag, c[0].text) for c in ids] == [("mpns", "BS-40"), ("skus", "beech-stool"), ("brands", "Flinders")]
    assert stool_review.findtext("products/product/product_name") == "Beech stool"
    for secret in ("anna", "bakker", "example.com", "ORD-99812"):
        assert secret not in answer.text.lower()


def test_products_take_an_optional_mpn_through_the_admin_endpoint(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(PRODUCTS, json={"sku": "lamp", "name": "Lamp", "mpn": " LP-2 "}, headers=admin).raise_for_status()
    items = {p["sku"]: p for p in client.get(PRODUCTS, headers=admin).json()["items"]}
    assert items["lamp"]["mpn"] == "LP-2" and items["oak-chair"]["mpn"] == ""
    too_long = client.post(PRODUCTS, json={"sku": "x", "name": "X", "mpn": "M" * 71}, headers=admin)
    assert too_long.status_code == 422
    assert "x" not in {p["sku"] for p in client.get(PRODUCTS, headers=admin).json()["items"]}


def test_text_stored_before_it_was_cleaned_is_kept_as_written_and_left_out_of_the_feed_only(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    # A review stored by an older version, before ingest dropped control characters: the store keeps it as it is.
    old = _review("old", business_unit="test-shop", id="test-shop:api:old", product="oak-chair")
    old = dataclasses.replace(old, text="Goed\x0b stoel\x00 ]]> <b>", author="Jan\x1b")
    repository.write_reviews([old], [])
    root = valid(client.get(FEED).text)
    item = listed(root)["test-shop:api:old"]
    assert (item.findtext("content"), item.findtext("reviewer/name")) == ("Goed stoel ]]> <b>", "Jan")
    assert repository.get_review("test-shop:api:old").text == "Goed\x0b stoel\x00 ]]> <b>"


def test_a_unit_with_no_product_reviews_gets_a_valid_feed_without_reviews(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    empty = client.get(FEED)
    assert empty.status_code == 200
    root = valid(empty.text)
    assert root.find("reviews") is None and root.findtext("publisher/name") == "Test Shop"
    client.post(INGEST, json=[review("own", 5)], headers=admin).raise_for_status()  # the shop's own: not listed
    assert valid(client.get(FEED).text).find("reviews") is None


def test_openapi_documents_the_media_type_the_feed_is_sent_as(client: TestClient, shop: domain.BusinessUnit) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/seo/{bu}/product-reviews.xml"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["application/xml"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    assert client.get(FEED).headers["content-type"].split(";")[0] == "application/xml"


def test_an_unknown_unit_is_a_problem_not_an_empty_feed(client: TestClient, connected: object) -> None:
    answer = client.get("/seo/no-such-shop/product-reviews.xml")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "No business unit 'no-such-shop'" in answer.json()["detail"]


def test_the_feed_answers_changed_since_with_304_until_a_review_of_the_unit_changes(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    client.post(INGEST, json=[review("o1", 4, product="oak-chair")], headers=admin).raise_for_status()
    later = datetime.now(UTC) + timedelta(seconds=2)  # Last-Modified waits for the change's second to be over
    client.app.dependency_overrides[now_dep] = lambda: later  # type: ignore[attr-defined]
    first = client.get(FEED)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    not_modified = client.get(FEED, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(FEED, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert etag != client.get("/seo/test-shop/export.ndjson").headers["etag"]

    tags = {etag}
    changes = [
        lambda: client.patch(
            "/v1/admin/reviews/test-shop:api:o1", json={"status": "hidden", "reason": "test"}, headers=admin
        ),
        lambda: client.patch("/v1/admin/reviews/test-shop:api:o1", json={"status": "published"}, headers=admin),
        lambda: client.post(INGEST, json=[review("o1", 4, product="oak-chair", text="Edited.")], headers=admin),
        lambda: client.post(PRODUCTS, json={"sku": "oak-chair", "name": "Oak chair II"}, headers=admin),
    ]
    for change in changes:
        previous = client.get(FEED).headers["etag"]
        change().raise_for_status()
        after = client.get(FEED, headers={"If-None-Match": previous})
        assert after.status_code == 200
        tags.add(after.headers["etag"])
        assert client.get(FEED, headers={"If-None-Match": after.headers["etag"]}).status_code == 304
    assert len(tags) == 1 + len(changes)
    final = listed(valid(client.get(FEED).text))["test-shop:api:o1"]
    assert final.findtext("content") == "Edited."
    assert final.findtext("products/product/product_name") == "Oak chair II"


def test_the_feed_reads_each_batch_along_an_index_and_never_reads_addresses_or_order_refs(
    shop: domain.BusinessUnit, state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = {"email": "anna@example.com", "order_ref": "ORD-1"}
    records = [review(f"r{i}", 4, product="oak-chair", created_at=f"2026-10-{1 + i:02d}", **private) for i in range(12)]
    ingest.ingest(state, "test-shop", records, now=NOW)
    assert repository.get_review("test-shop:api:r0").email == "anna@example.com"
    reviews = record(monkeypatch, documents.ReviewDoc)
    batches = [batch for batch, _ in repository.product_review_batches("test-shop", batch_size=5)]
    assert [len(b) for b in batches] == [5, 5, 2]
    assert all(r.email is None and r.order_ref is None for b in batches for r in b)
    indexes = [list(info["key"]) for info in documents.ReviewDoc._get_collection().index_information().values()]
    assert [("business_unit", 1), ("status", 1), ("_id", 1)] in indexes
    assert [f.filter for f in reviews.finds] == [
        {"business_unit": "test-shop", "status": "published"},
        {"business_unit": "test-shop", "status": "published", "_id": {"$gt": batches[0][-1].id}},
        {"business_unit": "test-shop", "status": "published", "_id": {"$gt": batches[1][-1].id}},
    ]
    for find in reviews.finds:
        assert list(find.sort) == [("_id", 1)] and find.limit == 5
    store = getattr(reviews.real, "_store", None)
    if store is not None and hasattr(store, "plan"):  # the embedded store walks that index, as MongoDB would
        plan = store.plan(reviews.finds[-1].filter, [("_id", 1)])
        assert plan is not None and plan.index.fields == ("business_unit", "status", "_id")
        assert plan.prefix == ("test-shop", "published") and plan.low is not None


def test_the_demo_shops_feeds_are_valid(client: TestClient, state: ServiceState) -> None:
    demo.load(state, NOW)
    for unit in repository.list_business_units():
        root = valid(client.get(f"/seo/{unit.slug}/product-reviews.xml").text)
        assert len(root.findall("reviews/review")) > 20, unit.slug


def test_the_whole_feed_streams_in_batches_and_lists_each_review_once(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reviews sharing one created_at across batch boundaries: the keyset must neither skip nor repeat them.
    records = [
        review(
            f"r{i:02}",
            1 + i % 5,
            product="oak-chair" if i % 2 else "walnut-table",
            created_at=f"2026-10-0{1 + i // 7}T10:00:00Z",
        )
        for i in range(30)
    ] + [review(f"own{i}", 5) for i in range(5)]
    ingest.ingest(state, "test-shop", records, now=NOW)
    original = partial(repository.product_review_batches, batch_size=4)
    seen: list[int] = []

    def small_batches(bu: str) -> Iterator[tuple[list[domain.Review], dict[str, domain.Product]]]:
        for batch, products in original(bu):
            seen.append(len(batch))
            assert set(products) == {r.product for r in batch}
            yield batch, products

    monkeypatch.setattr(repository, "product_review_batches", small_batches)
    state.reset()
    root = valid(client.get(FEED).text)
    assert state.products.get("test-shop/oak-chair") is None  # a feed of every product does not fill the cache
    ids = [r.findtext("review_id") for r in root.iterfind("reviews/review")]
    assert sorted(ids) == [f"test-shop:api:r{i:02}" for i in range(30)]
    assert len(seen) > 5 and max(seen) <= 4
    assert ids == sorted(ids)  # the keyset is the id: no two reviews share it, none is listed twice


@pytest.mark.parametrize("moved", ["r0", "r5"])
def test_a_review_whose_date_is_corrected_while_the_feed_streams_is_listed_exactly_once(
    shop: domain.BusinessUnit, state: ServiceState, moved: str
) -> None:
    """A re-import that corrects created_at mid-stream (to older or newer) neither repeats a review, which makes
    the whole feed invalid (uniqueReview), nor skips one, which makes Google delete it."""
    dated = [f"2026-10-{10 + i:02d}T10:00:00Z" for i in range(6)]
    records = [review(f"r{i}", 4, product="oak-chair", text=f"Text {i}", created_at=dated[i]) for i in range(6)]
    ingest.ingest(state, "test-shop", records, now=NOW)
    unit = repository.get_business_unit(state, "test-shop")
    corrected = "2026-10-01T10:00:00Z" if moved == "r5" else "2026-10-30T10:00:00Z"

    def batches() -> Iterator[tuple[list[domain.Review], dict[str, domain.Product]]]:
        stream = repository.product_review_batches("test-shop", batch_size=2)
        yield next(stream)
        fix = review(moved, 4, product="oak-chair", text=f"Text {moved[1]} (dated)", created_at=corrected)
        ingest.ingest(state, "test-shop", [fix], now=NOW)
        yield from stream

    root = valid("".join(product_reviews.feed(unit, batches(), "https://reviews.example")))
    ids = [r.findtext("review_id") for r in root.iterfind("reviews/review")]
    assert sorted(ids) == [f"test-shop:api:r{i}" for i in range(6)]


@pytest.mark.parametrize("url", [FEED, "/seo/test-shop/export.ndjson"])
def test_if_modified_since_never_hides_a_change_made_in_the_same_second_as_the_last(
    client: TestClient, shop: domain.BusinessUnit, url: str
) -> None:
    """HTTP dates have whole seconds: a fetcher sending only If-Modified-Since must not keep text changed (or
    erased) in the same second as the version it has."""
    second = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)
    clock = {"now": second}
    client.app.dependency_overrides[now_dep] = lambda: clock["now"]  # type: ignore[attr-defined]

    def change(at: datetime) -> None:  # as repository.mark_changed records it, at a time the test picks
        documents.BusinessUnitDoc._get_collection().update_one({"_id": "test-shop"}, {"$set": {"changed_at": at}})

    def fetch(at: datetime, since: datetime | None = None) -> Any:
        clock["now"] = at
        headers = {"If-Modified-Since": format_datetime(since, usegmt=True)} if since else {}
        return client.get(url, headers=headers)

    change(second + timedelta(milliseconds=300))
    early = fetch(second + timedelta(milliseconds=500))
    assert early.status_code == 200 and "last-modified" not in early.headers  # another change may share the second
    assert early.headers["etag"]
    change(second + timedelta(milliseconds=800))
    assert fetch(second + timedelta(milliseconds=900), since=second).status_code == 200  # the Date's second
    answer = fetch(second + timedelta(seconds=5))
    assert answer.headers["last-modified"] == "Mon, 02 Nov 2026 09:30:01 GMT"  # rounded up, never down
    since = parsedate_to_datetime(answer.headers["last-modified"])
    assert fetch(second + timedelta(seconds=6), since=since).status_code == 304
    change(second + timedelta(seconds=6, milliseconds=100))
    assert fetch(second + timedelta(seconds=6, milliseconds=200), since=since).status_code == 200


def test_a_new_public_url_or_feed_format_moves_the_etag_so_no_fetcher_keeps_the_old_links(
    client: TestClient,
    shop: domain.BusinessUnit,
    admin: dict[str, str],
    connected: store.StoreInfo,
    state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.post(INGEST, json=[review("o1", 4, product="oak-chair")], headers=admin).raise_for_status()
    before = client.get(FEED)
    etag = before.headers["etag"]
    assert "http://127.0.0.1:8000/reviews/test-shop/review/" in before.text
    redeployed = create_app(
        make_settings(REVIEWS_PUBLIC_URL="https://reviews.shop.example"), connect=False, state=state
    )
    with TestClient(redeployed) as other:
        after = other.get(FEED, headers={"If-None-Match": etag})
        assert after.status_code == 200 and "https://reviews.shop.example/reviews/test-shop/review/" in after.text
        assert other.get(FEED, headers={"If-None-Match": after.headers["etag"]}).status_code == 304
    monkeypatch.setattr(product_reviews, "FORMAT", product_reviews.FORMAT + 1)
    assert client.get(FEED, headers={"If-None-Match": etag}).status_code == 200


def test_long_reviews_come_in_shorter_batches_and_smaller_chunks_never_one_string_of_megabytes(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    """500 reviews of 20,000 characters would be 10 MB in one batch: batches and chunks are capped by size too."""
    words = "Stevige stoel, goed verpakt. "
    texts = [(words * 280)[: 8_000 - i] for i in range(20)] + [words] * 30  # long ones, then short ones
    records = [review(f"r{i:02}", 4, product="oak-chair", text=text) for i, text in enumerate(texts)]
    ingest.ingest(state, "test-shop", records, now=NOW, max_text=20_000)
    batches = [b for b, _ in repository.product_review_batches("test-shop", batch_size=500, batch_chars=50_000)]
    assert [r.external_id for b in batches for r in b] == [f"r{i:02}" for i in range(50)]  # each once, in order
    assert len(batches) >= 3
    assert all(sum(len(r.text) + len(r.title) for r in b[:-1]) < 50_000 for b in batches)  # the last one passes it

    long_ones = [_review(f"l{i:03}", text="x" * 20_000) for i in range(120)]  # 2.4 MB in one batch of 120
    chunks = list(product_reviews.feed(UNIT, [(long_ones, {"chair": CHAIR})], "https://reviews.example"))
    assert max(len(c) for c in chunks) < product_reviews.CHUNK_CHARS + 25_000
    assert len(listed(valid("".join(chunks)))) == 120

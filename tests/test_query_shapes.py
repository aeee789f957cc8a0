"""Query shapes that scale on real MongoDB: each read touches what it returns, through `_id` or a declared index.

The collections are wrapped in a recorder (on whichever store the suite runs: embedded or MONGODB_URL), so
these tests see the filters, sorts and limits the repository actually sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mongoengine as me
import pytest
from fastapi.testclient import TestClient

from reviews_service import documents, domain, ingest, repository
from reviews_service.state import ServiceState
from tests.conftest import NOW, review


@dataclass
class Find:
    """One find (or find_one) as sent: its filter and what was chained on the cursor."""

    filter: dict[str, Any]
    sort: Any = None
    limit: int | None = None


@dataclass
class _Cursor:
    real: Any
    find: Find

    def sort(self, *args: Any) -> _Cursor:
        self.find.sort = args[0] if len(args) == 1 else [args]
        self.real = self.real.sort(*args)
        return self

    def limit(self, n: int) -> _Cursor:
        self.find.limit = n
        self.real = self.real.limit(n)
        return self

    def batch_size(self, n: int) -> _Cursor:
        self.real = self.real.batch_size(n)
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.real)

    def close(self) -> None:
        self.real.close()


@dataclass
class Recorder:
    """A collection that records every find and find_one, and passes everything on."""

    real: Any
    finds: list[Find] = field(default_factory=list)

    def find(self, filter: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> _Cursor:
        self.finds.append(Find(dict(filter or {})))
        return _Cursor(self.real.find(filter, *args, **kwargs), self.finds[-1])

    def find_one(self, filter: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        self.finds.append(Find(dict(filter or {}), kwargs.get("sort"), 1))
        return self.real.find_one(filter, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def record(monkeypatch: pytest.MonkeyPatch, doc: type[me.Document]) -> Recorder:
    """Wrap the Document's collection in a Recorder for the rest of the test."""
    recorder = Recorder(doc._get_collection())
    monkeypatch.setattr(doc, "_collection", recorder)
    return recorder


def _products(state: ServiceState, shop: domain.BusinessUnit, count: int) -> list[str]:
    skus = [f"sku-{i:05d}" for i in range(count)]
    repository.save_products(state, [domain.Product(business_unit=shop.slug, sku=s, name=s.title()) for s in skus])
    return skus


def test_a_product_lookup_is_one_find_by_id_and_never_reads_the_catalogue(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    _products(state, shop, 50)
    state.reset()  # nothing cached
    products = record(monkeypatch, documents.ProductDoc)
    assert repository.get_product(state, shop.slug, "sku-00007").name == "Sku-00007"
    assert [f.filter for f in products.finds] == [{"_id": {"$in": ["test-shop/sku-00007"]}}]
    repository.get_product(state, shop.slug, "sku-00007")
    assert len(products.finds) == 1  # the second lookup is cached
    with pytest.raises(Exception, match="No product 'nope'"):
        repository.get_product(state, shop.slug, "nope")
    assert products.finds[-1].filter == {"_id": {"$in": ["test-shop/nope"]}}


def test_an_ingest_batch_reads_only_the_products_it_names(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    _products(state, shop, 50)
    state.reset()
    products = record(monkeypatch, documents.ProductDoc)
    records = [review("a", 5, product="sku-00001"), review("b", 4, product="sku-00002"), review("c", 3)]
    assert ingest.ingest(state, shop.slug, records, now=NOW).inserted == 3
    assert all(set(f.filter) == {"_id"} for f in products.finds), products.finds
    assert sorted(i for f in products.finds for i in f.filter["_id"]["$in"]) == [
        "test-shop/sku-00001",
        "test-shop/sku-00002",
    ]


def test_data_json_for_24_skus_reads_their_summaries_and_products_in_one_query_each(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    skus = _products(state, shop, 30)[:24]
    ingest.ingest(state, shop.slug, [review(f"r{i}", 1 + i % 5, product=s) for i, s in enumerate(skus[:6])], now=NOW)
    state.reset()
    summaries = record(monkeypatch, documents.SummaryDoc)
    products = record(monkeypatch, documents.ProductDoc)
    answer = client.get(f"/widgets/test-shop/data.json?skus={','.join(skus)}")
    assert answer.status_code == 200
    assert sum(1 for s in answer.json()["product_summaries"].values() if s and s["review_count"]) == 6
    per_product = [f for f in summaries.finds if f.filter != {"_id": "test-shop"}]  # the shop's own badge
    assert len(per_product) == 1 and set(per_product[0].filter) == {"_id"}
    assert sorted(per_product[0].filter["_id"]["$in"]) == [f"test-shop/{s}" for s in skus]
    assert len(products.finds) == 1 and set(products.finds[0].filter) == {"_id"}


def test_the_export_reads_at_most_the_asked_reviews_of_each_reviewed_product_by_equality(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    skus = _products(state, shop, 5)
    records = [review(f"r{i}", 5, product=skus[i % 2], created_at=f"2026-10-{1 + i:02d}") for i in range(12)]
    ingest.ingest(state, shop.slug, records, now=NOW)
    reviews = record(monkeypatch, documents.ReviewDoc)
    lines = client.get("/seo/test-shop/export.ndjson?reviews=2").text.splitlines()
    assert len(lines) == len(skus) + 2  # and the shop's oak-chair and walnut-table
    assert sum(line.count('"@type":"Review"') for line in lines) == 4
    listed = [f for f in reviews.finds if "product" in f.filter]
    assert sorted(f.filter["product"] for f in listed) == skus[:2]  # one per product with reviews, no more
    for find in listed:
        assert find.filter == {"business_unit": "test-shop", "product": find.filter["product"], "status": "published"}
        assert find.limit == 2 and list(find.sort) == [("created_at", -1), ("_id", -1)]


def _key(spec: Any) -> list[tuple[str, int]]:
    return [(name, int(direction)) for name, direction in spec]


def _serves(index: list[tuple[str, int]], equal: set[str]) -> bool:
    """An index serves a list when its fields are the filter's equalities (any order) then the keyset sort."""
    head, tail = index[: len(equal)], index[len(equal) :]
    return {name for name, _ in head} == equal and tail == [("created_at", -1), ("_id", -1)]


@pytest.mark.parametrize("product", [None, "oak-chair", repository.ALL_PRODUCTS])
@pytest.mark.parametrize("extra", [{}, {"rating": 4}, {"language": "nl"}])
def test_every_filter_of_the_review_list_has_an_index_that_serves_its_sort(
    shop: domain.BusinessUnit,
    monkeypatch: pytest.MonkeyPatch,
    product: str | None,
    extra: dict[str, Any],
    state: ServiceState,
) -> None:
    indexes = [_key(info["key"]) for info in documents.ReviewDoc._get_collection().index_information().values()]
    reviews = record(monkeypatch, documents.ReviewDoc)
    repository.list_published(state, shop.slug, product=product, **extra)
    (find,) = reviews.finds
    equal = {name for name, value in find.filter.items() if not isinstance(value, dict)}
    assert any(_serves(index, equal) for index in indexes), (find.filter, indexes)
    assert list(find.sort) == [("created_at", -1), ("_id", -1)]


def test_a_first_page_read_again_is_served_from_memory_until_the_unit_changes(
    client: TestClient,
    shop: domain.BusinessUnit,
    admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    state: ServiceState,
) -> None:
    """Shop pages ask the same first page over and over: one query, until a write to the unit drops it."""
    ingest.ingest(state, shop.slug, [review(f"p-{i}", 1 + i % 5) for i in range(5)], now=NOW, max_text=20_000)
    reviews = record(monkeypatch, documents.ReviewDoc)
    url = f"/v1/business-units/{shop.slug}/reviews?limit=3"
    first = client.get(url).json()
    assert client.get(url).json() == first

    def list_reads() -> int:  # the list asks limit + 1 reviews, newest first
        return len([f for f in reviews.finds if f.filter.get("status") == "published" and f.limit == 4])

    assert list_reads() == 1, "the repeated first page was read from the store again"
    hidden = first["items"][0]["id"]
    assert (
        client.patch(
            f"/v1/admin/reviews/{hidden}", json={"status": "hidden", "reason": "Spam"}, headers=admin
        ).status_code
        == 200
    )
    after = client.get(url).json()
    assert hidden not in [item["id"] for item in after["items"]], "a hidden review outlived the write in the cache"
    page_two = client.get(f"{url}&cursor={after['next_cursor']}").json()  # later pages always go to the store
    assert page_two["items"] and list_reads() == 3


def test_junk_list_filters_are_never_cached_so_they_cannot_fill_memory(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("j-1", 5)], now=NOW, max_text=20_000)
    before = len(state.first_pages._data)
    for code in ("aa", "qq", "zz"):  # well-formed, but no language a review can have
        assert client.get(f"/v1/business-units/{shop.slug}/reviews?language={code}").status_code == 200
    assert client.get(f"/v1/business-units/{shop.slug}/reviews?limit=100").status_code == 200  # over FIRST_PAGE_MAX
    assert len(state.first_pages._data) == before
    assert client.get(f"/v1/business-units/{shop.slug}/reviews?language=nl").status_code == 200
    assert len(state.first_pages._data) == before + 1

"""A cache fill that read the store before a write must not win over that write's invalidation.

Each test stops a read between its database read and its cache put, lets a write (and its
invalidation) happen right there, and then checks what is served afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import documents, domain, ingest, repository
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

PUBLIC = "/v1/business-units/test-shop"


def test_a_summary_read_racing_an_ingest_does_not_cache_the_older_count(
    client: TestClient,
    admin: dict[str, str],
    shop: domain.BusinessUnit,
    monkeypatch: pytest.MonkeyPatch,
    state: ServiceState,
) -> None:
    ingest.ingest(state, shop.slug, [review("r1", 5)], now=NOW)
    read = documents.summary_from_raw
    raced: list[int] = []

    def read_then_a_write_lands(raw: dict[str, Any]) -> domain.RatingSummary:
        found = read(raw)  # the count as read: 1
        if not raced:
            raced.append(ingest.ingest(state, shop.slug, [review("r2", 4)], now=NOW).inserted)
        return found

    monkeypatch.setattr(documents, "summary_from_raw", read_then_a_write_lands)
    first = client.get(f"{PUBLIC}/summary").json()
    assert raced == [1] and first["review_count"] == 1  # this answer began before the write: it may be old
    assert repository.all_summaries(shop.slug)[shop.slug].count == 2  # the stored count
    for _ in range(3):
        assert client.get(f"{PUBLIC}/summary").json()["review_count"] == 2  # served = stored


def test_a_product_summary_page_racing_an_ingest_does_not_cache_the_older_count(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("p1", 5, product="oak-chair")], now=NOW)
    read = documents.summary_from_raw
    raced: list[int] = []

    def read_then_a_write_lands(raw: dict[str, Any]) -> domain.RatingSummary:
        found = read(raw)
        if not raced:
            raced.append(ingest.ingest(state, shop.slug, [review("p2", 3, product="oak-chair")], now=NOW).inserted)
        return found

    monkeypatch.setattr(documents, "summary_from_raw", read_then_a_write_lands)
    assert repository.summaries_for(state, shop.slug, ["oak-chair", "walnut-table"])["oak-chair"].count == 1
    assert raced == [1]
    assert repository.summaries_for(state, shop.slug, ["oak-chair"])["oak-chair"].count == 2
    assert repository.get_summary(state, shop.slug, "oak-chair").count == 2


def test_a_business_unit_read_racing_a_rename_does_not_cache_the_old_name(
    client: TestClient,
    admin: dict[str, str],
    shop: domain.BusinessUnit,
    monkeypatch: pytest.MonkeyPatch,
    state: ServiceState,
) -> None:
    state.reset()  # nothing cached yet
    read = documents.BusinessUnitDoc.to_domain
    raced: list[str] = []

    def read_then_a_rename_lands(doc: Any) -> domain.BusinessUnit:
        found = read(doc)
        if not raced:
            raced.append("renamed")
            repository.update_business_unit(state, shop.slug, {"name": "Renamed Shop"})
        return found

    monkeypatch.setattr(documents.BusinessUnitDoc, "to_domain", read_then_a_rename_lands)
    assert repository.get_business_unit(state, shop.slug).name == "Test Shop"  # read before the rename
    assert raced == ["renamed"]
    assert repository.get_business_unit(state, shop.slug).name == "Renamed Shop"
    assert client.get(f"/v1/admin/business-units/{shop.slug}", headers=admin).json()["name"] == "Renamed Shop"


def test_a_product_read_racing_its_update_does_not_cache_the_older_product(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    state.reset()
    repository.save_products(state, [domain.Product(business_unit=shop.slug, sku="new-sofa", name="Sofa")])
    read = documents.product_from_raw
    raced: list[str] = []

    def read_then_the_product_is_renamed(raw: dict[str, Any]) -> domain.Product:
        found = read(raw)
        if not raced:
            raced.append("renamed")
            repository.save_products(
                state, [domain.Product(business_unit=shop.slug, sku="new-sofa", name="Velvet Sofa")]
            )
        return found

    monkeypatch.setattr(documents, "product_from_raw", read_then_the_product_is_renamed)
    assert repository.get_product(state, shop.slug, "new-sofa").name == "Sofa"  # read before the rename
    assert raced == ["renamed"]
    assert repository.get_product(state, shop.slug, "new-sofa").name == "Velvet Sofa"
    assert counts_of_ingest(state, shop) == 1  # and ingest sees the product too


def counts_of_ingest(state: ServiceState, shop: domain.BusinessUnit) -> int:
    return ingest.ingest(state, shop.slug, [review("s1", 4, product="new-sofa")], now=NOW).inserted


def test_the_cache_remembers_invalidations_within_its_size_and_stays_safe_past_it() -> None:
    from reviews_service.cache import TTLCache

    cache: TTLCache[str, int] = TTLCache(maxsize=4)
    before = cache.ticket()
    for i in range(10):  # more invalidated keys than it keeps stamps for
        cache.pop(f"k{i}")
    assert cache.put("k0", 1, before) == 1 and cache.get("k0") is None  # older read: served, not kept
    assert cache.put("other", 1, before) == 1 and cache.get("other") is None  # stamps forgotten: refuse all older
    fresh = cache.ticket()
    assert cache.put("k0", 2, fresh) == 2 and cache.get("k0") == 2
    cache.clear()
    assert cache.put("k0", 3, fresh) == 3 and cache.get("k0") is None

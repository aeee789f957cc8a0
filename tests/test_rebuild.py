"""The nightly summary rebuild: one business unit at a time, beside ingest, never a moment without summaries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import documents, domain, ingest, repository
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

PUBLIC = "/v1/business-units/test-shop"


def _spoil(state: ServiceState, key: str, **counts: int) -> None:
    """Make a stored summary wrong, as a crash between a review write and its summary update would."""
    documents.SummaryDoc._get_collection().update_one({"_id": key}, {"$set": counts})
    state.reset()  # forget what the caches hold


def test_a_rebuild_repairs_what_differs_and_leaves_the_rest(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("r1", 5), review("r2", 4, product="oak-chair")], now=NOW)
    untouched = documents.SummaryDoc._get_collection().find_one({"_id": "test-shop/oak-chair"})
    _spoil(state, "test-shop", h1=7)
    report = ingest.rebuild_summaries(state, None, now=NOW.replace(hour=13))
    assert report["differed"] == ["test-shop"] and report["skipped"] == []
    assert client.get(f"{PUBLIC}/summary").json()["review_count"] == 1
    # the product summary did not differ, so it was not rewritten
    assert documents.SummaryDoc._get_collection().find_one({"_id": "test-shop/oak-chair"}) == untouched


def test_a_summary_that_should_not_exist_is_deleted(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("r1", 5)], now=NOW)
    documents.SummaryDoc._get_collection().insert_one(
        {"_id": "test-shop/walnut-table", "business_unit": "test-shop", "product": "walnut-table", "h3": 2}
    )
    assert ingest.rebuild_summaries(state, shop.slug, now=NOW)["differed"] == ["test-shop/walnut-table"]
    assert repository.all_summaries(shop.slug).keys() == {"test-shop"}
    assert client.get(f"{PUBLIC}/products/walnut-table/summary").json()["review_count"] == 0


class FailingWrites:
    """The summaries collection, except that the writes a rebuild makes fail (a crash, a lost primary)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        if name in ("bulk_write", "insert_many", "insert_one", "replace_one"):
            raise RuntimeError("the store went away mid-rebuild")
        return getattr(self.real, name)


def test_a_failure_mid_rebuild_leaves_the_old_summaries_in_place(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("r1", 5), review("r2", 3), review("p1", 4, product="oak-chair")], now=NOW)
    _spoil(state, "test-shop", h5=9)  # so the rebuild has something to write
    real = repository._summaries
    monkeypatch.setattr(repository, "_summaries", lambda: FailingWrites(real()))
    with pytest.raises(RuntimeError, match="mid-rebuild"):
        ingest.rebuild_summaries(state, None, now=NOW)
    monkeypatch.setattr(repository, "_summaries", real)
    stored = repository.all_summaries(shop.slug)
    assert stored.keys() == {"test-shop", "test-shop/oak-chair"}  # nothing was left without a summary
    assert stored["test-shop"].histogram[5] == 9 and stored["test-shop/oak-chair"].count == 1
    assert client.get(f"{PUBLIC}/products/oak-chair/summary").json()["review_count"] == 1
    assert ingest.rebuild_summaries(state, None, now=NOW)["differed"] == ["test-shop"]  # the next run repairs it
    assert client.get(f"{PUBLIC}/summary").json()["review_count"] == 2


def test_an_ingest_running_beside_the_nightly_rebuild_loses_nothing(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    """Two threads: one ingests 120 reviews in small batches, the other rebuilds every summary over and over
    (reading the reviews slowly, to widen the window). Every review must be counted once at the end."""
    ingest.ingest(state, shop.slug, [review("seed", 5)], now=NOW)
    read_ratings = repository.published_ratings

    def slow_reader(business_unit: str) -> Iterator[tuple[str | None, int, datetime]]:
        yield from read_ratings(business_unit)
        time.sleep(0.005)  # an ingest gets in between reading the reviews and writing the summaries

    monkeypatch.setattr(repository, "published_ratings", slow_reader)
    done = threading.Event()
    errors: list[BaseException] = []
    lost: list[str] = []  # moments the store counted fewer reviews than had been ingested

    def ingest_all() -> None:
        expected = {"test-shop": 1, "test-shop/oak-chair": 0}
        try:
            for start in range(0, 120, 4):
                batch = [
                    review(f"r{i}", 1 + i % 5, product="oak-chair" if i % 3 else None) for i in range(start, start + 4)
                ]
                ingest.ingest(state, shop.slug, batch, now=NOW)
                for record in batch:
                    expected["test-shop/oak-chair" if record.get("product") else "test-shop"] += 1
                stored = repository.all_summaries(shop.slug)
                for key, count in expected.items():
                    if key not in stored or stored[key].count < count:
                        lost.append(f"{key}: {stored[key].count if key in stored else 'none'} < {count}")
                time.sleep(0.001)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    def rebuild_meanwhile() -> None:
        deadline = time.monotonic() + 30
        try:
            for _ in range(2000):
                if done.is_set() or time.monotonic() > deadline:
                    return
                ingest.rebuild_summaries(state, None, now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ingest_all), threading.Thread(target=rebuild_meanwhile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and lost == []
    reviews = list(repository.iter_reviews(shop.slug))
    assert len(reviews) == 121
    expected = ingest.compute_summaries(reviews)
    stored = repository.all_summaries(shop.slug)
    assert {k: s.histogram for k, s in stored.items()} == {k: s.histogram for k, s in expected.items()}
    assert client.get(f"{PUBLIC}/summary").json()["review_count"] == expected["test-shop"].count
    assert client.get(f"{PUBLIC}/products/oak-chair/summary").json()["review_count"] == 80


def test_a_summary_another_process_moved_during_the_rebuild_is_left_to_it(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    """On a shared MongoDB another process's ingest may `$inc` a summary between the rebuild's read of it and
    its write: the rebuild must not overwrite that increment with figures computed before it."""
    ingest.ingest(state, shop.slug, [review("r1", 5)], now=NOW)
    _spoil(state, "test-shop", h1=3)
    read_ratings = repository.published_ratings

    def reviews_then_another_process_counts_one(business_unit: str) -> Iterator[tuple[str | None, int, datetime]]:
        yield from read_ratings(business_unit)
        documents.SummaryDoc._get_collection().update_one({"_id": "test-shop"}, {"$inc": {"h4": 1}})

    monkeypatch.setattr(repository, "published_ratings", reviews_then_another_process_counts_one)
    report = ingest.rebuild_summaries(state, shop.slug, now=NOW)
    assert report["differed"] == ["test-shop"] and report["skipped"] == ["test-shop"]
    kept = repository.all_summaries(shop.slug)["test-shop"].histogram
    assert (kept[1], kept[4], kept[5]) == (3, 1, 1)  # the other process's +1 is still there

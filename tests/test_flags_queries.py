"""The flags' queries as sent (recorded on whichever store the suite runs): each has a declared index serving it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reviews_service import documents, domain, flag_store, flagging, ingest, repository
from reviews_service.state import ServiceState
from tests.conftest import NOW, review
from tests.test_query_shapes import _key, _serves, record


def _indexes(doc: Any) -> list[tuple[list[tuple[str, int]], dict[str, Any]]]:
    return [(_key(info["key"]), info) for info in doc._get_collection().index_information().values()]


@pytest.mark.parametrize("status", ["open", "resolved"])
@pytest.mark.parametrize("kind", [None, "one-star", "burst"])
@pytest.mark.parametrize("cursor", [False, True])
def test_every_list_of_flags_has_an_index_that_serves_its_sort(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, status: str, kind: str | None, cursor: bool
) -> None:
    after = domain.Flag(id="x", business_unit=shop.slug, kind="one-star", created_at=NOW)
    flags = record(monkeypatch, documents.FlagDoc)
    flag_store.list_flags(
        shop.slug, status=status, kind=kind, limit=20, cursor=repository.encode_cursor(after) if cursor else None
    )
    (find,) = flags.finds
    equal = {name for name, value in find.filter.items() if not isinstance(value, dict) and name != "$or"}
    assert any(_serves(index, equal) for index, _ in _indexes(documents.FlagDoc)), find.filter
    assert list(find.sort) == [("created_at", -1), ("_id", -1)] and find.limit == 21


def test_the_last_flag_of_a_kind_and_the_due_alerts_are_indexed(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = record(monkeypatch, documents.FlagDoc)
    flag_store.last_flag(shop.slug, "score-drop")
    (find,) = flags.finds
    assert find.filter == {"business_unit": shop.slug, "kind": "score-drop"}
    assert any(_serves(index, set(find.filter)) for index, _ in _indexes(documents.FlagDoc))
    # claims filter and sort on alert_due alone; the index is sparse: only flags with an alert due are in it
    [(_, due)] = [(i, info) for i, info in _indexes(documents.FlagDoc) if i == [("alert_due", 1)]]
    assert due.get("sparse") is True


def test_the_periodic_job_reads_only_ratings_in_its_window_by_the_reviews_index(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    ingest.ingest(
        state,
        shop.slug,
        [review(f"r{i}", 4, created_at=(NOW - timedelta(days=i)).isoformat()) for i in range(5)],
        now=NOW,
    )
    reviews = record(monkeypatch, documents.ReviewDoc)
    flagging.detect_patterns(shop.slug, now=NOW)
    (find,) = [f for f in reviews.finds if "created_at" in f.filter]
    assert {k for k, v in find.filter.items() if not isinstance(v, dict)} == {"business_unit", "status"}
    assert set(find.filter["created_at"]) == {"$gte", "$lt"}
    indexes = [index for index, _ in _indexes(documents.ReviewDoc)]
    assert [("business_unit", 1), ("status", 1), ("created_at", -1), ("_id", -1)] in indexes


def test_an_ingest_batch_reads_the_norms_once_by_id_past_the_caches(
    shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    summaries = record(monkeypatch, documents.SummaryDoc)
    records = [review("a", 1, product="oak-chair"), review("b", 2, product="walnut-table"), review("c", 1)]
    ingest.ingest(state, shop.slug, records, now=NOW)
    norms = [f for f in summaries.finds if set(f.filter) == {"_id"} and "$in" in f.filter["_id"]]
    assert len(norms) == 1
    assert sorted(norms[0].filter["_id"]["$in"]) == ["test-shop", "test-shop/oak-chair", "test-shop/walnut-table"]
    assert state.summaries.get("test-shop") is None  # flagging filled no cache

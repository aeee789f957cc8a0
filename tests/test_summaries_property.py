"""Incremental summaries always equal a rebuild from scratch, and both equal a plain model of the reviews."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews_service import domain, ingest, repository, store
from reviews_service.state import ServiceState
from tests.conftest import NOW

SKUS = [None, "oak-chair", "walnut-table"]
EXTERNAL_IDS = [f"r{i}" for i in range(6)]

ingest_op = st.tuples(
    st.just("ingest"),
    st.sampled_from(EXTERNAL_IDS),
    st.integers(1, 5),
    st.sampled_from(SKUS),
    st.sampled_from(["published", "published", "pending", "hidden"]),
    st.integers(0, 5),  # day offset: equal timestamps happen on purpose
)
moderate_op = st.tuples(
    st.just("moderate"), st.sampled_from(EXTERNAL_IDS), st.sampled_from(["published", "hidden", "removed"])
)
reingest_op = st.tuples(st.just("reingest"), st.sampled_from(EXTERNAL_IDS))
operations = st.lists(st.one_of(ingest_op, ingest_op, moderate_op, reingest_op), min_size=1, max_size=25)


def _record(ext: str, rating: int, sku: str | None, status: str, day: int) -> dict[str, Any]:
    return {
        "source": "api",
        "external_id": ext,
        "rating": rating,
        "text": "fine",
        "product": sku,
        "status": status,
        "created_at": (NOW - timedelta(days=30 - day)).isoformat(),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_incremental_summaries_equal_rebuild(
    shop: domain.BusinessUnit, ops: list[tuple[Any, ...]], state: ServiceState
) -> None:
    store.drop_all()
    state.reset()  # the examples share one instance: what it cached of the last one is gone
    repository.save_business_unit(state, shop)
    repository.save_products(
        state, [domain.Product(shop.slug, "oak-chair", "Oak chair"), domain.Product(shop.slug, "walnut-table", "Table")]
    )
    last_record: dict[str, dict[str, Any]] = {}
    model: dict[str, dict[str, Any]] = {}  # external id -> what should be stored: rating, sku, status, moderated
    for op in ops:
        if op[0] == "ingest":
            _, ext, rating, sku, status, day = op
            record = _record(ext, rating, sku, status, day)
            last_record[ext] = record
            ingest.ingest(state, shop.slug, [record], now=NOW)
            moderated = model.get(ext, {}).get("moderated")
            if model.get(ext, {}).get("status") == "published":  # an admin ingest does not unpublish: kept
                status = "published"
            model[ext] = {
                "rating": rating,
                "sku": sku,
                "status": moderated or status,
                "moderated": moderated,
                "created_at": record["created_at"],
            }
        elif op[0] == "reingest" and op[1] in last_record:
            report = ingest.ingest(state, shop.slug, [last_record[op[1]]], now=NOW)
            assert report.unchanged == 1 and report.inserted == report.updated == 0
        elif op[0] == "moderate" and op[1] in model:
            _, ext, status = op
            reason = None if status == "published" else "Spam"
            ingest.moderate(
                state, domain.review_id(shop.slug, "api", ext), status=status, reply=None, now=NOW, reason=reason
            )
            model[ext].update(status=status, moderated=status)

    stored = repository.all_summaries(shop.slug)
    rebuilt = ingest.compute_summaries(repository.iter_reviews(shop.slug))
    for sku in SKUS:
        key = domain.summary_key(shop.slug, sku)
        expected = dict.fromkeys(domain.RATINGS, 0)
        for item in model.values():
            if item["sku"] == sku and item["status"] == "published":
                expected[item["rating"]] += 1
        served = repository.get_summary(state, shop.slug, sku)  # the cached read path users hit
        assert served.histogram == expected, (sku, ops)
        assert ingest.same_figures(stored.get(key), rebuilt.get(key)), (sku, ops)
        assert ingest.same_figures(served, rebuilt.get(key)), (sku, ops)
    assert ingest.rebuild_summaries(state, shop.slug, now=NOW)["differed"] == []

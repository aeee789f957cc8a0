"""The public review list: newest first, cursor pages without gaps or repeats, filters, hidden reviews never shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from tests.conftest import NOW, review

INGEST = "/v1/admin/business-units/test-shop/reviews"
LIST = "/v1/business-units/test-shop/reviews"
BASE = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SHARED_A = "2026-09-15T12:00:00Z"  # a dozen reviews share this moment
SHARED_B = "2026-07-04T09:30:00.250Z"  # and five this one
PRODUCTS = (None, "oak-chair", "walnut-table")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ingest(client: TestClient, admin: dict[str, str], records: list[dict[str, Any]]) -> None:
    response = client.post(INGEST, json=records, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.json()["rejections"]


def dataset() -> list[dict[str, Any]]:
    """57 records: distinct and shared timestamps, three products, two languages, five ratings, some hidden."""
    records = []
    for i in range(57):
        if i % 5 == 0:
            created = SHARED_A
        elif i % 11 == 3:
            created = SHARED_B
        elif i == 8:
            created = "2026-08-08T08:08:08.000400Z"  # truncated to the same millisecond as i == 9
        elif i == 9:
            created = "2026-08-08T08:08:08.000900Z"
        else:
            created = iso(BASE + timedelta(hours=37 * i % 2000))
        records.append(
            review(
                f"r{(i * 37) % 101:03d}",  # ids unrelated to time order
                rating=1 + (i * 7) % 5,
                created_at=created,
                product=PRODUCTS[i % 3],
                language="nl" if i % 4 else "en",
                status="hidden" if i % 13 == 6 else "published",
                text=f"Review number {i}.",
            )
        )
    return records


def published(records: list[dict[str, Any]], **match: Any) -> set[str]:
    """Ids of the published records whose fields equal `match`."""
    return {
        domain.review_id("test-shop", "api", r["external_id"])
        for r in records
        if r["status"] == "published" and all(r.get(k) == v for k, v in match.items())
    }


def walk(
    client: TestClient,
    *,
    limit: int = 10,
    between: Callable[[int, list[dict[str, Any]]], None] | None = None,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every item, following next_cursor; `between(pages_read, items_so_far)` runs before each next page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
        response = client.get(LIST, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert pages <= 500, "the walk does not end"
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit, "only the last page may be short"
        if between is not None:
            between(pages, items)


def assert_newest_first(items: list[dict[str, Any]]) -> None:
    times = [item["created_at"] for item in items]
    assert times == sorted(times, reverse=True)


def assert_no_repeats(items: list[dict[str, Any]]) -> None:
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


@pytest.fixture
def records(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> list[dict[str, Any]]:
    data = dataset()
    ingest(client, admin, data)
    # and one hidden by a moderator rather than by the source
    victim = next(r for r in data if r["status"] == "published" and r["created_at"] == SHARED_A)
    response = client.patch(
        f"/v1/admin/reviews/test-shop:api:{victim['external_id']}",
        json={"status": "hidden", "reason": "Spam"},
        headers=admin,
    )
    assert response.status_code == 200
    victim["status"] = "hidden"
    return data


def test_dataset_has_what_the_tests_rely_on(records: list[dict[str, Any]]) -> None:
    times = [r["created_at"] for r in records if r["status"] == "published"]
    assert times.count(SHARED_A) >= 8
    assert times.count(SHARED_B) >= 3
    assert sum(r["status"] == "hidden" for r in records) >= 4
    assert len(published(records)) > 10
    assert len({r["external_id"] for r in records}) == len(records) == 57


# --- the full walk ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [10, 1, 7, 100])
def test_walk_is_newest_first_without_gaps_or_repeats(
    client: TestClient, records: list[dict[str, Any]], limit: int
) -> None:
    items = walk(client, limit=limit, product="*")
    assert_no_repeats(items)
    assert_newest_first(items)
    assert {item["id"] for item in items} == published(records)


def test_walk_pages_and_last_cursor(client: TestClient, records: list[dict[str, Any]]) -> None:
    total = len(published(records))
    first = client.get(LIST, params={"limit": 10, "product": "*"}).json()
    assert len(first["items"]) == 10 and first["next_cursor"]
    pages = []
    walk(client, limit=10, product="*", between=lambda n, items: pages.append(len(items)))
    assert len(pages) == (total - 1) // 10  # every full page but the last had a cursor
    # with the page size equal to the total, the one page has no cursor (no empty trailing page)
    whole = client.get(LIST, params={"limit": total, "product": "*"}).json()
    assert len(whole["items"]) == total and whole["next_cursor"] is None


def test_ties_on_created_at_are_split_across_pages_without_loss(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    shared = published(records, created_at=SHARED_A)
    items = walk(client, limit=3, product="*")
    walked_shared = [item["id"] for item in items if item["created_at"] == "2026-09-15T12:00:00.000Z"]
    assert len(walked_shared) == len(set(walked_shared))
    assert set(walked_shared) == shared
    # the two reviews that differ only below a millisecond are both there, at the same millisecond
    sub_milli = [item for item in items if item["created_at"] == "2026-08-08T08:08:08.000Z"]
    assert len(sub_milli) == 2


def test_cursor_is_stable_when_repeated(client: TestClient, records: list[dict[str, Any]]) -> None:
    first = client.get(LIST, params={"limit": 10, "product": "*"}).json()
    again = client.get(LIST, params={"limit": 10, "product": "*", "cursor": first["next_cursor"]}).json()
    twice = client.get(LIST, params={"limit": 10, "product": "*", "cursor": first["next_cursor"]}).json()
    assert again == twice
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in again["items"]}


# --- a walk while reviews arrive ----------------------------------------------------------------


def test_walk_while_new_reviews_arrive(
    client: TestClient, admin: dict[str, str], records: list[dict[str, Any]]
) -> None:
    at_start = published(records)
    added: dict[str, str] = {}  # id -> created_at of reviews ingested during the walk
    below_cursor: set[str] = set()  # those added strictly older than everything already seen

    def arrive(pages: int, seen: list[dict[str, Any]]) -> None:
        newest_seen = datetime.fromisoformat(seen[0]["created_at"])
        oldest_seen = datetime.fromisoformat(seen[-1]["created_at"])
        batch = {
            f"new-top-{pages}": NOW - timedelta(minutes=pages),  # newer than everything
            f"new-seen-{pages}": newest_seen - (newest_seen - oldest_seen) / 2,  # inside the seen range
            f"new-edge-a-{pages}": oldest_seen,  # the same moment as the cursor's review
            f"new-edge-z-{pages}": oldest_seen,
            f"new-ahead-{pages}": oldest_seen - timedelta(minutes=17),  # inside the range still to come
        }
        ingest(client, admin, [review(k, 3, created_at=iso(v), product=PRODUCTS[pages % 3]) for k, v in batch.items()])
        for external_id, moment in batch.items():
            review_id = f"test-shop:api:{external_id}"
            added[review_id] = iso(moment)
            if moment < oldest_seen:
                below_cursor.add(review_id)

    items = walk(client, limit=10, product="*", between=arrive)
    walked = {item["id"] for item in items}
    assert_no_repeats(items)
    assert_newest_first(items)
    assert at_start <= walked, sorted(at_start - walked)
    assert walked <= at_start | set(added)
    assert below_cursor <= walked, sorted(below_cursor - walked)
    assert added  # the walk had more than one page, so reviews did arrive
    # and afterwards a fresh walk sees everything exactly once
    fresh = walk(client, limit=10, product="*")
    assert_no_repeats(fresh)
    assert {item["id"] for item in fresh} == at_start | set(added)


def test_walk_while_reviews_are_hidden(
    client: TestClient, admin: dict[str, str], records: list[dict[str, Any]]
) -> None:
    """Hiding a review on a page not yet read drops it; nothing else is skipped or repeated."""
    order = [item["id"] for item in walk(client, limit=100, product="*")]
    to_hide = order[25]

    def hide(pages: int, seen: list[dict[str, Any]]) -> None:
        if pages == 1:
            response = client.patch(
                f"/v1/admin/reviews/{to_hide}", json={"status": "hidden", "reason": "Spam"}, headers=admin
            )
            assert response.status_code == 200

    items = walk(client, limit=10, product="*", between=hide)
    assert_no_repeats(items)
    assert [item["id"] for item in items] == [i for i in order if i != to_hide]


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"rating": 1, "product": "*"}, {"rating": 1}),
        ({"rating": 5, "product": "*"}, {"rating": 5}),
        ({"language": "nl", "product": "*"}, {"language": "nl"}),
        ({"language": "en", "product": "*"}, {"language": "en"}),
        ({"product": "oak-chair"}, {"product": "oak-chair"}),
        ({"product": "walnut-table", "rating": 3}, {"product": "walnut-table", "rating": 3}),
        ({}, {"product": None}),
        ({"rating": 1}, {"product": None, "rating": 1}),
        ({"language": "en"}, {"product": None, "language": "en"}),
    ],
    ids=["rating-1", "rating-5", "nl", "en", "oak-chair", "walnut-3", "shop", "shop-rating-1", "shop-en"],
)
def test_filters_return_exactly_the_matching_published_reviews(
    client: TestClient, records: list[dict[str, Any]], params: dict[str, Any], match: dict[str, Any]
) -> None:
    expected = published(records, **match)
    assert expected, "the dataset should have matches for every filter"
    items = walk(client, limit=10, **params)
    assert_no_repeats(items)
    assert_newest_first(items)
    assert {item["id"] for item in items} == expected
    for item in items:
        for key, value in match.items():
            assert item[key] == value


def test_default_list_is_what_the_shop_summary_counts(client: TestClient, records: list[dict[str, Any]]) -> None:
    items = walk(client, limit=10)
    summary = client.get("/v1/business-units/test-shop/summary").json()
    assert len(items) == summary["review_count"]
    assert {str(r): sum(i["rating"] == r for i in items) for r in range(1, 6)} == summary["histogram"]
    chair = walk(client, limit=10, product="oak-chair")
    assert len(chair) == client.get("/v1/business-units/test-shop/products/oak-chair/summary").json()["review_count"]


def test_a_filter_with_no_matches_is_an_empty_last_page(client: TestClient, records: list[dict[str, Any]]) -> None:
    response = client.get(LIST, params={"language": "fr", "product": "*"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_hidden_reviews_never_appear(client: TestClient, admin: dict[str, str], records: list[dict[str, Any]]) -> None:
    hidden = {domain.review_id("test-shop", "api", r["external_id"]) for r in records if r["status"] == "hidden"}
    for params in ({"product": "*"}, {}, {"product": "oak-chair"}, {"product": "walnut-table"}, {"rating": 1}):
        for limit in (10, 100):
            shown = {item["id"] for item in walk(client, limit=limit, **params)}
            assert not shown & hidden, (params, shown & hidden)
    # nor after the source re-sends them
    ingest(client, admin, [r for r in records if r["status"] == "hidden"])
    assert not {item["id"] for item in walk(client, limit=100, product="*")} & hidden


def test_pending_reviews_never_appear(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> None:
    ingest(client, admin, [review("p1", 5, status="pending"), review("p2", 4)])
    assert [item["id"] for item in walk(client, product="*")] == ["test-shop:api:p2"]

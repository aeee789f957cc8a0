"""The embedded store's sorted indexes: a sorted, limited query answers exactly what a full sort of every match gives,
whatever the data (nulls, missing fields, ties, keyset bounds, edits, deletes, other processes' writes), and it
reads only about as many documents as it returns."""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews_service import embedded

UNITS = ["a", "b"]
STATUS = ["published", "hidden"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
INDEXES = [
    [("unit", 1), ("status", 1), ("created", -1), ("_id", -1)],
    [("unit", 1), ("product", 1), ("status", 1), ("created", -1), ("_id", -1)],
    [("unit", 1), ("sku", 1), ("rating", 1)],
]


def _client(where: str = embedded.MEMORY) -> Any:
    return embedded.EmbeddedClient(store=embedded.open_store(where), tz_aware=True)


@contextmanager
def _opened(on_disk: bool) -> Iterator[Any]:
    """A client of the in-memory store, or of one on disk in a directory of its own (its indexes are tables)."""
    if not on_disk:
        yield _client()
        return
    with tempfile.TemporaryDirectory() as where:
        client = _client(where)
        try:
            yield client
        finally:
            client.close()


STORES = pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])


def _collection(client: Any) -> Any:
    collection = client["db"]["reviews"]
    for keys in INDEXES:
        collection.create_index(keys)
    return collection


def _plain(docs: list[dict[str, Any]]) -> Any:
    """The same documents in a collection with no declared index: mongomock's own filter and full sort."""
    collection = _client()["db"]["plain"]
    if docs:
        collection.insert_many([dict(doc) for doc in docs])
    return collection


doc_strategy = st.fixed_dictionaries(
    {
        "unit": st.sampled_from(UNITS),
        "status": st.sampled_from(STATUS),
        "created": st.integers(0, 40).map(lambda m: T0 + timedelta(minutes=m, microseconds=m * 1357)),
        "rating": st.integers(1, 5),
    },
    optional={"product": st.one_of(st.none(), st.sampled_from(["p1", "p2", "p3"])), "sku": st.sampled_from("xyz")},
)


def _query(draw: Any) -> tuple[dict[str, Any], list[tuple[str, int]], int, int]:
    spec: dict[str, Any] = {"unit": draw(st.sampled_from(UNITS))}
    if draw(st.booleans()):
        spec["status"] = draw(st.sampled_from(STATUS))
    if draw(st.booleans()):
        spec["product"] = draw(st.sampled_from([None, "p1", "p2"]))
    if draw(st.booleans()):
        spec["rating"] = draw(st.integers(1, 5))
    if draw(st.booleans()):  # a keyset cursor: strictly after (created, _id)
        at = T0 + timedelta(minutes=draw(st.integers(0, 40)))
        after = f"r{draw(st.integers(0, 60)):03d}"
        spec["$or"] = [{"created": {"$lt": at}}, {"created": at, "_id": {"$lt": after}}]
    direction = draw(st.sampled_from([-1, 1]))
    sort = draw(st.sampled_from([[("created", direction), ("_id", direction)], [("_id", direction)]]))
    return spec, sort, draw(st.integers(0, 3)), draw(st.integers(0, 12))


queries = st.composite(_query)()


@STORES
@settings(max_examples=150, deadline=None)
@given(st.lists(doc_strategy, max_size=60), st.lists(queries, min_size=1, max_size=4), st.data())
def test_a_sorted_window_equals_a_full_sort(
    on_disk: bool, docs: list[dict[str, Any]], asked: list[Any], data: Any
) -> None:
    """Whatever the documents and the query, the walk returns what sorting every match would, in that order."""
    with _opened(on_disk) as client:
        _check_windows(_collection(client), docs, asked, data)


def _check_windows(indexed: Any, docs: list[dict[str, Any]], asked: list[Any], data: Any) -> None:
    for i, doc in enumerate(docs):
        doc["_id"] = f"r{i:03d}"
    if docs:
        indexed.insert_many([dict(doc) for doc in docs])
    # edits and deletes after the index was built must reach it
    for doc in data.draw(st.lists(st.sampled_from(docs), max_size=5)) if docs else []:
        change = {"$set": {"created": T0 + timedelta(minutes=data.draw(st.integers(0, 40)))}}
        indexed.update_one({"_id": doc["_id"]}, change)
        doc.update(indexed.find_one({"_id": doc["_id"]}, {"_id": 0}))
    for doc in data.draw(st.lists(st.sampled_from(docs), max_size=3)) if docs else []:
        indexed.delete_one({"_id": doc["_id"]})
    plain = _plain(list(indexed.find({})))
    for spec, sort, skip, limit in asked:
        got = list(indexed.find(spec).sort(sort).skip(skip).limit(limit))
        want = list(plain.find(spec).sort(sort).skip(skip).limit(limit))
        assert [d["_id"] for d in got] == [d["_id"] for d in want], (spec, sort, skip, limit)
        assert got == want


COVERABLE = ["unit", "product", "status", "created", "sku", "rating"]  # two indexes hold them


@STORES
@settings(max_examples=100, deadline=None)
@given(
    st.lists(doc_strategy, max_size=40),
    st.dictionaries(
        st.sampled_from(["unit", "status", "product", "sku", "rating"]),
        st.sampled_from(["a", "b", "published", "p1", "x", None, 3, 4.0]),
    ),
    st.lists(st.sampled_from(COVERABLE), min_size=1, unique=True),
    st.booleans(),
    st.integers(0, 3),
    st.integers(0, 10),
    st.lists(
        st.tuples(
            st.sampled_from(["created", "rating"]), st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), st.integers(0, 40)
        ),
        max_size=2,
    ),
)
def test_a_projection_of_indexed_fields_answers_as_the_documents_do(
    on_disk: bool,
    docs: list[dict[str, Any]],
    spec: dict[str, Any],
    fields: list[str],
    with_id: bool,
    skip: int,
    limit: int,
    ranges: list[tuple[str, str, int]],
) -> None:
    """Equalities, ranges and a projection within one index's fields (on disk, answered from the index alone): the
    same documents with the same values and types as reading them (missing stays missing, null stays null, a range
    matches its own type only)."""
    for i, doc in enumerate(docs):
        doc["_id"] = f"r{i:03d}"
    for field, op, n in ranges:
        if field == "created":
            value: Any = T0 + timedelta(minutes=n, microseconds=n * 999)
        else:
            value = [n % 6, float(n % 6) + 0.5, str(n % 6)][n % 3]  # an int, a float, a string (no number matches)
        spec[field] = {**spec.get(field, {}), op: value} if isinstance(spec.get(field, {}), dict) else {op: value}
    projection = {field: 1 for field in fields} | ({} if with_id else {"_id": 0})
    with _opened(on_disk) as client:
        indexed = _collection(client)
        if docs:
            indexed.insert_many([dict(doc) for doc in docs])
        plain = _plain(docs)
        got = list(indexed.find(spec, projection))
        want = list(plain.find(spec, projection))
        key = repr  # the order of an unsorted find is the store's own
        assert sorted(map(key, got)) == sorted(map(key, want))
        window = list(indexed.find(spec, projection).skip(skip).limit(limit))
        assert len(window) == len(want[skip : skip + limit] if limit else want[skip:])
        assert {key(d) for d in window} <= {key(d) for d in want}


@STORES
def test_a_first_page_reads_about_as_many_documents_as_it_returns(on_disk: bool) -> None:
    """Newest first, 20 of 5,000 in one unit: the walk fetches the 21 it returns, not the unit's 5,000."""
    with _opened(on_disk) as client:
        _check_first_page(_collection(client))


def _check_first_page(collection: Any) -> None:
    collection.insert_many(
        {"_id": f"r{i:05d}", "unit": "a", "status": "published", "created": T0 + timedelta(seconds=i)}
        for i in range(5000)
    )
    store = collection._store
    fetched: list[Any] = []
    original = store.fetch
    store.fetch = lambda key: fetched.append(key) or original(key)
    page = list(collection.find({"unit": "a", "status": "published"}).sort([("created", -1), ("_id", -1)]).limit(21))
    assert [d["_id"] for d in page] == [f"r{i:05d}" for i in range(4999, 4978, -1)]
    assert len(fetched) == 21
    # a later page starts at its keyset bound instead of walking the pages before it
    last = page[-1]
    fetched.clear()
    spec = {
        "unit": "a",
        "status": "published",
        "$or": [{"created": {"$lt": last["created"]}}, {"created": last["created"], "_id": {"$lt": last["_id"]}}],
    }
    page2 = list(collection.find(spec).sort([("created", -1), ("_id", -1)]).limit(20))
    assert [d["_id"] for d in page2] == [f"r{i:05d}" for i in range(4978, 4958, -1)]
    assert len(fetched) == 20


@STORES
def test_values_an_index_cannot_order_fall_back_to_the_full_sort(on_disk: bool) -> None:
    """An array, a boolean or two types in one indexed field: the answer stays MongoDB's (by the slower path)."""
    with _opened(on_disk) as client:
        _check_unorderable(_collection(client))


def _check_unorderable(collection: Any) -> None:
    collection.insert_many(
        [
            {"_id": "1", "unit": "a", "status": "published", "created": 3},
            {"_id": "2", "unit": "a", "status": "published", "created": "text"},
            {"_id": "3", "unit": "a", "status": "published", "created": [1, 9]},
            {"_id": "4", "unit": "a", "status": "published", "created": True},
            {"_id": "5", "unit": "a", "status": "published"},
        ]
    )
    plain = _plain(list(collection.find({})))
    sort = [("created", -1), ("_id", -1)]
    spec = {"unit": "a", "status": "published"}
    assert [d["_id"] for d in collection.find(spec).sort(sort).limit(4)] == [
        d["_id"] for d in plain.find(spec).sort(sort).limit(4)
    ]
    assert [d["_id"] for d in collection.find({"unit": "a", "status": "published", "created": "3"}).sort(sort)] == []


def _write_elsewhere(data: str) -> None:
    client = _client(data)
    collection = client["db"]["reviews"]
    collection.update_one({"_id": "r00000"}, {"$set": {"created": T0 + timedelta(days=1)}})
    collection.insert_one({"_id": "r99999", "unit": "a", "status": "published", "created": T0 + timedelta(days=2)})
    collection.delete_one({"_id": "r00001"})
    client.close()


def test_another_process_s_writes_reach_this_process_s_sorted_index(tmp_path: Path) -> None:
    """On disk, an edit, an insert and a delete made by another process show in this one's next sorted page."""
    client = _client(str(tmp_path))
    collection = _collection(client)
    collection.insert_many(
        {"_id": f"r{i:05d}", "unit": "a", "status": "published", "created": T0 + timedelta(seconds=i)}
        for i in range(50)
    )
    sort = [("created", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)]
    assert next(collection.find({"unit": "a", "status": "published"}).sort(sort))["_id"] == "r00049"
    other = multiprocessing.get_context("spawn").Process(target=_write_elsewhere, args=(str(tmp_path),))
    other.start()
    other.join(60)
    assert other.exitcode == 0
    newest = [d["_id"] for d in collection.find({"unit": "a", "status": "published"}).sort(sort).limit(3)]
    assert newest == ["r99999", "r00000", "r00049"]
    oldest = [d["_id"] for d in collection.find({"unit": "a", "status": "published"}).sort([("created", 1)]).limit(2)]
    assert oldest == ["r00002", "r00003"]  # r00000 moved to the top, r00001 is gone
    client.close()


def _fill(collection: Any, count: int) -> None:
    collection.insert_many(
        {
            "_id": f"r{i:05d}",
            "unit": UNITS[i % 2],
            "status": "published",
            "sku": "xyz"[i % 3],
            "created": T0 + timedelta(seconds=i),
            "text": "Mooie stoel, snel geleverd en goed verpakt. " * 20,
        }
        for i in range(count)
    )


def test_on_disk_a_process_holds_its_cache_not_the_data(tmp_path: Path) -> None:
    """A process reading a store of 5,000 reviews (4.5 MB of text) keeps under 2 MB of it: the indexes are in the
    file, and only the documents it read lately are kept decoded."""
    client = _client(str(tmp_path))
    _fill(_collection(client), 5000)
    client.close()
    tracemalloc.start()
    try:
        client = _client(str(tmp_path))
        collection = _collection(client)
        sort = [("created", -1), ("_id", -1)]
        page = [d["_id"] for d in collection.find({"unit": "a", "status": "published"}).sort(sort).limit(20)]
        assert page[:2] == ["r04998", "r04996"]
        assert collection.count_documents({"unit": "b"}) == 2500
        assert collection.count_documents({"sku": {"$in": ["x", "y"]}}) == 3334
        assert len(list(collection.find({"text": {"$regex": "verpakt"}}))) == 5000  # a full scan
        held, _ = tracemalloc.get_traced_memory()
        client.close()
    finally:
        tracemalloc.stop()
    assert held < 2_000_000, held


def test_a_data_directory_without_index_tables_gets_them_when_opened(tmp_path: Path) -> None:
    """A data directory written before the index tables (or whose tables were lost) is indexed when it is opened,
    and its sorted pages and equalities answer as before."""
    client = _client(str(tmp_path))
    _fill(_collection(client), 300)
    client.close()
    with sqlite3.connect(tmp_path / "db" / "reviews") as raw:
        tables = [name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ix_%'")]
        assert tables  # the indexes live in the file
        for name in tables:
            raw.execute(f'DROP TABLE IF EXISTS "{name}"')
        raw.execute("DELETE FROM info WHERE key = 'sql_indexes'")
    client = _client(str(tmp_path))
    collection = client["db"]["reviews"]
    sort = [("created", -1), ("_id", -1)]
    assert collection._store.plan({"unit": "b", "status": "published"}, sort) is not None
    assert [d["_id"] for d in collection.find({"unit": "b", "status": "published"}).sort(sort).limit(2)] == [
        "r00299",
        "r00297",
    ]
    assert collection.count_documents({"unit": "a", "sku": "y"}) == 50
    client.close()


@STORES
def test_an_edit_and_a_delete_move_the_documents_in_this_process_s_next_page(on_disk: bool) -> None:
    """The page read just before the edit was cached; the edit still moves its document, the delete drops it."""
    with _opened(on_disk) as client:
        collection = _collection(client)
        collection.insert_many(
            {"_id": f"r{i:05d}", "unit": "a", "status": "published", "created": T0 + timedelta(seconds=i)}
            for i in range(50)
        )
        sort = [("created", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)]
        spec = {"unit": "a", "status": "published"}
        assert [d["_id"] for d in collection.find(spec).sort([("created", 1)]).limit(2)] == ["r00000", "r00001"]
        collection.update_one({"_id": "r00000"}, {"$set": {"created": T0 + timedelta(days=1)}})
        collection.delete_one({"_id": "r00001"})
        assert [d["_id"] for d in collection.find(spec).sort(sort).limit(2)] == ["r00000", "r00049"]
        assert [d["_id"] for d in collection.find(spec).sort([("created", 1)]).limit(2)] == ["r00002", "r00003"]


@STORES
def test_one_bulk_write_that_touches_a_document_twice_leaves_its_index_rows_as_its_last_state(on_disk: bool) -> None:
    """Index rows are written when the operation ends; two edits of one document, and an insert deleted again,
    within one bulk write still leave the pages of its last state."""
    with _opened(on_disk) as client:
        collection = _collection(client)
        collection.insert_many(
            {"_id": f"r{i:05d}", "unit": "a", "status": "published", "created": T0 + timedelta(seconds=i)}
            for i in range(10)
        )
        collection.bulk_write(
            [
                pymongo.UpdateOne({"_id": "r00000"}, {"$set": {"created": T0 + timedelta(days=2)}}),
                pymongo.UpdateOne({"_id": "r00000"}, {"$set": {"created": T0 + timedelta(days=1), "unit": "b"}}),
                pymongo.InsertOne({"_id": "r99999", "unit": "a", "status": "published", "created": T0}),
                pymongo.DeleteOne({"_id": "r99999"}),
                pymongo.UpdateOne({"_id": "r00001"}, {"$set": {"status": "hidden"}}),
            ]
        )
        sort = [("created", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)]
        assert [d["_id"] for d in collection.find({"unit": "b", "status": "published"}).sort(sort)] == ["r00000"]
        page = [d["_id"] for d in collection.find({"unit": "a", "status": "published"}).sort([("created", 1)])]
        assert page == [f"r{i:05d}" for i in range(2, 10)]
        assert collection.count_documents({"status": "hidden"}) == 1


@STORES
def test_a_range_read_from_the_index_alone_matches_values_of_its_own_type_only(on_disk: bool) -> None:
    """`$lt: "5"` matches the string "4", not the numbers; a date range matches dates, not the strings beside
    them, as MongoDB's type bracketing does, also when the index rows answer without the documents."""
    with _opened(on_disk) as client:
        collection = _collection(client)
        collection.insert_many(
            [
                {
                    "_id": f"n{i}",
                    "unit": "a",
                    "sku": "x",
                    "status": "published",
                    "rating": i,
                    "created": T0 + timedelta(minutes=i),
                }
                for i in range(1, 6)
            ]
            + [{"_id": "s1", "unit": "a", "sku": "x", "status": "published", "rating": "4", "created": "2026-01-01"}]
        )
        by_rating = {"unit": "a", "sku": "x", "rating": {"$lt": "5"}}
        by_date = {
            "unit": "a",
            "status": "published",
            "created": {"$gte": T0 + timedelta(minutes=2), "$lt": T0 + timedelta(minutes=4)},
        }
        assert list(collection.find(by_rating, {"_id": 0, "rating": 1})) == [{"rating": "4"}]
        assert list(collection.find({"unit": "a", "sku": "x", "rating": {"$gt": 3}}, {"_id": 0, "rating": 1})) == [
            {"rating": 4},
            {"rating": 5},
        ]
        dates = sorted(d["created"] for d in collection.find(by_date, {"_id": 0, "created": 1}))
        assert dates == [T0 + timedelta(minutes=2), T0 + timedelta(minutes=3)]
        if on_disk:  # and the index rows answered them
            assert collection._store.covered(by_rating, ("rating",), 0, 0) == [{"rating": "4"}]
            assert collection._store.covered(by_date, ("created",), 0, 0) is not None

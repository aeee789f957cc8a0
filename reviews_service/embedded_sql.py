"""The embedded store's indexes as SQLite tables in each collection's file, beside its documents.

They used to be kept in each process's memory (hash sets per field and sorted lists per declared index, plus every
document decoded): about 10 KB per review in every process, rebuilt at each start. Here they are kept as MongoDB
keeps them, on disk and updated in the same transaction as the document they index, so every process reads the same
indexes, none builds them at start-up, and a process's memory no longer grows with the data.

- **Hash rows** (`ix_hash`): one row per (field, key, document) for every field of a declared index, the key being
  litemongo's (`indexing._key_for`: values MongoDB finds equal share a key). A document whose value cannot be keyed
  (the path passes through an array of odd values) gets the empty key, a candidate for every query on that field.
  Equality and `$in` read the candidates from the field whose rows are fewest (counted up to a bound).
- **Sorted tables** (`ix_s_<hash>`): one per declared index, a row of the index's fields' values and the document's
  key, under SQLite's own B-tree. Values are encoded so that SQLite's byte order is MongoDB's order: a type byte in
  BSON's type order (null and missing, numbers, strings, ObjectIds, dates), then the value in an order-keeping form.
  A walk (`embedded_index.walk`) pages through the range of its equalities from its keyset bound, in order.
  A document with a value such an index cannot order (an array, a sub-document, a boolean, an integer past 2**53) is
  listed in `ix_off` for that index, and while any is listed, queries use the hash rows (as MongoDB's planner would
  pick another plan): slower, never wrong.

The tables are built for the indexes the collection declares (`info` records which); a process that finds them built
for other declarations (another version of the service changed an index) uses none of them until they are rebuilt,
which the next write of an index declaration does.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import struct
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from litemongo._vendor.mongomock import indexing

from reviews_service.embedded_index import (
    END,
    NULL,
    Plan,
    _bound,
    _equal_prefix,
    _sort_fields,
    declarations,
    hash_paths,
)

TABLE_FORMAT = "2"  # rows (values..., doc, kinds); a change of the rows' form gives every table a new name
INFO_KEY = "sql_indexes"  # in the file's `info` table: the layout the index tables were built for
HASH = "ix_hash"
OFF = "ix_off"
UNKEYED = ""  # the hash key of a document that is a candidate for every query on that field
COUNT_BOUND = 1000  # rows counted per field to find the most selective one
PAGE = 64  # rows a walk reads per statement at first (doubling, up to MAX_PAGE)
MAX_PAGE = 4096
MAX_PARAMS = 500  # values per `IN (...)`
EXACT_INT = 2**53  # integers beyond this lose their order as doubles: not sortable here

# BSON's comparison order of the types an index can order (bsontypes.h): null < numbers < strings < ObjectId < date
_NULL, _NUMBER, _STRING, _OBJECTID, _DATE = b"\x05", b"\x0a", b"\x0f", b"\x23", b"\x2d"
_SIGN = 1 << 63


class Unsortable(Exception):
    """A value a sorted table cannot order as MongoDB does."""


def sort_value(value: Any) -> bytes:
    """A field's value as bytes whose order (memcmp, SQLite's BLOB order) is MongoDB's order of the values."""
    kind = type(value)
    if kind is str:
        text: str = value
        try:
            return _STRING + text.encode()
        except UnicodeEncodeError:  # a lone surrogate: BSON cannot hold it either
            raise Unsortable("surrogate") from None
    if value is None:
        return _NULL
    if kind is datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        delta = value - datetime(1970, 1, 1)
        millis = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000  # MongoDB keeps ms
        return _DATE + struct.pack(">Q", (millis + _SIGN) & (2**64 - 1))
    if kind is int or kind is float:
        if kind is int and abs(value) > EXACT_INT:
            raise Unsortable("integer beyond 2**53")
        number = float(value)
        if math.isnan(number):
            raise Unsortable("NaN")
        (bits,) = struct.unpack(">Q", struct.pack(">d", number + 0.0))  # -0.0 + 0.0 is 0.0: one zero, as MongoDB
        return _NUMBER + struct.pack(">Q", bits ^ (2**64 - 1) if bits & _SIGN else bits | _SIGN)
    if isinstance(value, bson.ObjectId):
        return _OBJECTID + value.binary
    raise Unsortable(kind.__name__)  # booleans, arrays, sub-documents, bytes, decimals: left to the full sort


def plain_value(encoded: bytes, kind: str) -> Any:
    """The value `sort_value` encoded (`kind` "i" for an int, as a double cannot tell 5 from 5.0)."""
    tag, rest = encoded[:1], encoded[1:]
    if tag == _STRING:
        return rest.decode()
    if tag == _NUMBER:
        (bits,) = struct.unpack(">Q", rest)
        bits = bits ^ _SIGN if bits & _SIGN else bits ^ (2**64 - 1)
        (number,) = struct.unpack(">d", struct.pack(">Q", bits))
        return int(number) if kind == "i" else number
    if tag == _DATE:
        (shifted,) = struct.unpack(">Q", rest)
        return datetime(1970, 1, 1) + timedelta(milliseconds=shifted - _SIGN)  # as BSON decodes it: naive UTC
    if tag == _OBJECTID:
        return bson.ObjectId(rest)
    return None


def _kind(doc: dict[str, Any], path: str) -> str:
    """What `plain_value` needs besides the encoded value: "m" missing, "i" an int, "-" anything else."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return "m"
        value = value[part]
    return "i" if type(value) is int else "-"


def _field(doc: dict[str, Any], path: str) -> Any:
    """A (possibly dotted) field's value, None when missing; an array on the way cannot be ordered."""
    value: Any = doc
    for part in path.split("."):
        if isinstance(value, list):
            raise Unsortable("array")
        value = value.get(part) if isinstance(value, dict) else None
    return value


def hash_key(key: tuple[Any, ...]) -> str:
    """litemongo's hash key (a tuple) as text: one text per key."""
    if len(key) == 1:
        return str(key[0])
    tag, value = key
    if isinstance(value, float):
        return f"{tag}:{value!r}"
    if isinstance(value, datetime):
        return f"{tag}:{value.isoformat()}"
    if isinstance(value, bytes):
        return f"{tag}:{value.hex()}"
    return f"{tag}:{value}"


@dataclass(frozen=True)
class Layout:
    """Which index tables a file holds: the hash-indexed fields and the sorted indexes' fields."""

    hashed: tuple[str, ...]
    sorted: tuple[tuple[str, ...], ...]
    format: str = TABLE_FORMAT  # the rows' form (tables of another one are rebuilt)

    @classmethod
    def of(cls, declared: Iterable[dict[str, Any]]) -> Layout:
        """The tables that serve these index declarations."""
        declared = list(declared)
        return cls(tuple(sorted(hash_paths(declared) - {"_id"})), declarations(declared))

    def dumps(self) -> str:
        """As recorded in `info`."""
        return json.dumps({"hashed": self.hashed, "sorted": self.sorted, "format": self.format})

    @classmethod
    def loads(cls, text: str) -> Layout:
        """From `info`."""
        data = json.loads(text)
        return cls(tuple(data["hashed"]), tuple(tuple(fields) for fields in data["sorted"]), data.get("format", "1"))


def table_name(fields: tuple[str, ...]) -> str:
    """The sorted table of one declared index."""
    return "ix_s_" + hashlib.sha1("\x00".join((TABLE_FORMAT, *fields)).encode()).hexdigest()[:16]


class SortedTable:
    """One declared index as an SQLite table of (encoded values..., document key)."""

    def __init__(self, connection: sqlite3.Connection, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.name = table_name(fields)
        self._connection = connection
        self._columns = [f"c{i}" for i in range(len(fields))]

    def create(self) -> None:
        """The table: its primary key is the whole row (a row is found again from the document it indexes)."""
        columns = ", ".join(f"{c} BLOB NOT NULL" for c in self._columns)
        key = ", ".join([*self._columns, "doc"])
        self._connection.execute(
            f'CREATE TABLE IF NOT EXISTS "{self.name}" ({columns}, doc TEXT NOT NULL, kinds TEXT NOT NULL, '
            f"PRIMARY KEY ({key})) WITHOUT ROWID"
        )

    def row(self, store_key: str, doc: dict[str, Any]) -> tuple[Any, ...] | None:
        """The row of a document, or None when one of its values cannot be ordered."""
        try:
            values = [sort_value(_field(doc, field)) for field in self.fields]
        except Unsortable:
            return None
        return (*values, store_key, "".join(_kind(doc, field) for field in self.fields))

    def insert(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add rows."""
        marks = ", ".join("?" * (len(self.fields) + 2))
        self._connection.executemany(f'INSERT OR REPLACE INTO "{self.name}" VALUES ({marks})', rows)

    def delete(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Remove rows (by their key: the values and the document)."""
        where = " AND ".join(f"{column} = ?" for column in [*self._columns, "doc"])
        self._connection.executemany(f'DELETE FROM "{self.name}" WHERE {where}', [row[:-1] for row in rows])

    def covered(
        self, spec: list[tuple[str, str, bytes]], fields: tuple[str, ...], skip: int, limit: int
    ) -> list[dict[str, Any]]:
        """The projection `fields` of the rows that meet `spec` ((field, operator, encoded value)s), from this
        table alone."""
        where = [f"c{self.fields.index(field)} {op} ?" for field, op, _ in spec]
        params = [value for _, _, value in spec]
        columns = [f"c{self.fields.index(field)}" for field in fields]
        sql = f'SELECT {", ".join([*columns, "kinds"])} FROM "{self.name}"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._connection.execute(f"{sql} LIMIT ? OFFSET ?", [*params, limit or -1, skip]).fetchall()
        at = [self.fields.index(field) for field in fields]
        found = []
        for row in rows:
            kinds = row[-1]
            found.append(
                {
                    f: plain_value(row[i], kinds[j])
                    for i, (f, j) in enumerate(zip(fields, at, strict=True))
                    if kinds[j] != "m"
                }
            )
        return found

    def walk(self, prefix: tuple[Any, ...], low: Any, high: Any, reverse: bool) -> Iterator[Hashable]:
        """Document keys whose first fields equal `prefix`, past the bound, in the index's order (as
        `embedded_index.SortedIndex.walk`: `low` is `(*edge, END)` walking up, `high` is `edge` walking down)."""
        width = len(prefix)
        where = [f"{column} = ?" for column in self._columns[:width]]
        params: list[Any] = [sort_value(value) for value in prefix]
        edge = low[:-1] if low is not None else high
        if edge is not None:
            columns = self._columns[width : width + len(edge)]
            where.append(f"({', '.join(columns)}) {'>' if low is not None else '<'} ({', '.join('?' * len(edge))})")
            params += [sort_value(value) for value in edge]
        rest = [*self._columns[width:], "doc"]
        direction = " DESC" if reverse else ""
        order = ", ".join(column + direction for column in rest)
        after = "<" if reverse else ">"
        last: tuple[Any, ...] | None = None
        page = PAGE
        while True:
            condition = list(where)
            values = list(params)
            if last is not None:  # the next page starts after the last row read
                condition.append(f"({', '.join(rest)}) {after} ({', '.join('?' * len(rest))})")
                values += last
            sql = f'SELECT {", ".join(rest)} FROM "{self.name}"'
            if condition:
                sql += " WHERE " + " AND ".join(condition)
            rows = self._connection.execute(f"{sql} ORDER BY {order} LIMIT {page}", values).fetchall()
            for row in rows:
                yield row[-1]
            if len(rows) < page:
                return
            last = tuple(rows[-1])
            page = min(page * 2, MAX_PAGE)


class SqlIndexes:
    """The index tables of one collection file (the caller holds the store's lock, and its write lock to write)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.built: Layout | None = None  # what the tables were built for (as `info` says)
        self._tables: list[SortedTable] = []
        self._sorted: dict[str, SortedTable] = {}
        self._pending: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}  # table -> queued (kind, rows)

    def create(self) -> None:
        """The tables every layout uses."""
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {HASH} (path TEXT NOT NULL, k TEXT NOT NULL, doc TEXT NOT NULL, "
            "PRIMARY KEY (path, k, doc)) WITHOUT ROWID"
        )
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {OFF} (name TEXT NOT NULL, doc TEXT NOT NULL, "
            "PRIMARY KEY (name, doc)) WITHOUT ROWID"
        )

    def load(self) -> None:
        """Read which layout the tables hold (another process may have rebuilt them)."""
        row = self._connection.execute("SELECT value FROM info WHERE key = ?", (INFO_KEY,)).fetchone()
        self.built = Layout.loads(row[0]) if row else None
        self._set_tables()

    def _set_tables(self) -> None:
        fields = self.built.sorted if self.built is not None else ()
        self._tables = [SortedTable(self._connection, one) for one in fields]
        self._sorted = {table.name: table for table in self._tables}

    def serves(self, declared: list[dict[str, Any]]) -> bool:
        """Whether the tables were built for these declarations."""
        return self.built is not None and self.built == Layout.of(declared)

    def build(self, declared: list[dict[str, Any]], items: Iterator[tuple[str, dict[str, Any]]]) -> None:
        """Empty the tables and index every document for `declared` (under the write lock, in its transaction)."""
        self._pending = {}  # every row is written anew
        layout = Layout.of(declared)
        wanted = {table_name(fields) for fields in layout.sorted}
        for (name,) in self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ix_s_%'"
        ).fetchall():
            if name not in wanted:
                self._connection.execute(f'DROP TABLE "{name}"')
        self._connection.execute(f"DELETE FROM {HASH}")
        self._connection.execute(f"DELETE FROM {OFF}")
        self.built = layout
        self._set_tables()
        for table in self._tables:
            table.create()
            self._connection.execute(f'DELETE FROM "{table.name}"')
        batch: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= 1000:
                self._add(batch)
                batch = []
        self._add(batch)
        self._connection.execute(
            "INSERT INTO info VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (INFO_KEY, layout.dumps()),
        )

    def clear(self) -> None:
        """Forget every document (the collection was dropped); the layout is gone with the declarations."""
        self._pending = {}
        self._connection.execute(f"DELETE FROM {HASH}")
        self._connection.execute(f"DELETE FROM {OFF}")
        for table in self._tables:
            self._connection.execute(f'DELETE FROM "{table.name}"')
        self._connection.execute("DELETE FROM info WHERE key = ?", (INFO_KEY,))
        self.built = None
        self._set_tables()

    def write(self, store_key: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """A document changed from `old` to `new` (None: absent): only the rows that differ are written, as
        MongoDB touches only the index entries whose keys changed (an edit of a text moves no row)."""
        if self.built is None:
            return
        before = self._rows(store_key, old) if old is not None else {}
        after = self._rows(store_key, new) if new is not None else {}
        for table in {*before, *after}:
            was, now = before.get(table, set()), after.get(table, set())
            if was - now:
                self._queue(table, "delete", was - now)
            if now - was:
                self._queue(table, "insert", now - was)

    def _queue(self, table: str, op: str, rows: set[tuple[Any, ...]]) -> None:
        """Keep a change for `flush`, merged with the one before it on that table if it is the same kind."""
        ops = self._pending.setdefault(table, [])
        if ops and ops[-1][0] == op:
            ops[-1][1].extend(rows)
        else:
            ops.append((op, list(rows)))

    def flush(self) -> None:
        """Write the queued rows: one statement per table and kind, in the order they were queued (a write
        operation of 2,000 documents writes each table's rows at once). Before every read and every commit."""
        pending, self._pending = self._pending, {}
        for table, ops in pending.items():
            for op, rows in ops:
                (self._delete if op == "delete" else self._insert)(table, rows)

    def _delete(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        if table == HASH:
            self._connection.executemany(f"DELETE FROM {HASH} WHERE path = ? AND k = ? AND doc = ?", rows)
        elif table == OFF:
            self._connection.executemany(f"DELETE FROM {OFF} WHERE name = ? AND doc = ?", rows)
        else:
            self._sorted[table].delete(rows)

    def _insert(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        if table == HASH:
            self._connection.executemany(f"INSERT OR IGNORE INTO {HASH} VALUES (?, ?, ?)", rows)
        elif table == OFF:
            self._connection.executemany(f"INSERT OR IGNORE INTO {OFF} VALUES (?, ?)", rows)
        else:
            self._sorted[table].insert(rows)

    def _rows(self, store_key: str, doc: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
        """Every index row of one document, by table."""
        assert self.built is not None
        rows: dict[str, set[tuple[Any, ...]]] = {HASH: set(), OFF: set()}
        for path in self.built.hashed:
            keys = indexing._doc_keys(doc, path)
            if keys is None:
                rows[HASH].add((path, UNKEYED, store_key))
            else:
                rows[HASH].update((path, hash_key(key), store_key) for key in keys)
        for table in self._tables:
            row = table.row(store_key, doc)
            if row is None:
                rows[OFF].add((table.name, store_key))
            else:
                rows[table.name] = {row}
        return rows

    def _add(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Index documents no row lists yet (a build)."""
        merged: dict[str, list[tuple[Any, ...]]] = {}
        for store_key, doc in items:
            for table, found in self._rows(store_key, doc).items():
                merged.setdefault(table, []).extend(found)
        for table, rows in merged.items():
            if rows:
                self._insert(table, rows)

    def candidates(self, filter: Any, id_keys: Any) -> list[str] | None:
        """The document keys a filter may match, from its most selective planned field (None: read them all).

        `id_keys` turns `_id` conditions' values into document keys (None where it cannot).
        """
        if self.built is None:
            return None
        conditions = _conditions(filter)
        if conditions is None:
            return None
        best: tuple[int, str, list[str]] | None = None
        for field, condition in conditions:
            keys = indexing.query_keys(condition)
            if keys is None:
                continue
            if field == "_id":
                ids: list[str] | None = id_keys(condition)
                if ids is not None:
                    return ids  # one document per key: nothing is more selective
                continue
            if field not in self.built.hashed:
                continue
            texts = sorted({hash_key(key) for key in keys if isinstance(key, tuple)} | {UNKEYED})
            size = self._count(field, texts)
            if best is None or size < best[0]:
                best = (size, field, texts)
        if best is None:
            return None
        _, field, texts = best
        found: list[str] = []
        for start in range(0, len(texts), MAX_PARAMS):
            chunk = texts[start : start + MAX_PARAMS]
            rows = self._connection.execute(
                f"SELECT doc FROM {HASH} WHERE path = ? AND k IN ({', '.join('?' * len(chunk))})", [field, *chunk]
            )
            found += [key for (key,) in rows]
        return list(dict.fromkeys(found))

    def _count(self, field: str, texts: list[str]) -> int:
        """How many rows these keys have (up to COUNT_BOUND for the first MAX_PARAMS keys)."""
        chunk = texts[:MAX_PARAMS]
        (count,) = self._connection.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {HASH} WHERE path = ? AND k IN ({', '.join('?' * len(chunk))}) "
            f"LIMIT {COUNT_BOUND + 1})",
            [field, *chunk],
        ).fetchone()
        return int(count) + (len(texts) > MAX_PARAMS)

    def plan(self, spec: Any, sort: Any) -> Plan | None:
        """The walk of a sorted table that answers `spec` in `sort` order (as `SortedIndexes.plan`), or None."""
        order = _sort_fields(sort)
        if order is None or not isinstance(spec, dict) or not self._tables:
            return None
        names, reverse = order
        best: tuple[SortedTable, int] | None = None
        for table in self._tables:
            width = table.fields.index(names[0]) if names[0] in table.fields else -1
            if width < 0 or table.fields[width : width + len(names)] != names:
                continue
            if _equal_prefix(table.fields, spec) < width:
                continue  # a field before the sort is not pinned: its range is not in sort order
            if best is not None and width <= best[1]:
                continue
            try:
                [sort_value(spec[field]) for field in table.fields[:width]]
            except Unsortable:
                continue
            if self._holds_unorderable(table):
                continue  # a document this table cannot order: the full sort answers
            best = (table, width)
        if best is None:
            return None
        table, width = best
        prefix = tuple(_plain(spec[field]) for field in table.fields[:width])
        bound = _bound(spec, names, reverse)
        try:
            edge = tuple(_plain(value) for _, value in bound) if bound else None
            for value in edge or ():
                sort_value(value)
        except Unsortable:
            edge = None
        if edge is None:
            return Plan(table, prefix, None, None, reverse)  # type: ignore[arg-type]
        if reverse:
            return Plan(table, prefix, None, edge, reverse)  # type: ignore[arg-type]
        return Plan(table, prefix, (*edge, END), None, reverse)  # type: ignore[arg-type]

    def _holds_unorderable(self, table: SortedTable) -> bool:
        """Whether a document has a value `table` cannot order (listed in `ix_off`): then no query uses it."""
        return bool(self._connection.execute(f"SELECT 1 FROM {OFF} WHERE name = ? LIMIT 1", (table.name,)).fetchone())

    def covered(self, spec: Any, fields: tuple[str, ...], skip: int, limit: int) -> list[dict[str, Any]] | None:
        """An unsorted find whose filter is equalities and whose projection are fields of one sorted table,
        answered from that table's rows without reading a document (MongoDB's covered query); else None."""
        if not isinstance(spec, dict) or not fields or any("." in f or f.startswith("$") for f in fields):
            return None
        conditions = _range_conditions(spec)
        if conditions is None:
            return None
        equal = {field for field, op, _ in conditions if op == "="}
        best: tuple[int, int, SortedTable] | None = None
        for table in self._tables:
            if not set(spec) <= set(table.fields) or not set(fields) <= set(table.fields):
                continue
            width = next((i for i, f in enumerate(table.fields) if f not in equal), len(table.fields))
            rank = (-width, len(table.fields))
            if best is not None and rank >= best[:2]:
                continue
            if self._holds_unorderable(table):
                continue  # a document this table cannot hold: read the documents
            best = (*rank, table)
        return best[2].covered(conditions, fields, skip, limit) if best is not None else None


RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _range_conditions(spec: dict[str, Any]) -> list[tuple[str, str, bytes]] | None:
    """A filter of top-level equalities and ranges as (field, SQL operator, encoded value)s; None for any other.

    A range compares within its value's type only, as MongoDB's does (`$lt: date` matches no string): each one is
    also held between its type's first byte and the next.
    """
    found: list[tuple[str, str, bytes]] = []
    try:
        for field, condition in spec.items():
            if not isinstance(field, str) or "." in field or field.startswith("$"):
                return None
            if not isinstance(condition, dict):
                found.append((field, "=", sort_value(condition)))
                continue
            if not condition or not set(condition) <= {*RANGES, "$eq"}:
                return None
            for op, value in condition.items():
                if op == "$eq":
                    found.append((field, "=", sort_value(value)))
                    continue
                if value is None:
                    return None  # a range on null also matches missing fields: left to the documents
                encoded = sort_value(value)
                found += [
                    (field, RANGES[op], encoded),
                    (field, ">=", encoded[:1]),
                    (field, "<", bytes([encoded[0] + 1])),
                ]
    except Unsortable:
        return None
    return found


def _plain(value: Any) -> Any:
    """A query value as the walk's prefix holds it (the index's own value for null)."""
    return None if value is NULL else value


def _conditions(filter: Any) -> list[tuple[str, Any]] | None:
    """(field, condition) pairs every match must meet: the top level's and those of `$and`s; None if not a dict."""
    if not isinstance(filter, dict) or not filter:
        return None
    found: list[tuple[str, Any]] = []
    for field, condition in filter.items():
        if field == "$and" and isinstance(condition, list | tuple):
            for part in condition:
                found += _conditions(part) or []
        elif isinstance(field, str) and not field.startswith("$"):
            found.append((field, condition))
    return found

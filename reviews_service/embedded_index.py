"""Sorted indexes for the embedded store: a declared compound index answers "equal on these, newest first".

litemongo's own indexes are hash sets per field: they find the documents a filter may match, but a sort still
compares every one of them, and mongomock then copies every match before the cursor's limit is applied (1.9 s for
the first page of a unit with 100,000 reviews). Here each index the Documents declare is also kept as a sorted list of
its key tuples, as MongoDB keeps a B-tree: a query whose filter has equalities on the index's first fields and whose
sort is the fields that follow (all ascending, or all descending) walks that range in order and stops after the
cursor's limit, checking each document against the whole filter on the way. A keyset bound (`$or` of "before this
time" and "this time, smaller id", or a plain `$lt`/`$gt` on the first sort field) starts the walk at the bound
instead of at the top.

Only values whose order is plain Python order inside one BSON type are indexed: strings, numbers, datetimes (as
MongoDB stores them: naive UTC, milliseconds), ObjectIds, null and missing (both as null, lowest). A field that
holds another type (an array, a sub-document, a boolean, or two types in one index) turns that index off until the
next rebuild, and queries fall back to the hash indexes: slower, never wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bson
from litemongo._vendor.mongomock import indexing
from sortedcontainers import SortedList

Key = tuple[Any, ...]


class _Bound:
    """A value below (or above) every indexed value: null and missing sort low, the end of a range high."""

    def __init__(self, low: bool) -> None:
        self._low = low

    def __lt__(self, other: object) -> bool:
        return self._low and other is not self

    def __gt__(self, other: object) -> bool:
        return not self._low and other is not self

    def __le__(self, other: object) -> bool:
        return self._low or other is self

    def __ge__(self, other: object) -> bool:
        return not self._low or other is self

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return "NULL" if self._low else "END"


NULL = _Bound(low=True)  # null and missing: MongoDB's index keeps both as null, below every other value
END = _Bound(low=False)  # the end of an equality range (never stored)


class Unindexable(Exception):
    """A value this index cannot order like MongoDB does (the index is turned off)."""


def component(value: Any) -> tuple[str, Any]:
    """The (type, comparable value) an index stores for one field's value."""
    kind = type(value)
    if kind is str:
        return "string", value
    if value is None:
        return "null", NULL
    if kind is datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if value.microsecond % 1000:  # MongoDB keeps milliseconds
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return "date", value
    if isinstance(value, bool):  # Python's True == 1 would merge what MongoDB keeps apart
        raise Unindexable("boolean")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            raise Unindexable("NaN")
        return "number", value
    if isinstance(value, bson.ObjectId):
        return "objectid", value
    raise Unindexable(type(value).__name__)


def _field_value(doc: dict[str, Any], path: str) -> Any:
    """A (possibly dotted) field's value, None when missing; a list anywhere on the way is unindexable."""
    if "." in path:
        value: Any = doc
        for part in path.split("."):
            if isinstance(value, list):
                raise Unindexable("array")
            value = value.get(part) if isinstance(value, dict) else None
    else:
        value = doc.get(path)
    if isinstance(value, list | dict):
        raise Unindexable(type(value).__name__)
    return value


BAD = object()  # a field value no index may hold (see component)


class SortedIndex:
    """One declared index as a sorted list of (field values..., store key)."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.usable = True
        self._entries: SortedList = SortedList()
        self._keys: dict[Hashable, Key] = {}

    def _key(self, store_key: Hashable, values: dict[str, Any]) -> Key | None:
        key = tuple([values[field] for field in self.fields] + [store_key])
        return None if BAD in key else key

    def add(self, store_key: Hashable, values: dict[str, Any]) -> None:
        """Index a document's values (replacing what was indexed for its key)."""
        if not self.usable:
            return
        self.remove(store_key)
        key = self._key(store_key, values)
        try:
            if key is None:
                raise Unindexable("value")
            self._entries.add(key)  # a TypeError here is raised by bisect, before anything is inserted
        except (Unindexable, TypeError):
            self._turn_off()
            return
        self._keys[store_key] = key

    def rebuild(self, values: dict[Hashable, dict[str, Any]]) -> None:
        """Index every document at once (one sort instead of an insert each)."""
        self.usable = True
        keys = {store_key: self._key(store_key, row) for store_key, row in values.items()}
        try:
            if None in keys.values():
                raise Unindexable("value")
            self._entries = SortedList(keys.values())
            self._keys = keys  # type: ignore[assignment]  # no None: checked above
        except (Unindexable, TypeError):
            self._turn_off()

    def remove(self, store_key: Hashable) -> None:
        """Forget a document."""
        key = self._keys.pop(store_key, None)
        if key is not None:
            self._entries.remove(key)

    def _turn_off(self) -> None:
        self.usable = False
        self._entries = SortedList()
        self._keys = {}

    def walk(self, prefix: Key, low: Key | None, high: Key | None, reverse: bool) -> Iterator[Hashable]:
        """Store keys whose first fields equal `prefix`, between the bounds (tuples after the prefix), in order."""
        start: Key = prefix + low if low is not None else prefix
        stop: Key = prefix + high if high is not None else (*prefix, END)
        # bounds are exclusive past their last value: (t, id) excludes (t, id, ...) and END closes a range
        for entry in self._entries.irange(start, stop, inclusive=(low is None, False), reverse=reverse):
            yield entry[-1]


@dataclass(frozen=True)
class Plan:
    """How one query walks one index."""

    index: SortedIndex
    prefix: Key
    low: Key | None
    high: Key | None
    reverse: bool


class SortedIndexes(indexing.CollectionIndexes):
    """litemongo's hash indexes, plus a sorted index for every declared one (kept in step on every add/remove)."""

    def __init__(self, declared: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.source = list(declared)  # the index specifications these were built from
        self.declared = declarations(self.source)
        self.sorted = [SortedIndex(fields) for fields in self.declared]
        self._sorted_fields = sorted({field for fields in self.declared for field in fields})
        self._types: dict[str, str] = {}  # field -> the one BSON type its values have (besides null)

    def _values(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Each indexed field's comparable value in `doc` (BAD where no index may hold it)."""
        values = {}
        for field in self._sorted_fields:
            try:
                kind, value = component(_field_value(doc, field))
            except Unindexable:
                value = BAD
            else:
                if kind != "null" and self._types.setdefault(field, kind) != kind:
                    value = BAD  # two types in one field: MongoDB orders them by type, we do not
            values[field] = value
        return values

    def fits(self, field: str, kind: str) -> bool:
        """Whether a query value of `kind` compares with what the indexes hold for `field`."""
        return kind == "null" or self._types.get(field, kind) == kind

    def add(self, store_key: Hashable, doc: dict[str, Any]) -> None:
        """Index a document in every index."""
        super().add(store_key, doc)
        if self.sorted:
            values = self._values(doc)
            for index in self.sorted:
                index.add(store_key, values)

    def remove(self, store_key: Hashable) -> None:
        """Forget a document in every index."""
        super().remove(store_key)
        for index in self.sorted:
            index.remove(store_key)

    def candidates(self, filter: Any) -> set[Hashable] | None:
        """The store keys a filter may match, from its most selective indexed field alone.

        litemongo builds the candidate set of every indexed field and intersects them: an edit reading 250 reviews
        by `_id` and `business_unit` copied the unit's 100,000 keys into a set each time. The caller tests every
        candidate against the whole filter anyway, so the smallest set is enough.
        """
        if not isinstance(filter, dict) or not filter or "$and" in filter:
            return super().candidates(filter)
        best: tuple[int, indexing.FieldIndex, set[Hashable]] | None = None
        for field, condition in filter.items():
            index = self._fields.get(field)
            keys = indexing.query_keys(condition) if index is not None else None
            if index is None or keys is None:
                continue
            # FieldIndex's own sets (litemongo 0.2.0): their sizes, without building the union
            size = len(index._unkeyed) + sum(len(index._entries.get(key, ())) for key in keys)
            if best is None or size < best[0]:
                best = (size, index, keys)
        return None if best is None else best[1].candidates(best[2])

    def rebuild(self, items: list[tuple[Hashable, dict[str, Any]]]) -> None:
        """Index every document of a collection that is read anew."""
        for store_key, doc in items:
            super().add(store_key, doc)
        if self.sorted:
            values = {store_key: self._values(doc) for store_key, doc in items}
            for index in self.sorted:
                index.rebuild(values)

    def plan(self, spec: Any, sort: Any) -> Plan | None:
        """The index walk that answers `spec` in `sort` order, or None (the caller sorts the candidates)."""
        order = _sort_fields(sort)
        if order is None or not isinstance(spec, dict):
            return None
        names, reverse = order
        best: Plan | None = None
        for index in self.sorted:
            width = index.fields.index(names[0]) if names[0] in index.fields else -1
            if not index.usable or width < 0 or index.fields[width : width + len(names)] != names:
                continue
            if _equal_prefix(index.fields, spec) < width:
                continue  # a field before the sort is not pinned: its range is not in sort order
            if best is not None and width <= len(best.prefix):
                continue
            prefix = [component(spec[field]) for field in index.fields[:width]]
            bound = _bound(spec, names, reverse)
            pinned = zip(index.fields, prefix + (bound or []), strict=False)
            if not all(self.fits(field, kind) for field, (kind, _) in pinned):
                continue  # MongoDB compares across types by type order; the hash indexes answer those
            values = tuple(value for _, value in prefix)
            edge = tuple(value for _, value in bound) if bound else None
            if edge is None:
                best = Plan(index, values, None, None, reverse)
            elif reverse:
                best = Plan(index, values, None, edge, reverse)  # walking down from just below the bound
            else:
                best = Plan(index, values, (*edge, END), None, reverse)  # walking up from just above it
        return best


def _sort_fields(sort: Any) -> tuple[tuple[str, ...], bool] | None:
    """(fields, descending) of a sort all one way, as mongomock's cursor holds it; None otherwise."""
    if isinstance(sort, dict):
        sort = list(sort.items())
    if not sort or not isinstance(sort, list | tuple):
        return None
    names, directions = [], set()
    for item in sort:
        if not isinstance(item, list | tuple) or len(item) != 2 or not isinstance(item[0], str):
            return None
        if item[0].startswith("$") or item[1] not in (1, -1):
            return None
        names.append(item[0])
        directions.add(item[1])
    if len(directions) != 1:
        return None
    return tuple(names), directions == {-1}


def declarations(indexes: Iterable[dict[str, Any]]) -> tuple[tuple[str, ...], ...]:
    """The field lists of the declared indexes a sorted walk may use (not `_id`'s, not sparse or partial ones)."""
    found = []
    for index in indexes:
        if index.get("sparse") or index.get("partialFilterExpression"):
            continue  # they leave documents out: a walk would miss them
        fields = tuple(name for name, _ in index.get("key", ()))
        if fields and fields != ("_id",) and all(isinstance(f, str) and not f.startswith("$") for f in fields):
            found.append(fields)
    return tuple(sorted(set(found)))


def hash_paths(indexes: Iterable[dict[str, Any]]) -> set[str]:
    """The fields litemongo keeps hash indexes on: those of the declared indexes, but not one declared only
    descending (`-created_at`): that is a sort key no query compares for equality, and a hash index on it held one
    set per document."""
    wanted = {"_id"}
    for index in indexes:
        for name, direction in index.get("key", ()):
            if isinstance(name, str) and not name.startswith("$") and direction != -1:
                wanted.add(name)
    return wanted


def _equal_prefix(fields: tuple[str, ...], spec: dict[str, Any]) -> int:
    """How many of the index's first fields the filter pins to one indexable value (a walk needs them all)."""
    width = 0
    for field in fields:
        if field not in spec:
            break
        try:
            component(spec[field])
        except Unindexable:
            break
        width += 1
    return width


def _bound(spec: dict[str, Any], names: tuple[str, ...], reverse: bool) -> list[tuple[str, Any]] | None:
    """The keyset bound a filter puts on the sort fields, as index components: where the walk may start."""
    before = "$lt" if reverse else "$gt"
    try:
        alternatives = spec.get("$or")
        if isinstance(alternatives, list) and len(names) >= 2 and len(alternatives) == 2:
            (head, tie), (first, second) = names[:2], alternatives
            if (
                isinstance(first, dict)
                and isinstance(second, dict)
                and list(first) == [head]
                and isinstance(first[head], dict)
                and list(first[head]) == [before]
                and set(second) == {head, tie}
                and isinstance(second[tie], dict)
                and list(second[tie]) == [before]
                and component(second[head]) == component(first[head][before])
            ):
                return [component(second[head]), component(second[tie][before])]
        condition = spec.get(names[0])
        if isinstance(condition, dict) and list(condition) == [before]:
            return [component(condition[before])]
    except Unindexable:
        pass
    return None


Fetch = Callable[[Hashable], dict[str, Any] | None]


def walk(plan: Plan, fetch: Fetch, matches: Callable[[dict[str, Any]], bool], wanted: int | None) -> list[Any]:
    """The documents of a planned walk that match the filter, at most `wanted` of them."""
    found: list[Any] = []
    if wanted == 0:
        return found
    for store_key in plan.index.walk(plan.prefix, plan.low, plan.high, plan.reverse):
        doc = fetch(store_key)
        if doc is not None and matches(doc):
            found.append(doc)
            if wanted is not None and len(found) >= wanted:
                break
    return found

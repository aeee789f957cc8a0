"""How the embedded store answers a `find`: the documents a cursor returns, and nothing it does not.

mongomock's cursor computed every match, sorted them all, copied each one and made its dates time-zone aware (two
walks over every field), and only then applied skip and limit. Here a cursor asks its collection for just its
window: along a sorted index when one fits (embedded_index), else the candidates of the hash indexes, filtered and
sorted as mongomock does; and only the returned documents are copied, dates made aware in the same pass.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from bson.tz_util import utc
from litemongo._vendor.mongomock import filtering
from litemongo._vendor.mongomock.collection import Cursor
from litemongo._vendor.mongomock.filtering import filter_applies

from reviews_service.embedded_index import walk

_Cursor: Any = Cursor
_PLAIN = (str, int, float, bool, type(None))


def fresh(value: Any, aware: bool) -> Any:
    """A copy of a stored document for the caller (dates in UTC when `aware`), in one walk over its fields."""
    kind = type(value)
    if kind is dict:
        return {key: fresh(item, aware) for key, item in value.items()}
    if kind in _PLAIN:
        return value
    if kind is list:
        return [fresh(item, aware) for item in value]
    if kind is datetime:  # stored as MongoDB stores them: naive UTC
        return value.replace(tzinfo=utc) if aware and value.tzinfo is None else value
    return copy.copy(value)


def _sorted(documents: Iterator[dict[str, Any]], sort: Any) -> Iterator[dict[str, Any]]:
    """mongomock's sort (`Collection._get_dataset`), on the documents themselves rather than on copies."""
    if not sort:
        return documents
    for key, direction in reversed(list(sort.items() if isinstance(sort, dict) else sort)):
        if key == "$natural":
            if direction < 0:
                documents = iter(reversed(list(documents)))
            continue
        if key.startswith("$"):
            raise NotImplementedError(f"Sorting by {key} is not implemented in mongomock yet")
        documents = iter(sorted(documents, key=_by(key), reverse=direction < 0))
    return documents


def _by(key: str) -> Callable[[dict[str, Any]], Any]:
    def sort_key(doc: dict[str, Any]) -> Any:
        return filtering.resolve_sort_key(key, doc)  # type: ignore[no-untyped-call]

    return sort_key


def window(collection: Any, spec: Any, sort: Any, projection: Any, skip: int, limit: int | None) -> list[Any]:
    """The documents a cursor on `collection` returns (the caller holds the store's lock)."""
    wanted = skip + abs(limit) if limit else None
    store = collection._store
    aware = bool(collection.codec_options.tz_aware)
    fields = _included(projection) if projection else None
    if fields and not sort and hasattr(store, "covered"):  # the indexes alone may answer it (embedded_sql)
        covered = store.covered(spec, fields, skip, abs(limit) if limit else 0)
        if covered is not None:
            return [{f: fresh(value, aware) for f, value in doc.items()} for doc in covered]
    plan = store.plan(spec, sort)
    if plan is None:
        found = list(itertools.islice(_sorted(collection._iter_documents(spec), sort), skip, wanted))
    else:
        found = walk(plan, store.fetch, lambda doc: bool(filter_applies(spec, doc)), wanted)[skip:]  # type: ignore[no-untyped-call]
        if not found:
            filter_applies(spec, {})  # type: ignore[no-untyped-call]  # a malformed filter fails as it does unindexed
    if not projection:  # pymongo 4: no projection, or an empty one, returns whole documents
        return [fresh(doc, aware) for doc in found]
    fields = _included(projection)
    if fields is not None:
        return [{f: fresh(doc[f], aware) for f in fields if f in doc} for doc in found]
    return [fresh(collection._copy_only_fields(doc, projection, dict), aware) for doc in found]


def _included(projection: Any) -> tuple[str, ...] | None:
    """The fields of a plain inclusion projection ({"a": 1, "b": 1}, `_id` unless `"_id": 0`); else None."""
    if not isinstance(projection, dict):
        return None
    fields = [] if projection.get("_id", 1) in (0, False) else ["_id"]
    for name, wanted in projection.items():
        if name == "_id":
            continue
        if not isinstance(name, str) or "." in name or name.startswith("$") or wanted not in (1, True):
            return None
        fields.append(name)
    return tuple(fields)


class WindowCursor(_Cursor):
    """mongomock's Cursor whose results are its collection's `window` (computed once per query and window)."""

    def _compute_results(self, with_limit_and_skip: bool = False) -> list[dict[str, Any]]:
        if not with_limit_and_skip:
            everything: list[dict[str, Any]] = super()._compute_results(False)
            return everything
        state = (self._factory, self._sort, self._skip, self._limit)
        if getattr(self, "_window_state", None) != state:
            self._window: list[dict[str, Any]] = self.collection.window(
                self._spec, self._sort, self._projection, self._skip, self._limit
            )
            self._window_state = state
        return self._window

    def clone(self) -> Any:
        """A fresh cursor on the same query (keeping this class)."""
        twin = super().clone()
        twin.__class__ = WindowCursor
        return twin


def matching(store: Any, filter: Any) -> Iterator[dict[str, Any]] | None:
    """The documents matching a filter of top-level string equalities and `$in`s, tested with sets; else None.

    mongomock tests `$in` by walking the list for every candidate, so reading 2,000 reviews by id cost
    2,000 x 2,000 comparisons (a third of an edit's time); a set answers the same in one step.
    """
    wanted = _string_conditions(filter)
    if wanted is None:
        return None
    return (doc for doc in store.find_candidates(filter) if _matches(wanted, doc, filter))


def _string_conditions(filter: Any) -> dict[str, frozenset[str]] | None:
    """{field: allowed strings} when `filter` is only top-level string equalities and `$in`s of strings."""
    if not isinstance(filter, dict) or not filter:
        return None
    wanted = {}
    for field, condition in filter.items():
        if not isinstance(field, str) or "." in field or field.startswith("$"):
            return None
        if isinstance(condition, str):
            wanted[field] = frozenset((condition,))
        elif (
            isinstance(condition, dict)
            and list(condition) == ["$in"]
            and isinstance(condition["$in"], list | tuple)
            and all(isinstance(value, str) for value in condition["$in"])
        ):
            wanted[field] = frozenset(condition["$in"])
        else:
            return None
    return wanted


def _matches(wanted: dict[str, frozenset[str]], doc: dict[str, Any], filter: Any) -> bool:
    """Whether `doc` matches; a value that is not a string (an array, a number) is left to mongomock."""
    for field, allowed in wanted.items():
        value = doc.get(field)
        if not isinstance(value, str):
            return bool(filter_applies(filter, doc))  # type: ignore[no-untyped-call]
        if value not in allowed:
            return False
    return True

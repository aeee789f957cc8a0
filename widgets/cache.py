"""The widget answer cache: a bounded LRU of rendered bytes, invalidated per business unit.

Two kinds of entry share one `OrderedDict`: the canonical entry of a rendering, keyed by its
normalised query (what was rendered), and a few aliases keyed by the raw query strings that
spell exactly that rendering (so the hot path stays one dict lookup). Junk spellings never get an
alias, each rendering gets at most `ALIASES_PER_ENTRY` of them, and a full cache drops its least
recently used entries, never everything at once.

An invalidation with a `grace` keeps the unit's answers as stale copies for that long: the fast path answers
with them while one request renders the new answer (stale-while-revalidate), so a change that drops every
widget of a unit at peak does not make every visitor of that moment wait for a render. Without a grace (a
write made by a request of this process, whose caller may read it back at once) they are dropped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Key = tuple[str, str, bytes]  # (business unit, path, query)
V = TypeVar("V")
ALIASES_PER_ENTRY = 8  # a few spellings per rendering (parameter order, defaults left out), not thousands
ALIAS_BYTES = 256  # what an alias costs: its key and the slot, not a second copy of the answer


@dataclass(slots=True)
class _Entry(Generic[V]):
    stored: float
    value: V
    size: int
    canonical: Key  # the entry's own key for a canonical entry, the rendering's key for an alias
    deps: Deps = None  # whose reviews and products it shows (None for the shop's own): a change to others keeps it


# The products (sku, or None for the shop's own reviews and summary) an answer shows; None: it may show any
Deps = frozenset[str | None] | None


class WidgetCache(Generic[V]):
    """Rendered answers by (business unit, path, query): LRU-bounded in entries and bytes, per-unit invalidation."""

    def __init__(
        self,
        maxsize: int = 20_000,
        max_bytes: int = 64 * 1024 * 1024,
        ttl: Callable[[], float | None] = lambda: None,
        size_of: Callable[[V], int] = lambda _value: 0,
    ) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._ttl = ttl
        self._size_of = size_of
        self._entries: OrderedDict[Key, _Entry[V]] = OrderedDict()
        self._aliases: dict[Key, int] = {}
        self._generations: dict[str, int] = {}
        # answers of invalidated units, by key: (monotonic deadline, value); no more entries than `_entries` held
        self._stale: dict[Key, tuple[float, V]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.evictions = 0  # entries pushed out by the bounds (the service's metrics read it at each scrape)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """The bytes of the answers held (aliases count ALIAS_BYTES each)."""
        return self._bytes

    def generation(self, business_unit: str) -> int:
        """Bumped by every invalidation: a render that started before one must not be cached."""
        return self._generations.get(business_unit, 0)

    def get(self, key: Key) -> V | None:
        """The cached value, marked as recently used; None if absent or expired (hot path: no lock)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        ttl = self._ttl()
        if ttl is not None and time.monotonic() - entry.stored > ttl:
            return None
        try:  # noqa: SIM105 - a bare try costs nothing on the hot path; contextlib.suppress does
            self._entries.move_to_end(key)
        except KeyError:  # evicted by another thread since the read: still a valid answer
            pass
        return entry.value

    def stale(self, key: Key) -> V | None:
        """The answer an invalidation with a grace left for `key`, while the grace lasts (hot path: no lock)."""
        hit = self._stale.get(key)
        if hit is None or time.monotonic() > hit[0]:
            return None
        return hit[1]

    def put(self, key: Key, value: V, generation: int, deps: Deps = None) -> None:
        """Store the canonical entry of a rendering (unless the data changed while it was rendered); `deps`: the
        products it shows (None: any), so that a change to another product of the unit keeps it."""
        with self._lock:
            if self.generation(key[0]) != generation:
                return
            self._store(key, _Entry(time.monotonic(), value, self._size_of(value), key, deps))
            self._stale.pop(key, None)

    def alias(self, key: Key, canonical: Key, value: V, generation: int, deps: Deps = None) -> None:
        """Let a raw query string find a rendering in one lookup, if that rendering has alias slots left."""
        with self._lock:
            if key == canonical or self.generation(key[0]) != generation:
                return
            old = self._entries.get(key)
            if old is not None and old.canonical == key:
                return  # a rendering of its own: an alias never shadows it
            # An alias of this rendering already (expired, or it would not be rendered again): refreshed in place,
            # else it would stay expired and every request spelled so would take the render path from then on.
            refresh = old is not None and old.canonical == canonical
            if not refresh and self._aliases.get(canonical, 0) >= ALIASES_PER_ENTRY:
                return
            self._aliases[canonical] = self._aliases.get(canonical, 0) + 1  # _store forgets the old one's count
            self._store(key, _Entry(time.monotonic(), value, ALIAS_BYTES, canonical, deps))
            self._stale.pop(key, None)

    def _store(self, key: Key, entry: _Entry[V]) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._forget(key, old)
        self._entries[key] = entry
        self._bytes += entry.size
        while self._entries and (len(self._entries) > self.maxsize or self._bytes > self.max_bytes):
            evicted_key, evicted = self._entries.popitem(last=False)
            self._forget(evicted_key, evicted)
            self.evictions += 1

    def _forget(self, key: Key, entry: _Entry[V]) -> None:
        self._bytes -= entry.size
        if entry.canonical != key:
            left = self._aliases.get(entry.canonical, 1) - 1
            if left > 0:
                self._aliases[entry.canonical] = left
            else:
                self._aliases.pop(entry.canonical, None)

    def invalidate(self, business_unit: str, grace: float = 0.0, products: frozenset[str | None] = frozenset()) -> None:
        """Drop the answers of one business unit that show any of `products` (all of them when it is empty), and
        refuse renders of the unit that began before this; with a `grace`, keep the dropped ones as stale copies
        for `grace` seconds (`stale`), or until a new answer is stored."""

        def hit(key: Key, deps: Deps) -> bool:
            return key[0] == business_unit and (not products or deps is None or not deps.isdisjoint(products))

        with self._lock:
            self._generations[business_unit] = self.generation(business_unit) + 1
            now = time.monotonic()
            live = {k: copy for k, copy in self._stale.items() if copy[0] >= now}
            if grace > 0:  # a copy from an earlier grace keeps its deadline: staleness never adds up across changes
                deadline = now + grace
                live.update((k, (deadline, e.value)) for k, e in self._entries.items() if hit(k, e.deps))
            else:
                live = {k: copy for k, copy in live.items() if k[0] != business_unit}
            self._stale = live
            self._entries = OrderedDict((k, v) for k, v in self._entries.items() if not hit(k, v.deps))
            self._aliases = dict(Counter(e.canonical for k, e in self._entries.items() if e.canonical != k))
            self._bytes = sum(entry.size for entry in self._entries.values())

    def clear(self) -> None:
        """Drop everything (a new store connection)."""
        with self._lock:
            self._entries.clear()
            self._aliases.clear()
            self._stale.clear()
            self._bytes = 0
            self._generations = {k: v + 1 for k, v in self._generations.items()}

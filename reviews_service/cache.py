"""Small in-process caches and the change feed that invalidates them.

With the embedded store this process is the only writer, so entries live until a change
invalidates them. With a shared MongoDB other processes write too, so entries also expire
after a short TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ChangeListener = Callable[[str, frozenset[str | None]], None]


class TTLCache(Generic[K, V]):
    """A dict with optional expiry whose fills cannot undo an invalidation.

    A reader takes a `ticket()` before it reads the store and hands it to `put`: if the key was
    invalidated (`pop`, `clear`) after the ticket was taken, the value read may be older than the
    write that invalidated it, so it is not cached. Without this a read racing a write could cache
    the older value, forever on the embedded store.
    """

    def __init__(self, ttl: float | None = None, maxsize: int = 100_000) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._data: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._clock = 0  # bumped by every invalidation
        self._popped: dict[K, int] = {}  # key -> clock of its latest invalidation
        self._floor = 0  # fills with a ticket older than this are refused, whatever the key

    def ticket(self) -> int:
        """Take before reading the store; `put(key, value, ticket)` then refuses a value older than a write."""
        return self._clock

    def get(self, key: K) -> V | None:
        """The cached value, or None when absent or expired."""
        hit = self._data.get(key)
        if hit is None:
            return None
        stamp, value = hit
        if self.ttl is not None and time.monotonic() - stamp > self.ttl:
            self._data.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V, ticket: int) -> V:
        """Cache `value` read under `ticket`, unless `key` was invalidated since; returns `value` either way."""
        with self._lock:
            if ticket < self._floor or self._popped.get(key, -1) > ticket:
                return value  # a write happened after this value was read: serve it once, do not keep it
            if len(self._data) >= self.maxsize:
                self._data.clear()
            self._data[key] = (time.monotonic(), value)
        return value

    def pop(self, key: K) -> None:
        """Invalidate one key: drop it, and refuse fills of it that began before now."""
        with self._lock:
            self._clock += 1
            self._data.pop(key, None)
            if len(self._popped) >= self.maxsize:  # bounded memory: forget per-key stamps, refuse all older fills
                self._popped.clear()
                self._floor = self._clock
            self._popped[key] = self._clock

    def clear(self) -> None:
        """Invalidate every key."""
        with self._lock:
            self._clock += 1
            self._floor = self._clock
            self._popped.clear()
            self._data.clear()


class ChangeFeed:
    """Tells listeners (widget caches, summaries) which business unit and products changed."""

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []
        self._resets: list[Callable[[], None]] = []

    def subscribe(self, listener: ChangeListener, on_reset: Callable[[], None] | None = None) -> None:
        """Call `listener` on every change; `on_reset` when the whole store is swapped or emptied."""
        self._listeners.append(listener)
        if on_reset is not None:
            self._resets.append(on_reset)

    def reset(self) -> None:
        for callback in list(self._resets):
            callback()

    def publish(self, business_unit: str, products: frozenset[str | None]) -> None:
        for listener in list(self._listeners):
            listener(business_unit, products)


changes = ChangeFeed()


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any listed tag equal to `etag` under weak comparison."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    strip = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == strip for tag in if_none_match.split(","))

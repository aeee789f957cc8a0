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
    """A dict with optional expiry; thread-safe enough for CPython's GIL plus one lock for writes."""

    def __init__(self, ttl: float | None = None, maxsize: int = 100_000) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._data: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        hit = self._data.get(key)
        if hit is None:
            return None
        stamp, value = hit
        if self.ttl is not None and time.monotonic() - stamp > self.ttl:
            self._data.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if len(self._data) >= self.maxsize:
                self._data.clear()
            self._data[key] = (time.monotonic(), value)
        return value

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
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

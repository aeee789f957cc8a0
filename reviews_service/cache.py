"""Small in-process caches and the change feed that invalidates them (one of each per ServiceState).

A write in this process tells the feed at once (`publish`), which also records it in the store; a
write in another process reaches the feed through this process's `ChangePoller` (poller.py), which
reads those records (`receive`). Entries also expire after a TTL: short when no poller watches the
store, long (a safety net) when one does. The HTTP validator helpers (ETags, request headers) the
widgets' fast path and the API share live here too.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from datetime import datetime
from typing import Generic, TypeVar

from starlette.types import Scope

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ChangeListener = Callable[[str, frozenset[str | None]], None]
# Writes a change into the store for the other processes; returns the unit's new (version, stamp) there.
ChangeRecorder = Callable[[str, frozenset[str | None]], "tuple[int, datetime] | None"]
OwnChange = Callable[[str, int, "datetime"], None]
# True while this thread runs a background job (scheduler.py): its writes have no caller waiting to read them back
IN_BACKGROUND: ContextVar[bool] = ContextVar("reviews_in_background", default=False)


class TTLCache(Generic[K, V]):
    """A dict with optional expiry whose fills cannot undo an invalidation.

    A reader takes a `ticket()` before it reads the store and hands it to `put`: if the key was
    invalidated (`pop`, `clear`) after the ticket was taken, the value read may be older than the
    write that invalidated it, so it is not cached. Without this a read racing a write could cache
    the older value, forever on the embedded store.
    """

    def __init__(self, ttl: Callable[[], float | None] = lambda: None, maxsize: int = 100_000) -> None:
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
        ttl = self.ttl()
        if ttl is not None and time.monotonic() - stamp > ttl:
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

    def pop_where(self, matches: Callable[[K], bool]) -> None:
        """Invalidate the keys `matches` accepts (and refuse every fill that began before now)."""
        with self._lock:
            self._clock += 1
            self._floor = self._clock
            self._popped.clear()
            self._data = {key: hit for key, hit in self._data.items() if not matches(key)}

    def clear(self) -> None:
        """Invalidate every key."""
        self.pop_where(lambda _key: True)


class ChangeFeed:
    """Tells listeners (widget caches, summaries) which business unit and products changed.

    `publish` is a write made by this process: the listeners, then the recorders (which write it into
    the store for the other processes). `receive` is a write the poller saw in the store, made by any
    process: the listeners and the `subscribe_remote` ones, never the recorders (no echo).
    """

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []
        self._remote: list[ChangeListener] = []
        self._local: list[ChangeListener] = []
        self._recorders: list[ChangeRecorder] = []
        self._resets: list[Callable[[], None]] = []
        self._watchers: list[OwnChange] = []

    def subscribe(self, listener: ChangeListener, on_reset: Callable[[], None] | None = None) -> None:
        """Call `listener` on every change; `on_reset` when the whole store is swapped or emptied."""
        self._listeners.append(listener)
        if on_reset is not None:
            self._resets.append(on_reset)

    def subscribe_remote(self, listener: ChangeListener, on_reset: Callable[[], None] | None = None) -> None:
        """Call `listener` only for changes read from the store (caches whose own writes invalidate them exactly)."""
        self._remote.append(listener)
        if on_reset is not None:
            self._resets.append(on_reset)

    def subscribe_local(self, listener: ChangeListener, on_reset: Callable[[], None] | None = None) -> None:
        """Call `listener` only for this process's own writes (`publish`); with subscribe_remote, a cache can
        treat a write whose caller may read it back at once unlike one seen in the store."""
        self._local.append(listener)
        if on_reset is not None:
            self._resets.append(on_reset)

    def record_with(self, recorder: ChangeRecorder) -> None:
        """Call `recorder` after each change this process publishes (to write it into the store)."""
        self._recorders.append(recorder)

    def reset(self) -> None:
        """Every cache forgets everything (a new store, or a poller that cannot see changes)."""
        for callback in list(self._resets):
            callback()

    def publish(self, business_unit: str, products: frozenset[str | None]) -> None:
        """A write in this process: invalidate here, then record it for the others."""
        for listener in [*self._listeners, *self._local]:
            listener(business_unit, products)
        for recorder in list(self._recorders):
            stamp = recorder(business_unit, products)
            if stamp is not None:  # pollers need not tell this process again what it just did itself
                for own in list(self._watchers):
                    own(business_unit, *stamp)

    def receive(self, business_unit: str) -> None:
        """A write seen in the store (any process, products unknown): invalidate the whole business unit here."""
        for listener in [*self._listeners, *self._remote]:
            listener(business_unit, frozenset())

    def watch(self, own: OwnChange) -> None:
        """A poller starts watching the store for this feed; `own` hears the versions this process records."""
        self._watchers.append(own)

    def unwatch(self, own: OwnChange) -> None:
        """The poller of `own` stops watching."""
        self._watchers.remove(own)

    @property
    def watched(self) -> bool:
        """True while a poller brings other processes' writes here (caches may then live long)."""
        return bool(self._watchers)


def strong_etag(body: bytes) -> str:
    """A strong validator: a hash of the exact bytes, so equal bodies share it and any change moves it."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def request_header(scope: Scope, name: bytes) -> bytes | None:
    """The raw value of request header `name` (lowercase) in an ASGI scope, or None when absent."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any listed tag equal to `etag` under weak comparison."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    strip = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == strip for tag in if_none_match.split(","))

"""What a service instance knows when its store is down: since when and why, and the last answers it served.

`StoreHealth` is fed by the change poller (a look every half second) and by every request that hit a store error;
while it says the store is down, public reads answer from `LastServed` at once instead of waiting for a store
that will not answer (a MongoDB server selection takes 5 s, an embedded store held elsewhere up to
embedded.LOCK_WAIT). `LastServed` keeps the bytes of the last answer to each public request, bounded in count and
bytes (least recently recorded dropped first); a known change to a business unit drops that unit's, so a stale
answer is one whose freshness could not be checked, never one known to be out of date (a review taken down
does not come back during an outage).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from widgets.cache import Key, WidgetCache

V = TypeVar("V")
HOLD = 15.0  # seconds a failure counts as "down" with no success since: more than one failing look lasts
STALE = "store-unavailable"  # the X-Reviews-Stale value: why the answer is not fresh
STALE_CACHE = "public, max-age=10"  # caches in front keep a stale answer briefly, then ask again


@dataclass(frozen=True, slots=True)
class Outage:
    """The store is down: why (a short, safe reason) and for how long already."""

    reason: str
    seconds: float


class StoreHealth:
    """Whether this instance's last contact with the store failed, and why (thread-safe)."""

    def __init__(self, hold: float = HOLD) -> None:
        self.hold = hold
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._since = 0.0  # monotonic: the first failure of this outage
        self._last = 0.0  # monotonic: the latest failure

    def failed(self, reason: str) -> None:
        """A store operation failed with `reason`."""
        now = time.monotonic()
        with self._lock:
            if self._reason is None:
                self._since = now
            self._reason, self._last = reason, now

    def ok(self) -> None:
        """A store operation succeeded: the outage, if any, is over."""
        with self._lock:
            self._reason = None

    def down(self) -> Outage | None:
        """The current outage, or None: a failure with no success since, within the last `hold` seconds."""
        if self._reason is None:  # the widgets' hot path asks at every hit: no lock while all is well
            return None
        with self._lock:
            reason, since, last = self._reason, self._since, self._last
        now = time.monotonic()
        if reason is None or now - last > self.hold:
            return None  # without news for that long (no poller watching): let the next request try the store
        return Outage(reason, now - since)


@dataclass(frozen=True, slots=True)
class Served(Generic[V]):
    """One answer as it was served, and when (monotonic), for the Age of a stale copy."""

    value: V
    at: float

    def age(self) -> int:
        """Whole seconds since it was served fresh."""
        return int(time.monotonic() - self.at)


class LastServed(Generic[V]):
    """The last fresh answer per (business unit, path, canonical query), bounded; what a request gets while the
    store is down."""

    def __init__(self, maxsize: int, max_bytes: int, size_of: Callable[[V], int]) -> None:
        self._cache: WidgetCache[Served[V]] = WidgetCache(maxsize, max_bytes, size_of=lambda hit: size_of(hit.value))

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def bytes(self) -> int:
        """The bytes held."""
        return self._cache.bytes

    def generation(self, business_unit: str) -> int:
        """Take before reading the store: `record` refuses an answer read before a change to the unit."""
        return self._cache.generation(business_unit)

    def record(self, key: Key, value: V, generation: int, spelled: Key | None = None) -> None:
        """Keep `value` as the last answer to `key`, unless the unit changed since `generation` was taken.

        `key` is what the answer is of (a widget's canonical query, a route's own parameters), never a raw query
        string: cache busters (`?utm_source=...`) would each take a slot and push the real answers out. `spelled`:
        a raw spelling of exactly that answer, which then finds it too (a few per answer, as the widget cache's).
        """
        served = Served(value, time.monotonic())
        self._cache.put(key, served, generation)
        if spelled is not None:
            self._cache.alias(spelled, key, served, generation)

    def get(self, key: Key) -> Served[V] | None:
        """The last answer to `key`, if still held."""
        return self._cache.get(key)

    def forget(self, business_unit: str) -> None:
        """A known change to the unit: its answers are out of date, not merely unchecked."""
        self._cache.invalidate(business_unit)

    def clear(self) -> None:
        """Another store (a new connection): nothing served before may be served again."""
        self._cache.clear()


def stale_headers(age: int) -> list[tuple[str, str]]:
    """The headers that mark an answer as the last one served before the store went down."""
    return [
        ("X-Reviews-Stale", STALE),
        ("Age", str(age)),
        ("Warning", '111 - "Revalidation Failed"'),  # RFC 7234's code for this case (RFC 9111 dropped Warning)
        ("Cache-Control", STALE_CACHE),
    ]

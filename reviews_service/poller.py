"""Brings other processes' writes to this process's caches: one thread polling the store's `changes`.

Every write published in any process bumps its business unit's document in the `changes` collection
(`versions.record`: `$inc` of a version, `$currentDate` of a stamp, atomic on MongoDB and on
the embedded store), then a counter of all changes. Each process runs one `ChangePoller`, which
reads that counter every `interval` (one read by `_id`) and, when it moved, the documents stamped
since its last look (a range query on the indexed `at`), and tells the local change feed about every
business unit whose version moved. A MongoDB change stream would push instead of poll,
but it exists only on a replica set, not on a standalone server nor on the embedded store: polling
is the one code path that runs on all three.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from reviews_service import store, versions
from reviews_service.cache import ChangeFeed
from reviews_service.outage import StoreHealth

log = logging.getLogger("reviews.poller")
INTERVAL = 0.5  # seconds between two looks: a write elsewhere reaches this process's caches within about this
# Re-read the documents stamped this long before the newest one seen: a bump stamped earlier than one
# already read may commit after it (two writers at once), and it must not be missed.
SLACK = timedelta(seconds=5)
Reader = Callable[[datetime | None], list[tuple[str, int, datetime]]]


class ChangePoller:
    """A daemon thread that polls the store's change versions and tells `feed` which business units moved."""

    def __init__(
        self,
        feed: ChangeFeed,
        *,
        interval: float = INTERVAL,
        read: Reader = versions.since,
        total: Callable[[], int] | None = versions.total,
        health: StoreHealth | None = None,
    ):
        self.feed = feed
        self.health = health  # told of every look's outcome: /ready and the stale fallbacks read it
        self.interval = interval
        self._read = read
        self._total = total  # None: read the versions at every look
        self._last_total: int | None = None  # the total when the versions were last read
        self._seen: dict[str, tuple[int, datetime]] = {}
        self._since: datetime | None = None  # None: the next look reads every document
        self._known = False  # True once a look has read the versions
        self._failing = False
        self._lock = threading.Lock()  # `_seen` is moved by the thread's looks and by this process's own writes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> list[str]:
        """Look once; returns (and tells the feed) the business units changed since the last look.

        The first look learns the versions without telling anyone, except that caches filled before it
        are reset. A look that fails resets every cache (changes may be missed while blind) and the next
        one reads everything again, so a change made meanwhile is still seen.
        """
        try:
            total = None if self._total is None else self._total()
            if total is not None and total == self._last_total:
                return []  # nothing recorded anywhere since the last read: the common, cheap look
            rows = self._read(None if self._since is None else self._since - SLACK)
        except Exception as exc:  # any store error: never let the thread die, never trust the caches
            if not self._failing:
                log.warning("cannot read the store's changes (%s); caches are reset until it can", exc)
            if self.health is not None:
                self.health.failed(store.why_unavailable(exc))
            self._failing = True
            self._since = self._last_total = None
            self.feed.reset()
            return []
        if self.health is not None:
            self.health.ok()
        if self._failing:
            log.warning("reading the store's changes again")
            self._failing = False
        self._last_total = total
        with self._lock:
            moved = sorted(bu for bu, version, at in rows if self._seen.get(bu) != (version, at))
            for bu, version, at in rows:
                self._seen[bu] = (version, at)
        stamps = [at for _, _, at in rows] + ([self._since] if self._since is not None else [])
        self._since = max(stamps, default=None)
        if not self._known:
            self._known = True
            self.feed.reset()  # whatever was cached before the first look may already be stale
            return []
        for bu in moved:
            self.feed.receive(bu)
        return moved

    def own(self, business_unit: str, version: int, at: datetime) -> None:
        """This process recorded `version` of the unit (and has invalidated its caches): do not tell it again.

        Only when it directly follows the version last seen: then no other process wrote in between, whose
        change would otherwise be skipped with ours.
        """
        with self._lock:
            if self._known and self._seen.get(business_unit, (0, at))[0] == version - 1:
                self._seen[business_unit] = (version, at)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def start(self) -> None:
        """Read the current versions, then poll in a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.poll()
        self._thread = threading.Thread(target=self._run, name="reviews-change-poller", daemon=True)
        self._thread.start()
        self.feed.watch(self.own)

    def stop(self) -> None:
        """Stop polling (waits for a look in progress) and let caches fall back to their short TTL."""
        if self._thread is None:
            return
        self.feed.unwatch(self.own)
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None

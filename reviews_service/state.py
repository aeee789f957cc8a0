"""What one service instance keeps between requests: its caches, its change feed and its ingest locks.

`create_app()` makes one (`app.state.service_state`), and so does each CLI command and bench script.
None of it is a module global, so two instances in one process (two replicas side by side, two apps in
a test) each have their own: a write through one reaches the other the way it reaches another process,
through the store's change versions and the other's poller (or its TTL). The store itself is shared
(mongoengine's connection is per process), as replicas share their database.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from collectors.http import AccessTokens, RateLimiters
from reviews_service import domain, repository
from reviews_service.cache import IN_BACKGROUND, ChangeFeed, TTLCache
from reviews_service.metrics import Metrics
from reviews_service.outage import LastServed, StoreHealth
from widgets.cache import WidgetCache
from widgets.service import Rendered, size_of

if TYPE_CHECKING:
    from reviews_service.api.stale import Answer
    from reviews_service.repository import ReviewPage
    from reviews_service.review_policy import ReviewCounts
    from sentiment.taxonomy import Taxonomy

# Other processes write too (serve, scheduler and CLI share the embedded store; replicas share MongoDB). A write
# reaches their caches through the change poller within a second; the TTL is the safety net behind it.
CHANGE_TTL = 5.0  # with no poller running (e.g. a CLI command): other processes' writes show after this long
SAFETY_TTL = 60.0  # with a poller: only a change it could not see (it resets every cache when the store fails)
# Seconds a widget answer may still be served after a change made elsewhere (another process, a background job),
# while its new answer renders: with the poller's 0.5 s, within the README's 2 s for every process.
WIDGET_GRACE = 1.0
FirstPageKey = tuple[str, str | None, int | None, str | None, int]  # unit, product, rating, language, limit


class ServiceState:
    """The caches, change feed and ingest locks of one service instance (an app, a CLI command, a bench)."""

    def __init__(self) -> None:
        self.changes = ChangeFeed()  # this instance's writes, and (through its poller) everyone else's
        self.business_units: TTLCache[str, domain.BusinessUnit] = TTLCache(self.cache_ttl)
        self.products: TTLCache[str, domain.Product] = TTLCache(self.cache_ttl)  # by product id "bu/sku"
        self.summaries: TTLCache[str, domain.RatingSummary] = TTLCache(self.cache_ttl)
        # The first page of each public list: what shop pages and widgets read most; on the embedded store its
        # newest-first sort is a scan of the unit's reviews. Any write to the unit drops it. Bounded in count and
        # in what it keys on (see repository.list_published), so that junk filter values cannot fill memory.
        self.first_pages: TTLCache[FirstPageKey, ReviewPage] = TTLCache(self.cache_ttl, maxsize=1_000)
        self.widgets: WidgetCache[Rendered] = WidgetCache(ttl=self.cache_ttl, size_of=size_of)
        # Each unit's review-policy counts (a pass over its reviews): dropped with its lists by any write to it.
        self.review_counts: TTLCache[str, ReviewCounts] = TTLCache(self.cache_ttl, maxsize=1_000)
        self.static_widgets: dict[str, Rendered] = {}  # loader.js and widgets.css, read from the package once
        # While the store is down (outage.py): why, and the last answers served, which widgets, summaries and JSON-LD
        # fall back to. The widgets' share their bytes with `widgets` (the same objects); both are bounded.
        self.store_health = StoreHealth()
        self.last_widgets: LastServed[Rendered] = LastServed(4_000, 32 * 1024 * 1024, size_of)
        self.last_answers: LastServed[Answer] = LastServed(2_000, 8 * 1024 * 1024, lambda answer: answer.size)
        # One lock per business unit: an ingest, a moderation and a rebuild of one unit never interleave here.
        self.ingest_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        # Units whose summaries a write left half-moved (a store error after its reviews were written): the next
        # write of the unit that gets through rebuilds them first (ingest.py), else the nightly check_summaries.
        self.summaries_to_repair: set[str] = set()
        # Platforms' call budgets per (source, credential), shared by every unit and run of this instance.
        self.rate_limits = RateLimiters()
        self.access_tokens = AccessTokens()  # OAuth tokens of private APIs, reused until they expire
        # Units' complaint taxonomies with their compiled matchers (~50 ms a language), keyed by the override's JSON:
        # content-addressed, so an edit is a new key and nothing needs invalidating.
        self.taxonomies: TTLCache[str, Taxonomy] = TTLCache(maxsize=64)
        # Counters of the API and of the jobs run with this state (`reviews serve` runs both): GET /metrics.
        self.metrics = Metrics()
        widgets = self.widgets
        self.metrics.watch("reviews_widget_cache_entries", "Widget answers cached.", lambda: len(widgets))
        self.metrics.watch("reviews_widget_cache_bytes", "Bytes of the widget answers cached.", lambda: widgets.bytes)
        self.metrics.watch(
            "reviews_widget_cache_evictions", "Widget answers pushed out by the cache's bounds.",
            lambda: widgets.evictions, kind="counter",
        )  # fmt: skip
        self.changes.record_with(repository.mark_changed)
        self.changes.subscribe_remote(self._forget_unit, on_reset=self._forget_all)
        self.changes.subscribe(self._forget_lists)
        # Widgets: a write by a request here drops the unit's answers (its caller may read them back at once); one
        # by a background job here or by another process (seen by the poller) leaves them as stale copies for
        # WIDGET_GRACE, served while one request renders the new answers, so no visitor waits for that render.
        self.changes.subscribe_local(self._widgets_changed, on_reset=self.widgets.clear)
        self.changes.subscribe_remote(lambda unit, _p: self.widgets.invalidate(unit, WIDGET_GRACE))
        # a known change makes the unit's last answers wrong; a reset (a poller that cannot read) only unchecked
        self.changes.subscribe(self._forget_served)

    def _widgets_changed(self, business_unit: str, products: frozenset[str | None]) -> None:
        """This process wrote: the answers showing those products (all of the unit's when unknown) go."""
        self.widgets.invalidate(business_unit, WIDGET_GRACE if IN_BACKGROUND.get() else 0.0, products)

    def cache_ttl(self) -> float | None:
        """How long cached reads (and the widgets' cached answers) may live, one rule for every store."""
        return SAFETY_TTL if self.changes.watched else CHANGE_TTL

    def reset(self) -> None:
        """Forget everything cached (a new connection, or a store emptied behind the caches' back)."""
        self.changes.reset()
        self._forget_all()
        self.last_widgets.clear()
        self.last_answers.clear()

    def _caches(self) -> tuple[TTLCache[Any, Any], ...]:
        return (self.business_units, self.products, self.summaries, self.first_pages, self.review_counts)

    def _forget_unit(self, business_unit: str, _products: frozenset[str | None]) -> None:
        """Another process changed the unit (what exactly is unknown): drop everything cached of it."""
        self.business_units.pop(business_unit)
        own = f"{business_unit}/"
        self.products.pop_where(lambda key: key.startswith(own))
        self.summaries.pop_where(lambda key: key == business_unit or key.startswith(own))

    def _forget_all(self) -> None:
        for cache in self._caches():
            cache.clear()

    def _forget_served(self, business_unit: str, _products: frozenset[str | None]) -> None:
        self.last_widgets.forget(business_unit)
        self.last_answers.forget(business_unit)

    def _forget_lists(self, business_unit: str, _products: frozenset[str | None]) -> None:
        """Any write to a unit (here or, through the poller, elsewhere) may change every one of its lists."""
        self.first_pages.pop_where(lambda key: key[0] == business_unit)
        self.review_counts.pop(business_unit)

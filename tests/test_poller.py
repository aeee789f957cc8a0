"""The change poller: writes recorded in the store by another process reach this process's caches."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from reviews_service import documents as docs
from reviews_service import domain, repository, store, versions
from reviews_service import state as state_module
from reviews_service.cache import ChangeFeed
from reviews_service.poller import SLACK, ChangePoller
from reviews_service.state import ServiceState


def _feed() -> tuple[ChangeFeed, list[str], list[str]]:
    """A feed of its own, with what its listeners heard: changed units, and resets."""
    feed, heard, resets = ChangeFeed(), [], []
    feed.subscribe(lambda bu, _products: heard.append(bu), on_reset=lambda: resets.append("reset"))
    return feed, heard, resets


def test_another_process_write_drops_the_cached_summary(shop: domain.BusinessUnit, state: ServiceState) -> None:
    poller = ChangePoller(state.changes)
    poller.poll()  # learns the versions
    assert repository.get_summary(state, shop.slug).count == 0  # cached from here on (the in-memory store: no TTL)
    # What another process's ingest does: write the summary, then record the change (no local publish).
    docs.SummaryDoc._get_collection().update_one(
        {"_id": shop.slug}, {"$inc": {"h4": 2}, "$setOnInsert": {"business_unit": shop.slug}}, upsert=True
    )
    versions.record(shop.slug)
    assert repository.get_summary(state, shop.slug).count == 0  # still the cached figure
    assert poller.poll() == [shop.slug]
    assert repository.get_summary(state, shop.slug).count == 2
    assert poller.poll() == []  # nothing new: nobody is told twice


def test_only_the_units_whose_version_moved_are_told(connected: store.StoreInfo) -> None:
    feed, heard, resets = _feed()
    for unit in ("a-shop", "b-shop", "c-shop"):
        versions.record(unit)
    poller = ChangePoller(feed)
    assert poller.poll() == [] and resets == ["reset"]  # the first look resets what was cached before it
    versions.record("b-shop")
    versions.record("c-shop")
    versions.record("c-shop")
    assert poller.poll() == ["b-shop", "c-shop"]
    assert heard == ["b-shop", "c-shop"]


def test_a_store_that_cannot_be_read_resets_the_caches_and_loses_no_change(connected: store.StoreInfo) -> None:
    feed, heard, resets = _feed()
    broken = False
    asked: list[datetime | None] = []

    def read(since: datetime | None) -> list[tuple[str, int, datetime]]:
        asked.append(since)
        if broken:
            raise ConnectionError("store down")
        return versions.since(since)

    versions.record("a-shop")
    poller = ChangePoller(feed, read=read)
    poller.poll()
    broken = True
    versions.record("a-shop")  # written while this process cannot see the store
    assert poller.poll() == [] and poller.poll() == []
    assert resets == ["reset", "reset", "reset"]  # every blind look: nothing cached is trusted
    broken = False
    assert poller.poll() == ["a-shop"]
    assert asked[-1] is None  # after an outage it reads every unit again, not only the recent ones
    assert heard == ["a-shop"]


def test_an_idle_look_reads_one_counter_not_the_versions(connected: store.StoreInfo) -> None:
    feed, heard, _ = _feed()
    reads: list[datetime | None] = []

    def read(since: datetime | None) -> list[tuple[str, int, datetime]]:
        reads.append(since)
        return versions.since(since)

    versions.record("a-shop")
    poller = ChangePoller(feed, read=read)
    poller.poll()
    assert poller.poll() == [] and poller.poll() == [] and len(reads) == 1
    versions.record("b-shop")
    assert poller.poll() == ["b-shop"] and len(reads) == 2
    assert heard == ["b-shop"]


def test_a_change_stamped_before_the_newest_seen_is_still_seen() -> None:
    """Two writers: one stamps at t-1 s but commits after another's t was read. The slack window catches it."""
    feed, heard, _ = _feed()
    t = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    rows = [("a-shop", 1, t - timedelta(seconds=10)), ("b-shop", 1, t)]
    asked: list[datetime | None] = []

    def read(since: datetime | None) -> list[tuple[str, int, datetime]]:
        asked.append(since)
        return [row for row in rows if since is None or row[2] >= since]

    poller = ChangePoller(feed, read=read, total=None)
    poller.poll()
    rows.append(("c-shop", 1, t - timedelta(seconds=1)))  # committed late, stamped early
    assert poller.poll() == ["c-shop"]
    assert asked[-1] == t - SLACK
    assert heard == ["c-shop"]


def test_the_thread_brings_a_change_within_its_interval(connected: store.StoreInfo) -> None:
    feed, heard, _ = _feed()
    poller = ChangePoller(feed, interval=0.05)
    poller.start()
    try:
        assert feed.watched
        versions.record("a-shop")
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard == ["a-shop"]
    finally:
        poller.stop()
    assert not feed.watched


def test_caches_live_long_only_while_a_poller_watches(
    connected: store.StoreInfo, monkeypatch: pytest.MonkeyPatch, state: ServiceState
) -> None:
    assert state.cache_ttl() == state_module.CHANGE_TTL
    poller = ChangePoller(state.changes, interval=0.05)
    poller.start()
    try:
        assert state.cache_ttl() == state_module.SAFETY_TTL
        assert ServiceState().cache_ttl() == state_module.CHANGE_TTL  # another instance, watched by no poller
    finally:
        poller.stop()
    assert state.cache_ttl() == state_module.CHANGE_TTL


def test_this_process_own_writes_are_not_told_again_but_others_in_between_are(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    changes = state.changes
    poller = ChangePoller(changes, interval=60)  # its thread sleeps: the test looks itself
    poller.start()
    try:
        changes.publish(shop.slug, frozenset())  # a write here: invalidated here already
        assert poller.poll() == []
        versions.record(shop.slug)  # another process's write
        assert poller.poll() == [shop.slug]
        versions.record(shop.slug)  # another process writes, then this one, before the next look
        changes.publish(shop.slug, frozenset())
        assert poller.poll() == [shop.slug]
    finally:
        poller.stop()

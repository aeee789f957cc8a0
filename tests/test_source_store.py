"""Collectors' state and the scheduler's leases: a checkpoint survives, an outcome is recorded, and of two owners
only one holds a lease until it expires or is released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import Run, collect_now
from reviews_service import domain, source_store
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError
from reviews_service.state import ServiceState
from tests.conftest import review

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_lease_has_one_holder_until_it_expires(connected: object) -> None:
    """Two schedulers asking for one job: the first holds it, the second waits for the expiry, then takes over."""
    assert source_store.take_lease("job", "a", now=T0, seconds=60)
    assert not source_store.take_lease("job", "b", now=T0 + timedelta(seconds=30), seconds=60)
    assert source_store.take_lease("job", "a", now=T0 + timedelta(seconds=30), seconds=60)  # its holder renews
    assert not source_store.take_lease("job", "b", now=T0 + timedelta(seconds=89), seconds=60)
    assert source_store.take_lease("job", "b", now=T0 + timedelta(seconds=91), seconds=60)  # a's process died
    source_store.release_lease("job", "a")  # not a's any more: nothing happens
    assert not source_store.take_lease("job", "a", now=T0 + timedelta(seconds=92), seconds=60)
    source_store.release_lease("job", "b")
    assert source_store.take_lease("job", "a", now=T0 + timedelta(seconds=93), seconds=60)


class _Pages:
    """A collector over two fixed pages that fails when told to, for collect_now's bookkeeping."""

    name = "pages"

    def __init__(self, fail_after_first: bool) -> None:
        self.fail_after_first = fail_after_first

    def check_config(self, unit: domain.BusinessUnit, config: object, settings: Settings) -> None:
        if not isinstance(config, dict) or "key" not in config:
            raise SourceConfigError("the pages source needs a `key`")

    def collect(self, run: Run) -> None:
        start = int(run.checkpoint().get("page", 0))
        for page in range(start, 2):
            run.report.calls += 1
            if page == 1 and self.fail_after_first:
                raise SourceError("the pages platform answered 503 three times")
            run.ingest([review(f"p{page}-{i}", rating=4) for i in range(3)])
            run.save_checkpoint({"page": page + 1})


def test_collect_now_records_outcome_and_resumes_from_the_checkpoint(
    shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    """A failed run keeps the pages it stored and says why; the next run resumes after them, counting nothing twice."""
    from reviews_service import repository

    repository.update_business_unit(state, shop.slug, {"sources": {"pages": {"key": "k"}}})
    failing = {"pages": lambda: _Pages(fail_after_first=True)}
    with pytest.raises(SourceError, match="503"):
        collect_now(state, settings, failing, shop.slug, "pages", now=lambda: T0)  # type: ignore[arg-type]
    failed = source_store.get_source_state(shop.slug, "pages")
    assert (failed.last_outcome, failed.failures, failed.checkpoint) == ("failed", 1, {"page": 1})
    assert "503" in (failed.last_error or "")
    working = {"pages": lambda: _Pages(fail_after_first=False)}
    report = collect_now(state, settings, working, shop.slug, "pages", now=lambda: T0)  # type: ignore[arg-type]
    assert (report.calls, report.inserted, report.unchanged) == (1, 3, 0)
    done = source_store.get_source_state(shop.slug, "pages")
    assert (done.last_outcome, done.failures, done.last_error) == ("ok", 0, None)
    assert repository.get_summary(state, shop.slug).count == 6


def test_an_unknown_or_unconfigured_source_is_refused_with_the_known_ones(
    shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    """Bad configuration gets a clear answer at once."""
    registry = {"pages": lambda: _Pages(False)}
    with pytest.raises(SourceConfigError, match="unknown source 'trustpilt'; known sources: pages"):
        collect_now(state, settings, registry, shop.slug, "trustpilt")  # type: ignore[arg-type]
    with pytest.raises(SourceConfigError, match="no 'pages' source configured"):
        collect_now(state, settings, registry, shop.slug, "pages")  # type: ignore[arg-type]

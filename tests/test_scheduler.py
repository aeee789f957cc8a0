"""The scheduler's rules in one process: periods and backoff, leases held through a long job, one run a day of
a daily job among several schedulers, and the sources' timers following the units' settings."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from reviews_service import domain, jobs, repository, source_store
from reviews_service.collection import due, every_minutes, next_run_at, run_if_due, run_source
from reviews_service.config import Settings
from reviews_service.errors import Busy, SourceError
from reviews_service.leases import holding
from reviews_service.state import ServiceState
from tests.counting_collector import REGISTRY

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_periods_default_per_source_and_failures_back_off_exponentially_up_to_six_hours() -> None:
    assert (every_minutes("trustpilot", {}), every_minutes("kiyoh", {})) == (15, 60)
    assert every_minutes("kiyoh", {"every_minutes": 5}) == 5
    every = 15 * MIN
    assert [next_run_at(T0, every, n) - T0 for n in (0, 1, 2, 3)] == [15 * MIN, 30 * MIN, 60 * MIN, 120 * MIN]
    assert next_run_at(T0, every, 12) - T0 == timedelta(hours=6)
    assert next_run_at(T0, timedelta(days=7), 3) - T0 == timedelta(days=7)  # never sooner than its own period


@pytest.fixture
def counting(shop: domain.BusinessUnit, state: ServiceState, tmp_path: Path) -> Path:
    log = tmp_path / "runs.log"
    repository.update_business_unit(state, shop.slug, {"sources": {"counting": {"log": str(log), "every_minutes": 10}}})
    return log


def _fail(state: ServiceState, log: Path, how: str) -> None:
    repository.update_business_unit(state, "test-shop", {"sources": {"counting": {"log": str(log), "fail": how}}})


def test_each_run_plans_the_next_and_failures_of_any_kind_back_off(
    state: ServiceState, settings: Settings, counting: Path
) -> None:
    run = lambda at: run_source(state, settings, REGISTRY, "test-shop", "counting", owner="t", now=lambda: at)  # noqa: E731
    run(T0)
    assert source_store.get_source_state("test-shop", "counting").next_run_at == T0 + 10 * MIN
    assert not due("test-shop", "counting", T0 + 9 * MIN) and due("test-shop", "counting", T0 + 10 * MIN)
    # a timer may look up to a tenth of the period early (a moment's lateness of the last run costs no period)
    assert due("test-shop", "counting", T0 + 9 * MIN, 10 * MIN)
    assert not due("test-shop", "counting", T0 + 8 * MIN, 10 * MIN)
    _fail(state, counting, "source")  # the period is back to the default 60 minutes
    with pytest.raises(SourceError):
        run(T0 + 10 * MIN)
    failed = source_store.get_source_state("test-shop", "counting")
    assert (failed.failures, failed.next_run_at) == (1, T0 + 10 * MIN + 120 * MIN)
    _fail(state, counting, "bug")  # not a SourceError: a bug, recorded all the same, and the next try backs off more
    with pytest.raises(ZeroDivisionError):
        run(T0 + 130 * MIN)
    bug = source_store.get_source_state("test-shop", "counting")
    assert (bug.last_outcome, bug.failures, bug.next_run_at) == ("failed", 2, T0 + 130 * MIN + 240 * MIN)
    assert (bug.last_error or "").startswith("internal error (ZeroDivisionError: a bug in the collector)")
    repository.update_business_unit(state, "test-shop", {"sources": {"counting": {"log": str(counting)}}})
    run(T0 + 400 * MIN)
    healed = source_store.get_source_state("test-shop", "counting")
    assert (healed.last_outcome, healed.failures, healed.last_error) == ("ok", 0, None)
    assert healed.next_run_at == T0 + 460 * MIN


def test_a_run_holds_its_lease_and_renews_it_while_it_lasts(connected: object) -> None:
    """A job longer than its lease keeps it (renewed every third); another runner gets Busy, then the lease after."""
    entered, done = threading.Event(), threading.Event()

    def long_job() -> None:
        with holding("collect/x/y", "a", seconds=0.6, what="Collecting y for x"):
            entered.set()
            done.wait(10)

    worker = threading.Thread(target=long_job)
    worker.start()
    try:
        assert entered.wait(10)
        for _ in range(3):  # 1.5 s: more than twice the lease's length
            time.sleep(0.5)
            busy = r"Collecting y for x is running right now \(by a, whose lease"
            with pytest.raises(Busy, match=busy), holding("collect/x/y", "b", seconds=0.6, what="Collecting y for x"):
                pass
    finally:
        done.set()
        worker.join(10)
    with holding("collect/x/y", "b", seconds=0.6):  # released at the end
        pass


def test_a_daily_job_runs_once_among_several_schedulers(
    state: ServiceState, settings: Settings, connected: object
) -> None:
    """`reviews serve` and `reviews scheduler` on one store both fire the nightly rebuild at 03:30: one runs it."""
    runs: list[str] = []
    first, second = (jobs.build_scheduler(settings, state, REGISTRY, owner=o) for o in ("serve", "scheduler"))
    try:
        for scheduler in (first, second, second):
            jobs.once_per_day(scheduler, "nightly/check-summaries", lambda s=scheduler: runs.append(s.owner))
        assert runs == ["serve"]
        holder = source_store.lease_holder("nightly/check-summaries", now=datetime.now(UTC))
        assert holder is not None and holder[0] == "serve"
        assert holder[1] > datetime.now(UTC) + timedelta(minutes=50)  # kept an hour after the job, then it is free
    finally:
        first.close()
        second.close()


def test_the_sources_timers_follow_the_units(state: ServiceState, settings: Settings, counting: Path) -> None:
    """Added, changed and removed sources are picked up when the units are read again."""
    scheduler = jobs.build_scheduler(settings, state, REGISTRY)
    try:
        intervals = lambda: {tuple(sorted(j.tags)): j.interval for j in scheduler.schedule.get_jobs("collect")}  # noqa: E731
        assert intervals() == {("collect", "test-shop/counting"): 600}
        repository.save_business_unit(
            state, domain.BusinessUnit(slug="second", name="Second", sources={"counting": {"log": str(counting)}})
        )
        repository.update_business_unit(
            state, "test-shop", {"sources": {"counting": {"log": str(counting), "every_minutes": 2}}}
        )
        scheduler.refresh()
        assert intervals() == {("collect", "test-shop/counting"): 120, ("collect", "second/counting"): 3600}
        repository.update_business_unit(state, "test-shop", {"sources": {"unknown-one": {}}})
        scheduler.refresh()
        assert intervals() == {("collect", "second/counting"): 3600}
        names = set().union(*(j.tags for j in scheduler.schedule.get_jobs()))
        assert {"check-summaries", "daily-digest", "refresh-sources"} <= names
    finally:
        scheduler.close()


def test_the_scheduler_runs_a_source_only_when_it_is_due(
    state: ServiceState, settings: Settings, counting: Path
) -> None:
    """A look before the planned time runs nothing; the first look, and one after the planned time, run it."""
    first = run_if_due(state, settings, REGISTRY, "test-shop", "counting", owner="s")
    assert first is not None and first.inserted == 1
    assert run_if_due(state, settings, REGISTRY, "test-shop", "counting", owner="s") is None  # 10 minutes to go
    assert [line.split()[0] for line in counting.read_text().splitlines()] == ["start", "end"]
    source_store.schedule_next("test-shop", "counting", datetime.now(UTC) - MIN)
    assert run_if_due(state, settings, REGISTRY, "test-shop", "counting", owner="s") is not None


def test_a_dead_holder_on_this_machine_loses_its_lease_at_once_others_at_expiry(connected: object) -> None:
    """A holder whose process is gone is known dead at once; one alive, or on another machine, holds until expiry."""
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    here = socket.gethostname()
    now = datetime.now(UTC)
    holders = {
        "dead": f"cli:{here}:{int(gone.stdout)}:0000",
        "alive": f"scheduler:{here}:{os.getppid()}:0000",
        "elsewhere": f"scheduler:other-host:{int(gone.stdout)}:0000",
    }
    for name, holder in holders.items():
        assert source_store.take_lease(f"collect/{name}/x", holder, now=now, seconds=60)
    with holding("collect/dead/x", "me:x:1:y", seconds=60):
        assert source_store.lease_holder("collect/dead/x", now=now) == ("me:x:1:y", mock.ANY)
    for name in ("alive", "elsewhere"):
        with pytest.raises(Busy), holding(f"collect/{name}/x", "me:x:1:y", seconds=60):
            pass


def test_a_digest_time_that_is_not_a_time_of_day_is_refused_by_name(state: ServiceState, connected: object) -> None:
    from reviews_service.config import SettingsInvalid
    from tests.conftest import make_settings

    with pytest.raises(SettingsInvalid, match=r"DIGEST_TIME must be a time of day as HH:MM .* got '8am'"):
        jobs.build_scheduler(make_settings(DIGEST_TIME="8am"), state, REGISTRY)


def test_a_batchs_clock_starts_at_the_given_time_and_moves_with_real_time() -> None:
    """Alerts and digests claim one item after another: each claim counts from its own moment, so a slow
    delivery early in a batch cannot leave the later claims already expired when they are taken."""
    from reviews_service.leases import ticking

    start = datetime(2026, 11, 19, 8, tzinfo=UTC)
    clock = ticking(start)
    first = clock()
    time.sleep(0.05)
    later = clock()
    assert start <= first < start + timedelta(seconds=0.05) <= later < start + timedelta(seconds=5)

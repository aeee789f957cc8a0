"""One collection under its source's lease, and when the next one is due (its period, or a backoff).

The scheduler, `reviews collect` and `POST /v1/admin/business-units/{bu}/collect/{source}` all run a collection
through `run_source`, so they share one lease per (unit, source) and one record of when it runs next. That record
(`next_run_at` in the source's state), not each process's own timer, says whether a run is due: of two scheduler
processes whose timers fire at different moments, the one that comes second finds the run done and waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from collectors.base import Collector, CollectReport, Progress, collect_now
from reviews_service import repository, source_store
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError
from reviews_service.leases import Clock, holding, utcnow

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.collect")
Registry = Mapping[str, Callable[[], Collector]]

DEFAULT_EVERY_MINUTES = {"trustpilot": 15.0}  # the platforms that answer within minutes; others hourly
OTHER_EVERY_MINUTES = 60.0
MIN_EVERY_MINUTES, MAX_EVERY_MINUTES = 0.05, 7 * 24 * 60.0  # 3 seconds (tests, demos) to a week
MAX_BACKOFF = timedelta(hours=6)  # a source failing for a day is still tried four times
EARLY = timedelta(minutes=1)  # at most this early a scheduler's timer may start a run (see `due`)


def lease_key(business_unit: str, source: str) -> str:
    """The lease every runner of this collection takes."""
    return f"collect/{business_unit}/{source}"


def every_minutes(source: str, config: Mapping[str, Any]) -> float:
    """How often this source is collected: its `every_minutes`, else 15 for trustpilot and 60 for others."""
    value = config.get("every_minutes")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(float(value), MIN_EVERY_MINUTES), MAX_EVERY_MINUTES)
    return DEFAULT_EVERY_MINUTES.get(source, OTHER_EVERY_MINUTES)


def check_sources(sources: Mapping[str, Any], registry: Registry) -> None:
    """Refuse, naming the known ones, a source we have no collector for, or an `every_minutes` we cannot use."""
    known = ", ".join(sorted(registry)) or "none yet"
    for name, config in sources.items():
        if name not in registry:
            raise SourceConfigError(f"unknown source {name!r} in `sources`; known sources: {known}")
        every = config.get("every_minutes") if isinstance(config, Mapping) else None
        if every is not None and (
            isinstance(every, bool)
            or not isinstance(every, int | float)
            or not MIN_EVERY_MINUTES <= every <= MAX_EVERY_MINUTES
        ):
            raise SourceConfigError(
                f"sources.{name}.every_minutes must be a number of minutes from {MIN_EVERY_MINUTES} to "
                f"{MAX_EVERY_MINUTES:.0f} (a week); got {str(every)[:30]!r}"
            )


def next_run_at(started: datetime, every: timedelta, failures: int) -> datetime:
    """The next run: one period after this one's start, or after failures 2, 4, 8 ... periods (at most 6 h)."""
    if failures <= 0:
        return started + every
    backoff: timedelta = every * 2 ** min(failures, 20)
    return started + max(every, min(backoff, MAX_BACKOFF))


def due(business_unit: str, source: str, now: datetime, every: timedelta | None = None) -> bool:
    """Whether this source's next run has come (true before its first), up to a tenth of `every` (at most a
    minute) early: a timer that fires a moment before the planned time must not wait a whole period more."""
    planned = source_store.get_source_state(business_unit, source).next_run_at
    early = min(every / 10, EARLY) if every is not None else timedelta(0)
    return planned is None or planned <= now + early


def run_source(
    state: ServiceState,
    settings: Settings,
    registry: Registry,
    business_unit: str,
    source: str,
    *,
    owner: str,
    full: bool = False,
    progress: Progress | None = None,
    now: Clock = utcnow,
) -> CollectReport:
    """One collection now, holding its lease (Busy if another runner holds it); then plans the next one."""
    report = _run(state, settings, registry, business_unit, source, owner, full, progress, now, None)
    assert report is not None  # only a run asked `if_due` may be skipped
    return report


def run_if_due(
    state: ServiceState, settings: Settings, registry: Registry, business_unit: str, source: str, *, owner: str
) -> CollectReport | None:
    """The scheduler's run: like run_source, but None when the run is not due (checked again under the lease:
    another process may have run it between a look and the lease)."""
    unit = repository.get_business_unit(state, business_unit)
    every = timedelta(minutes=every_minutes(source, unit.sources.get(source) or {}))
    if not due(business_unit, source, utcnow(), every):  # the cheap look first: no lease write when not due
        return None
    return _run(state, settings, registry, business_unit, source, owner, False, None, utcnow, every)


def _run(
    state: ServiceState,
    settings: Settings,
    registry: Registry,
    business_unit: str,
    source: str,
    owner: str,
    full: bool,
    progress: Progress | None,
    now: Clock,
    if_due: timedelta | None,
) -> CollectReport | None:
    unit = repository.get_business_unit(state, business_unit)
    config = unit.sources.get(source)
    if source not in registry or config is None:  # collect_now refuses it, naming what to do
        return collect_now(state, settings, registry, business_unit, source, full=full, progress=progress, now=now)
    every = timedelta(minutes=every_minutes(source, config))
    what = f"Collecting {source} for {business_unit}"
    with holding(lease_key(business_unit, source), owner, seconds=settings.lease_seconds, now=now, what=what):
        if if_due is not None and not due(business_unit, source, now(), if_due):
            return None
        started = now()
        state.metrics.collector_runs.labels(source).inc()  # a name in the registry: a bounded label
        try:
            report = collect_now(
                state, settings, registry, business_unit, source, full=full, progress=progress, now=now
            )
        except SourceError as exc:  # collect_now recorded it
            state.metrics.collector_failures.labels(source).inc()
            _back_off(business_unit, source, started, every, exc.detail)
            raise
        except Exception as exc:  # a bug in a collector: recorded here, so it shows at the sources endpoint too
            state.metrics.collector_failures.labels(source).inc()
            previous = source_store.get_source_state(business_unit, source)
            source_store.record_run(
                business_unit, source, at=started, outcome="failed", report=previous.last_report,
                error=f"internal error ({type(exc).__name__}: {str(exc)[:300]}); see the process's log",
                failures=previous.failures + 1, next_run_at=None,
            )  # fmt: skip
            _back_off(business_unit, source, started, every, f"{type(exc).__name__}: {exc}")
            raise
        source_store.schedule_next(business_unit, source, next_run_at(started, every, 0))
        return report


def _back_off(business_unit: str, source: str, started: datetime, every: timedelta, reason: str) -> None:
    failures = source_store.get_source_state(business_unit, source).failures
    planned = next_run_at(started, every, failures)
    source_store.schedule_next(business_unit, source, planned)
    log.warning(
        "collecting %s for %s failed (%d in a row): %s; next try at %s UTC",
        source, business_unit, failures, reason[:500], f"{planned:%Y-%m-%d %H:%M:%S}",
    )  # fmt: skip

"""Our own schedule.Scheduler: every job registered explicitly, run in a small pool, each under its lease.

schedule's timers only say when to *look*: each business unit's sources get a timer at their own
`every_minutes`, and a look runs the collection only if the source's state says it is due and its lease is free.
The units are read again every `REVIEWS_SCHEDULER_RELOAD_SECONDS`, so a source added, changed or removed while
the scheduler runs is picked up. schedule does not catch a job's exceptions, so every job is `guarded`: it is
logged with its reason and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial, wraps
from typing import TYPE_CHECKING

import schedule

from reviews_service import repository
from reviews_service.collection import Registry, every_minutes, run_if_due
from reviews_service.config import Settings
from reviews_service.errors import Busy, SourceError
from reviews_service.leases import owner_id

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.jobs")
Job = Callable[[], object]


def guarded(name: str, job: Job) -> Callable[[], None]:
    """Run `job`, logging (not raising) whatever it throws."""

    @wraps(job)
    def run() -> None:
        try:
            job()
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed; it runs again at its next time", name)

    return run


class Scheduler:
    """The jobs of one process: its own schedule.Scheduler, a pool to run them in, and a lease owner name."""

    def __init__(self, settings: Settings, state: ServiceState, registry: Registry, owner: str | None = None) -> None:
        self.settings, self.state, self.registry = settings, state, registry
        self.owner = owner or owner_id("scheduler")
        self.schedule = schedule.Scheduler()
        self.pool = ThreadPoolExecutor(settings.scheduler_workers, thread_name_prefix="reviews-job")
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._sources: dict[str, tuple[float, schedule.Job]] = {}
        self._unknown: set[str] = set()

    def add(self, name: str, when: schedule.Job, job: Job) -> None:
        """Run `job` in the pool at `when` (a timer of self.schedule, e.g. self.schedule.every().day.at(...))."""
        when.do(self.submit, name, job).tag(name)

    def submit(self, name: str, job: Job) -> None:
        """Start `job` in the pool, unless this process is running it already (a long sync past its period)."""
        with self._lock:
            if name in self._running:
                return
            self._running.add(name)

        def work() -> None:
            try:
                guarded(name, job)()
            finally:
                with self._lock:
                    self._running.discard(name)

        self.pool.submit(work)

    def refresh(self) -> None:
        """Read the units again: a timer per configured source at its period, none for removed ones."""
        wanted: dict[str, tuple[str, str, float]] = {}
        for unit in repository.list_business_units():
            for source, config in unit.sources.items():
                if source not in self.registry:
                    if f"{unit.slug}/{source}" not in self._unknown:
                        self._unknown.add(f"{unit.slug}/{source}")
                        log.warning("%s: no collector for source %r; known: %s", unit.slug, source,
                                    ", ".join(sorted(self.registry)) or "none")  # fmt: skip
                    continue
                wanted[f"{unit.slug}/{source}"] = (unit.slug, source, every_minutes(source, config))
        for key in set(self._sources) - set(wanted):
            self.schedule.cancel_job(self._sources.pop(key)[1])
        for key, (slug, source, minutes) in wanted.items():
            current = self._sources.get(key)
            if current is not None and current[0] == minutes:
                continue
            if current is not None:
                self.schedule.cancel_job(current[1])
            look = partial(self.collect_if_due, slug, source)
            timer = self.schedule.every(max(1, round(minutes * 60))).seconds
            timer.do(self.submit, f"collect/{key}", look).tag("collect", key)
            self._sources[key] = (minutes, timer)
            self.submit(f"collect/{key}", look)  # look now too: an overdue source need not wait a period

    def collect_if_due(self, business_unit: str, source: str) -> None:
        """Collect this source if its run is due and no other process is running it."""
        try:
            report = run_if_due(self.state, self.settings, self.registry, business_unit, source, owner=self.owner)
        except Busy:
            log.debug("collect %s/%s: running in another process", business_unit, source)
        except SourceError:
            pass  # run_source logged it with its reason and the next try; the sources endpoint shows it
        else:
            if report is not None:
                log.info("collected %s for %s: %s", source, business_unit, _counts(report.as_dict()))

    def run_pending(self) -> None:
        """Start every job whose time has come."""
        self.schedule.run_pending()

    def close(self) -> None:
        """Stop: no new jobs, and wait for the running ones (if the process is killed, their leases expire)."""
        self.schedule.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _counts(report: dict[str, object]) -> str:
    keys = ("calls", "fetched", "inserted", "updated", "unchanged", "removed")
    return ", ".join(f"{k} {report[k]}" for k in keys if k in report)

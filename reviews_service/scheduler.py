"""Our own schedule.Scheduler: every job registered explicitly, run in a small pool, each under its lease.

schedule's timers only say when to *look*: each business unit's sources get a timer at their own
`every_minutes`, and a look runs the collection only if the source's state says it is due and its lease is free.
The units are read again every `REVIEWS_SCHEDULER_RELOAD_SECONDS`, so a source added, changed or removed while
the scheduler runs is picked up. schedule does not catch a job's exceptions, so every job is `guarded`: it is
logged with its reason and the loop goes on.

The loop beats: every BEAT_SECONDS it renews the lease `scheduler/heartbeat` in the store for DEAD_AFTER seconds, so
an API process (`/ready`, readiness.py) can tell a scheduler runs somewhere: in-process beside `reviews serve` on the
embedded store, or `reviews scheduler` elsewhere. Of several schedulers one holds it; when it stops, another takes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial, wraps
from typing import TYPE_CHECKING

import schedule

from reviews_service import repository, source_store
from reviews_service.cache import IN_BACKGROUND
from reviews_service.collection import Registry, every_minutes, run_if_due
from reviews_service.config import Settings
from reviews_service.errors import Busy, SourceError
from reviews_service.leases import owner_id

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.jobs")
Job = Callable[[], object]
HEARTBEAT = "scheduler/heartbeat"  # the lease a running scheduler keeps renewing
BEAT_SECONDS = 10.0  # how often the loop renews it
DEAD_AFTER = 60.0  # a heartbeat older than this: no scheduler is running (six beats missed in a row)


def guarded(name: str, job: Job) -> Callable[[], None]:
    """Run `job`, logging (not raising) whatever it throws; its writes are a background job's (cache.IN_BACKGROUND:
    the widgets it changes are served stale while they render again, nobody waits to read them back)."""

    @wraps(job)
    def run() -> None:
        token = IN_BACKGROUND.set(True)
        try:
            job()
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed; it runs again at its next time", name)
        finally:
            IN_BACKGROUND.reset(token)

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
        self._beaten = float("-inf")  # monotonic time of the last heartbeat written

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
        """Start every job whose time has come, and beat when due (in the loop's thread: a stuck loop stops beating)."""
        self.schedule.run_pending()
        if time.monotonic() - self._beaten >= BEAT_SECONDS:
            self._beaten = time.monotonic()  # a beat that fails (the store down) is tried again a beat later
            try:
                self.beat(datetime.now(UTC))
            except Exception as exc:  # one line, not a traceback every beat while the store is down
                log.warning("could not write the scheduler's heartbeat (%s); trying again in %g s", exc, BEAT_SECONDS)

    def beat(self, now: datetime) -> bool:
        """Renew the heartbeat lease until `now` + DEAD_AFTER; False while another scheduler holds it (it beats)."""
        return source_store.take_lease(HEARTBEAT, self.owner, now=now, seconds=DEAD_AFTER)

    def close(self) -> None:
        """Stop: no new jobs, and wait for the running ones (if the process is killed, their leases expire)."""
        self.schedule.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
        try:  # a scheduler stopped on purpose is not running: say so now, not DEAD_AFTER later
            source_store.release_lease(HEARTBEAT, self.owner)
        except Exception:  # the store is down: the heartbeat then expires by itself
            log.warning("could not release the scheduler's heartbeat; it expires in %d s", DEAD_AFTER)


def _counts(report: dict[str, object]) -> str:
    keys = ("calls", "fetched", "inserted", "updated", "unchanged", "removed")
    return ", ".join(f"{k} {report[k]}" for k in keys if k in report)

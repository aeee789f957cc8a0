"""Periodic jobs on our own schedule.Scheduler; each job is wrapped so one failure never stops the loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial, wraps
from typing import TYPE_CHECKING

import schedule

from reviews_service import ingest
from reviews_service.config import Settings

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


def check_summaries(state: ServiceState) -> dict[str, object]:
    """Nightly safety net: recompute summaries; log any that had drifted (e.g. after a crash mid-write)."""
    report = ingest.rebuild_summaries(state, None, now=datetime.now(UTC))
    if report["differed"]:
        log.warning("summaries repaired: %s", report["differed"])
    return report


def build_scheduler(settings: Settings, state: ServiceState) -> schedule.Scheduler:
    """Our own scheduler with every periodic job registered explicitly; they read and write through `state`."""
    scheduler = schedule.Scheduler()
    jobs: dict[str, tuple[schedule.Job, Job]] = {
        "check-summaries": (scheduler.every().day.at("03:30"), partial(check_summaries, state)),
    }
    for name, (when, job) in jobs.items():
        when.do(guarded(name, job)).tag(name)
    return scheduler


def run_forever(scheduler: schedule.Scheduler, stop: threading.Event, tick: float = 1.0) -> None:
    """Run pending jobs until `stop` is set."""
    while not stop.is_set():
        scheduler.run_pending()
        stop.wait(tick)


def start_in_thread(scheduler: schedule.Scheduler) -> tuple[threading.Thread, threading.Event]:
    """Run the scheduler in a daemon thread beside the API (the embedded store's single process)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(scheduler, stop), name="reviews-scheduler", daemon=True)
    thread.start()
    return thread, stop

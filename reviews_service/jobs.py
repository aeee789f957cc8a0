"""The periodic jobs: every source's collection, the nightly rebuild, the daily digests, alerts, invitation
e-mails; and the loop.

Every job holds a lease in the store while it runs (reviews_service.leases), so `reviews serve` on the embedded
store and a separate `reviews scheduler` on the same data (or two schedulers on one MongoDB) never run one job
twice at once. A daily job keeps its lease for an hour after it is done: the other processes fire at the same
clock time and find it taken.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from reviews_service import (
    alerts,
    digests,
    flagging,
    ingest,
    invitation_mailer,
    invitation_store,
    repository,
    retention,
)
from reviews_service.collection import Registry
from reviews_service.config import Settings, SettingsInvalid
from reviews_service.errors import Busy
from reviews_service.leases import holding
from reviews_service.scheduler import Scheduler, guarded

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

__all__ = ["Scheduler", "build_scheduler", "guarded", "run_forever", "start_in_thread"]
log = logging.getLogger("reviews.jobs")
DIGEST_LOOK_SECONDS = 60  # how often the scheduler looks for digests that are due
DAILY_HOLD = 3600.0  # seconds a daily job's lease outlives the job: the others' timers fire within it


def check_summaries(state: ServiceState) -> dict[str, object]:
    """Nightly safety net: recompute summaries; log any that had drifted (e.g. after a crash mid-write)."""
    report = ingest.rebuild_summaries(state, None, now=datetime.now(UTC))
    if report["differed"]:
        log.warning("summaries repaired: %s", report["differed"])
    for unit in repository.list_business_units():  # and the digest's rating buckets, which move with them
        if moved := digests.recount(state, unit.slug):
            log.warning("rating buckets of %s repaired: %d", unit.slug, moved)
    return report


def daily_digest(
    state: ServiceState, settings: Settings, owner: str, told: set[str], now: datetime | None = None
) -> None:
    """Send each business unit's digest of its own yesterday once DIGEST_TIME has come (each exactly once)."""
    try:
        digests.send_due(state, settings, now=now or datetime.now(UTC), owner=owner)
    except digests.MailNotConfigured as exc:  # said once per process, not at every look
        if str(exc) not in told:
            told.add(str(exc))
            log.warning("daily digests are not sent: %s", exc)


def send_alerts(state: ServiceState, settings: Settings, now: datetime | None = None) -> int:
    """Send the due one-star alerts (each claimed by one process only); how many were sent."""
    sent = alerts.dispatch(state, settings, now=now or datetime.now(UTC))
    state.metrics.alerts.inc(sent)
    return sent


def send_invitations(
    state: ServiceState, settings: Settings, told: set[str], now: datetime | None = None
) -> dict[str, int]:
    """Send the due invitation e-mails and reminders (each claimed by one process only); the counts."""
    at = now or datetime.now(UTC)
    if settings.smtp_url is None and "smtp" not in told and invitation_store.mail_due("send_at", at):
        told.add("smtp")  # said once per process, and only when a mail is waiting for it
        log.warning("invitation e-mails are due but SMTP_URL is not set: they wait until it is")
    counts = invitation_mailer.send_due(state, settings, now=at)
    state.metrics.count_invitation_mails(counts)
    return counts


def detect_flags(scheduler: Scheduler, now: datetime | None = None) -> dict[str, int] | None:
    """Score-drop and burst flags of every unit, by one process at a time (None: another is at it)."""
    try:
        with holding("flags/patterns", scheduler.owner, seconds=scheduler.settings.lease_seconds):
            return flagging.detect_all(now=now or datetime.now(UTC))
    except Busy:
        log.info("flags/patterns: running in another process")
        return None


def apply_retention(state: ServiceState, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Delete invitations and take contact data out of reviews past REVIEWS_RETENTION_DAYS (0: keep them)."""
    return retention.apply_retention(state, settings, now=now or datetime.now(UTC))


def once_per_day(scheduler: Scheduler, key: str, job: Callable[[], object]) -> None:
    """Run `job` under the lease `key`, kept an hour after, so of all processes one runs it today."""
    try:
        with holding(key, scheduler.owner, seconds=scheduler.settings.lease_seconds, keep_for=DAILY_HOLD):
            job()
    except Busy:
        log.info("%s: already run (or running) by another process", key)


def build_scheduler(
    settings: Settings, state: ServiceState, registry: Registry | None = None, owner: str | None = None
) -> Scheduler:
    """Our own scheduler with every periodic job registered explicitly; they read and write through `state`."""
    if registry is None:
        from collectors.registry import REGISTRY

        registry = REGISTRY
    scheduler = Scheduler(settings, state, registry, owner)
    every = scheduler.schedule.every
    reload_every = max(1, round(settings.scheduler_reload_seconds))
    nightly = partial(once_per_day, scheduler, "nightly/check-summaries", partial(check_summaries, state))
    scheduler.add("check-summaries", every().day.at("03:30"), nightly)
    retention = partial(once_per_day, scheduler, "nightly/retention", partial(apply_retention, state, settings))
    scheduler.add("retention", every().day.at("04:00"), retention)
    try:
        digests.check_settings(settings)
    except SettingsInvalid:
        scheduler.close()
        raise
    # A look every minute, and one now: a scheduler (re)started after DIGEST_TIME still sends what is due; the
    # digest's claim in the store (not a lease here) makes each unit's day go out once, whoever looks.
    look = partial(daily_digest, state, settings, scheduler.owner, set())
    scheduler.add("daily-digest", every(min(DIGEST_LOOK_SECONDS, reload_every)).seconds, look)
    scheduler.submit("daily-digest", look)
    # one-star alerts within a minute of arrival; the periodic flags a few times an hour
    alerts_every = max(1, round(settings.alert_every_seconds))
    scheduler.add("alerts", every(alerts_every).seconds, partial(send_alerts, state, settings))
    invitations_every = max(1, round(settings.invitations_every_seconds))
    invite = partial(send_invitations, state, settings, set())
    scheduler.add("invitations", every(invitations_every).seconds, invite)
    flags_every = max(1, round(settings.flags_every_minutes * 60))
    scheduler.add("flags", every(flags_every).seconds, partial(detect_flags, scheduler))
    # the sources' timers: read now, and again periodically (in the loop's thread: schedule is not thread-safe)
    every(reload_every).seconds.do(guarded("refresh-sources", scheduler.refresh)).tag("refresh-sources")
    guarded("refresh-sources", scheduler.refresh)()
    return scheduler


def run_forever(scheduler: Scheduler, stop: threading.Event, tick: float = 1.0) -> None:
    """Run pending jobs until `stop` is set; nothing a job does ends the loop."""
    try:
        while not stop.is_set():
            guarded("run-pending", scheduler.run_pending)()
            stop.wait(tick)
    finally:
        scheduler.close()


def start_in_thread(scheduler: Scheduler) -> tuple[threading.Thread, threading.Event]:
    """Run the scheduler in a daemon thread beside the API (the embedded store's single process)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(scheduler, stop), name="reviews-scheduler", daemon=True)
    thread.start()
    return thread, stop

"""/ready's checks: the store answers one trivial read in time, and a scheduler is beating (unless none is wanted).

Each check says why when it fails, in words an operator can act on. The store check runs in a thread of its own
and /ready waits PROBE_SECONDS for it at most: a store held by another process can keep a read waiting longer
(embedded.LOCK_WAIT, SQLite's own lock retries), and an orchestrator's probe must get its answer in time. One
check runs at a time: probes arriving meanwhile wait for that one instead of piling up threads on a stuck store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

from reviews_service import documents as docs
from reviews_service import store
from reviews_service.config import Settings
from reviews_service.outage import StoreHealth
from reviews_service.scheduler import DEAD_AFTER, HEARTBEAT

PROBE_SECONDS = 2.0
Checks = dict[str, dict[str, Any]]


class Probe:
    """At most one readiness check in flight; callers wait up to `seconds` for its result."""

    def __init__(self, seconds: float = PROBE_SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._running: Future[Checks] | None = None

    def start(self, check: Callable[[], Checks]) -> Future[Checks]:
        """The check in flight, or `check` started in a thread of its own: what to wait for (never cancel it)."""
        with self._lock:
            future = self._running
            if future is None or future.done():
                future = self._running = Future()
                threading.Thread(target=_fill, args=(future, check), name="reviews-ready", daemon=True).start()
        return future

    async def wait(self, check: Callable[[], Checks]) -> Checks | None:
        """The checks' result, or None when they did not finish within `seconds` (they go on in the background).

        Awaited on the event loop, no thread of the request pool taken: requests stuck on a stalled store can
        hold them all, and /ready must answer in time."""
        waiting = asyncio.wrap_future(self.start(check))
        done, _ = await asyncio.wait({waiting}, timeout=self.seconds)  # not wait_for: it would cancel the check
        return waiting.result() if done else None


def _fill(future: Future[Checks], check: Callable[[], Checks]) -> None:
    try:
        future.set_result(check())
    except BaseException as exc:  # handed to the waiting request, which turns it into a failed check
        future.set_exception(exc)


def check(settings: Settings, health: StoreHealth, now: datetime) -> Checks:
    """Both checks (the store's outcome also told to `health`)."""
    try:
        store.ping()
    except store.UNAVAILABLE as exc:
        reason = store.why_unavailable(exc)
        health.failed(reason)
        unknown = {"ok": False, "error": "unknown: its heartbeat is in the store, which cannot be read"}
        return {"store": {"ok": False, "error": reason}, "scheduler": _off(settings) or unknown}
    health.ok()
    return {"store": {"ok": True}, "scheduler": _off(settings) or scheduler(now)}


def timed_out(settings: Settings, seconds: float) -> Checks:
    """What /ready says when the checks did not finish in time."""
    error = f"no answer to a trivial read within {seconds:g} s (the store is held elsewhere, or unreachable)"
    unknown = {"ok": False, "error": "unknown: its heartbeat is in the store, which did not answer"}
    return {"store": {"ok": False, "error": error}, "scheduler": _off(settings) or unknown}


def broken(settings: Settings, exc: Exception) -> Checks:
    """What /ready says when the checks themselves failed: both keys, as always, with the reason."""
    unknown = {"ok": False, "error": "unknown: the checks failed before it was read"}
    return {
        "store": {"ok": False, "error": f"the check failed: {type(exc).__name__}: {str(exc)[:200]}"},
        "scheduler": _off(settings) or unknown,
    }


def _off(settings: Settings) -> dict[str, Any] | None:
    if settings.ready_scheduler:
        return None
    return {"ok": True, "off": True, "detail": "not checked: REVIEWS_READY_SCHEDULER=false (no scheduler wanted)"}


def scheduler(now: datetime) -> dict[str, Any]:
    """Whether a scheduler's heartbeat is younger than DEAD_AFTER, and when it last beat."""
    raw = docs.LeaseDoc._get_collection().find_one({"_id": HEARTBEAT})
    expires = docs.as_utc(raw.get("expires")) if raw else None
    if raw is None or expires is None:
        return {
            "ok": False,
            "last_beat": None,
            "error": "no scheduler has beaten yet: run `reviews scheduler` beside the API (on MongoDB, "
            "`reviews serve` runs none), or set REVIEWS_READY_SCHEDULER=false if none is wanted",
        }
    last = expires - timedelta(seconds=DEAD_AFTER)
    age = max(0.0, (now - last).total_seconds())
    answer: dict[str, Any] = {"ok": expires > now, "last_beat": last, "age_seconds": round(age, 1)}
    if expires <= now:
        answer["error"] = f"the scheduler's last heartbeat is {age:.0f} s old (dead after {DEAD_AFTER:g} s)"
    return answer

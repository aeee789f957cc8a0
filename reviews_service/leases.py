"""Holding a job's lease while it runs: taken before, renewed during, released (or kept) after.

The lease itself is a compare-and-set with an expiry in the store (`source_store.take_lease`). Whoever runs a
job (a scheduler process, `reviews serve`'s in-process scheduler, `reviews collect`, the admin collect endpoint)
holds its lease, so two of them never run the same job at once. A holder renews it every third of its length
while the job runs, so a long sync keeps it; a process that dies stops renewing, and another takes the job over
once the lease expires. A holder on this very machine whose process is gone (`kill -9`, a crash) is known to be
dead at once: its lease is taken over without waiting for the expiry (the owner names host and pid for this).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from reviews_service import source_store
from reviews_service.errors import Busy

log = logging.getLogger("reviews.leases")
Clock = Callable[[], datetime]


def ticking(now: datetime) -> Callable[[], datetime]:
    """A clock that starts at `now` (passed in) and moves with real time: a claim taken late in a long batch
    expires counted from when it was taken, not from when the batch began."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def utcnow() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def owner_id(role: str) -> str:
    """Who holds a lease: role, host, pid and a random part (a pid can be reused after a restart)."""
    return f"{role}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe_holder(key: str, now: datetime) -> str:
    """`by OWNER until TIME` for a message about a held lease ('' when it is free again)."""
    holder = source_store.lease_holder(key, now=now)
    return f" (by {holder[0]}, whose lease runs until {holder[1]:%H:%M:%S} UTC)" if holder else ""


@contextmanager
def holding(
    key: str, owner: str, *, seconds: float, now: Clock = utcnow, keep_for: float = 0, what: str = ""
) -> Iterator[None]:
    """Run the block while holding `key`'s lease, or raise Busy (naming `what` and the holder) if another has it.

    `keep_for` > 0 keeps the lease that many seconds after the block instead of releasing it: for a job that
    every process schedules at the same clock time (the nightly rebuild), it tells the others it has been done.
    """
    # a kept lease marks a daily job done (its holder may be gone by now): only an expiry ends it
    taken = source_store.take_lease(key, owner, now=now(), seconds=seconds)
    if not taken and not (keep_for <= 0 and _take_from_the_dead(key, owner, now(), seconds)):
        raise Busy(f"{what or key} is running right now{describe_holder(key, now())}; try again when it is done.")
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(key, owner, seconds, now, stop), name=f"lease {key}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=seconds)
        if keep_for > 0:
            source_store.take_lease(key, owner, now=now(), seconds=keep_for)
        else:
            source_store.release_lease(key, owner)


def dead_here(holder: str) -> bool:
    """True if `holder` (an owner_id) ran on this machine in a process that no longer exists."""
    parts = holder.split(":")
    if len(parts) != 4 or not parts[2].isdigit():
        return False  # a foreign owner: only its lease's expiry tells
    return gone_here(parts[1], int(parts[2]))


def gone_here(host: str, pid: int) -> bool:
    """True if process `pid` of machine `host` is known to be gone: it ran here, and no such process exists now.

    Another machine's process, this very process, or one run by another user all count as alive.
    """
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, run by another user
        return False
    return False


def _take_from_the_dead(key: str, owner: str, now: datetime, seconds: float) -> bool:
    holder = source_store.lease_holder(key, now=now)
    if holder is None or not dead_here(holder[0]):
        return False
    taken = source_store.take_over_lease(key, holder[0], owner, now=now, seconds=seconds)
    if taken:
        log.warning("took over %s from %s, whose process is gone", key, holder[0])
    return taken


def _renew(key: str, owner: str, seconds: float, now: Clock, stop: threading.Event) -> None:
    """Renew the lease every third of its length until `stop` (a missed renewal leaves two more chances)."""
    while not stop.wait(seconds / 3):
        try:
            if not source_store.take_lease(key, owner, now=now(), seconds=seconds):
                log.warning("lost the lease of %s to another process (this one stalled past its expiry)", key)
                return
        except Exception:  # the store hiccuped: keep trying while the lease lasts
            log.warning("could not renew the lease of %s; retrying", key, exc_info=True)

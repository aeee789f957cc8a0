"""Sending the invitation e-mails: the first mail once its delay has passed, and one reminder, never more.

The invitations job (reviews_service.jobs, every REVIEWS_INVITATIONS_EVERY_SECONDS) takes the due first mails,
then the due reminders, one at a time: each is claimed before it is sent (invitation_store.claim_mail, one
conditional update that moves its due time to the claim's end), so of two schedulers exactly one sends it, and
one that dies mid-send leaves it due again when the claim ends. After the first mail the reminder is due
`reminder_days` later (the unit's InvitationPolicy; 0: none); after the reminder nothing more is ever sent.

A send never outlives its claim: the whole SMTP conversation is bounded by MAIL_DEADLINE (well under CLAIM, not
only each socket read by MAIL_TIMEOUT), and right before the message is handed over the claim is read again; one
taken by another sender meanwhile is left to it, unsent here.

An invitation whose buyer opted out, whose address is suppressed (an opt-out from any unit, or an erasure), that
was reviewed or has expired ("expired" kept as its `mail_error`) is never mailed: it leaves the queue unsent
("skipped"), as does a reminder once its unit has set `reminder_days` to 0. An SMTP failure is retried with a
doubling backoff (15 min up to 4 h) until LAST_TRY before the link expires, then given up with why kept in
`mail_error`; a recipient refused for good (a 5xx to RCPT) is given up at once. A failure of the relay itself
(unreachable, TLS, login, too slow) ends the batch: the next mails would fail the same way, so they stay due,
untried, for the next run. With no SMTP_URL nothing is claimed: the invitations wait. Addresses never reach the
log; invitations are named by id.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reviews_service import domain, invitation_links, invitation_store, repository
from reviews_service.config import Settings
from reviews_service.errors import NotFound
from reviews_service.invitation_mail import Unmailable, compose
from reviews_service.invitation_store import MailClaim, Queue
from reviews_service.leases import Clock, ticking
from reviews_service.mail import MailError, send

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.invitations")
CLAIM = timedelta(minutes=5)  # how long a sender holds one mail
MAIL_TIMEOUT = 30.0  # one socket operation of the SMTP conversation
MAIL_DEADLINE = 120.0  # the whole conversation: it ends well within CLAIM, so no second sender starts on the mail
MAX_BACKOFF = timedelta(hours=4)  # a relay back after a night's outage is tried again within hours, not days
LAST_TRY = timedelta(hours=1)  # no attempt later than this before the link expires: given up, with why
QUEUES: tuple[Queue, ...] = ("send_at", "reminder_at")
OUTCOMES = ("sent", "reminded", "failed", "skipped")


def backoff(attempt: int) -> timedelta:
    """How long after failed attempt number `attempt` (1, 2, ...) the next is made: 15 min doubling, at most 4 h."""
    return min(timedelta(minutes=15 * 2 ** min(attempt - 1, 10)), MAX_BACKOFF)


def retry_time(invitation: domain.Invitation, attempt: int, now: datetime) -> datetime | None:
    """When to try again after failed attempt `attempt` at `now`: after its backoff, but no later than LAST_TRY
    before the link expires (None: that moment has passed, so it is given up)."""
    last = invitation.expires_at - LAST_TRY
    return min(now + backoff(attempt), last) if now < last else None


def unsubscribe_link(base_url: str, token: str) -> str:
    """The opt-out page of a form link's token (GET shows it, POST is RFC 8058's one click)."""
    return invitation_links.form_link(base_url, token) + "/unsubscribe"


def reminder_time(invitation: domain.Invitation, policy: domain.InvitationPolicy, sent: datetime) -> datetime | None:
    """When the one reminder is due after a first mail at `sent` (None: the unit sends none, or the link would
    have expired by then)."""
    if policy.reminder_days <= 0:
        return None
    due = sent + timedelta(days=policy.reminder_days)
    return due if due < invitation.expires_at else None


RELAY_DOWN = "relay down"  # an outcome of _handle: failed, and so would the next ones


@dataclass(frozen=True)
class Limits:
    """How long one send may take: `deadline` seconds in all, `timeout` per socket operation."""

    deadline: float
    timeout: float


def send_due(
    state: ServiceState,
    settings: Settings,
    *,
    now: datetime,
    limit: int = 100,
    hold: timedelta = CLAIM,
    deadline: float = MAIL_DEADLINE,
    timeout: float = MAIL_TIMEOUT,
) -> dict[str, int]:
    """Send up to `limit` due first mails and `limit` due reminders; counts of sent, reminded, failed, skipped.

    Each mail is claimed for `hold`; its SMTP conversation is abandoned after `deadline` seconds (each socket
    operation after `timeout`). A failure of the relay itself ends the batch, leaving the rest due."""
    if deadline * 2 > hold.total_seconds():
        raise ValueError(f"a send ({deadline:g} s) must end well within the claim ({hold.total_seconds():g} s)")
    counts = dict.fromkeys(OUTCOMES, 0)
    if settings.smtp_url is None:
        return counts  # nothing claimed: every invitation stays due until SMTP_URL is set
    clock = ticking(now)  # a batch of slow hand-overs: each claim counts from its own moment
    limits = Limits(deadline, timeout)
    relay_down = False
    for queue in QUEUES:
        for _ in range(limit):
            at = clock()
            claim = invitation_store.claim_mail(queue, now=at, hold=hold)
            if claim is None:
                break
            try:
                outcome = _handle(state, settings, claim, at, clock, limits)
            except Exception as exc:  # a bug or a store hiccup with one invitation must not stop the others
                log.exception("invitation %s: mailing failed unexpectedly", claim.invitation.id)
                outcome = _failed(claim, f"{type(exc).__name__}: {exc}", at)
            relay_down = outcome == RELAY_DOWN
            counts["failed" if relay_down else outcome] += 1
            if relay_down:
                break
        if relay_down:
            log.warning("invitations: the SMTP relay failed; the other due mails wait for the next run")
            break
    if any(counts.values()):
        log.info("invitations: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


def why_not(invitation: domain.Invitation, queue: Queue, now: datetime) -> str | None:
    """Why this mail must not go out now: None, it may; "" it must not and that is plain from the invitation
    itself (reviewed, expired, sent already); otherwise the reason, kept as its `mail_error` for the admin list."""
    if invitation.opted_out_at is not None:
        return "not sent: the buyer opted out"
    if invitation.reviewed_at is not None:
        return ""  # reviewed: nothing left to ask
    if now >= invitation.expires_at:
        return "expired"  # the link would not open; said, since an admin may wonder why it never went out
    if not invitation.email:
        return "not sent: no e-mail address"
    if queue == "send_at" and invitation.sent_at is not None:
        return ""  # sent already (a retry after a crash between the hand-over and the record)
    if queue == "reminder_at" and (invitation.reminded_at is not None or invitation.sent_at is None):
        return ""  # one reminder, and only after a first mail
    return None


def _handle(
    state: ServiceState, settings: Settings, claim: MailClaim, now: datetime, clock: Clock, limits: Limits
) -> str:
    invitation, secret = claim.invitation, settings.secret_key.get_secret_value()
    reason = why_not(invitation, claim.queue, now)
    if reason is None and invitation.email and invitation_store.suppressed(secret, [invitation.email]):
        reason = "not sent: the address asked for no more e-mail (or was erased)"
    if reason is not None:
        invitation_store.mail_skipped(claim, reason or None)
        return "skipped"
    try:
        unit = repository.get_business_unit(state, invitation.business_unit)
    except NotFound:
        invitation_store.mail_skipped(claim, "not sent: its business unit is gone")
        return "skipped"
    reminder = claim.queue == "reminder_at"
    if reminder and unit.invitations.reminder_days <= 0:  # the unit turned reminders off after the first mail
        invitation_store.mail_skipped(claim, f"reminder not sent: {unit.slug} now sends none (reminder_days 0)")
        return "skipped"
    token = invitation_links.make_token(secret, invitation.id, invitation.expires_at)
    base = settings.public_url
    products = repository.products(state, invitation.business_unit, invitation.products)
    try:
        message = compose(
            invitation, unit, products,
            link=invitation_links.form_link(base, token), unsubscribe_link=unsubscribe_link(base, token),
            reminder=reminder, mail_from=settings.mail_from, now=now,
        )  # fmt: skip
    except Unmailable as exc:
        return _failed(claim, f"not sent: {exc}", now, retry=False)
    smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else ""

    def still_ours() -> bool:  # asked right before the hand-over: a claim that ended may be another sender's now
        return clock() < claim.until and invitation_store.still_claimed(claim)

    try:
        handed_over = send(smtp_url, message, timeout=limits.timeout, deadline=limits.deadline, still_wanted=still_ours)
    except MailError as exc:
        error = redact(str(exc), invitation.email or "")
        if exc.permanent:
            return _failed(claim, f"not sent: {error}", now, retry=False)
        outcome = _failed(claim, error, now)
        return RELAY_DOWN if exc.connection else outcome
    if not handed_over:
        log.warning(
            "invitation %s: its claim ended before the hand-over; left to the sender that has it", invitation.id
        )
        return "skipped"
    next_time = None if reminder else reminder_time(invitation, unit.invitations, now)
    if not invitation_store.mail_sent(claim, now, next_time):
        log.warning("invitation %s was mailed, but its claim had expired meanwhile", invitation.id)
    return "reminded" if reminder else "sent"


def _failed(claim: MailClaim, error: str, now: datetime, *, retry: bool = True) -> str:
    invitation = claim.invitation
    attempt = invitation.mail_attempts + 1
    retry_at = retry_time(invitation, attempt, now) if retry else None
    if retry and retry_at is None:
        error = f"given up: {error}; its link expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC, too soon to try again"
    log.warning("invitation %s: attempt %d failed (%s); %s", claim.invitation.id, attempt, error,
                f"next at {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else "given up")  # fmt: skip
    invitation_store.mail_failed(claim, error, retry_at)
    return "failed"


def redact(text: str, address: str) -> str:
    """`text` (an SMTP server's answer may quote the recipient) without the address in it."""
    return re.sub(re.escape(address.strip()), "<address>", text, flags=re.IGNORECASE) if address.strip() else text

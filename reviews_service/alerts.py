"""One-star alerts, sent at once and once: a signed webhook POST and/or an e-mail, whichever is configured.

The alerts job (reviews_service.jobs, every REVIEWS_ALERT_EVERY_SECONDS) claims due alerts one at a time
(flag_store.claim_alert: a conditional update, so two schedulers never take the same one), sends each on every
channel that does not have it yet, and marks it sent. A failure is recorded and retried with a doubling backoff
(30 s up to an hour) until MAX_ATTEMPTS, or until the flag is a day old; the job runs apart from ingest, which
only stores the alert as due. A sender that dies mid-send leaves its claim to expire (CLAIM) and the alert due.

The webhook body is JSON, signed as `X-Reviews-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
with ALERT_WEBHOOK_SECRET (see `signature`; the README shows a receiver's check). It carries the review as the
public API shows it: never the reviewer's e-mail address or order reference.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from collectors.http import Timeouts, make_client
from reviews_service import domain, flag_store, repository
from reviews_service.alert_message import alert_email
from reviews_service.api.deps import iso, review_json
from reviews_service.config import Settings
from reviews_service.errors import NotFound
from reviews_service.flag_reasons import reason
from reviews_service.leases import ticking
from reviews_service.mail import MailError, send

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.alerts")
CLAIM = timedelta(minutes=2)  # longer than both channels' timeouts together: a live sender never loses its claim
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = timedelta(days=1)
WEBHOOK_TIMEOUTS = Timeouts(connect=5.0, read=10.0, write=10.0, pool=5.0, total=20.0)
MAIL_TIMEOUT = 30.0
SIGNATURE_HEADER = "X-Reviews-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Reviews-Signature value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempt: int) -> timedelta:
    """How long after failed attempt number `attempt` (1, 2, ...) the next is made: 30 s doubling, at most 1 h."""
    return timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))


def channels(settings: Settings) -> list[str]:
    """The configured channels: "webhook" (ALERT_WEBHOOK_URL) and/or "email" (SMTP_URL and recipients)."""
    found = ["webhook"] if settings.alert_webhook_url.strip() else []
    if settings.smtp_url is not None and settings.alert_addresses:
        found.append("email")
    return found


def payload(flag: domain.Flag, review: domain.Review, unit: domain.BusinessUnit, settings: Settings) -> dict[str, Any]:
    """The webhook's JSON: the flag (with its reason in the unit's language) and the public review."""
    locale = unit.locales[0] if unit.locales else "en"
    return {
        "event": "flag.created",
        "business_unit": {"slug": unit.slug, "name": unit.name},
        "flag": {
            "id": flag.id,
            "kind": flag.kind,
            "reason": reason(flag, locale),
            "locale": locale,
            "details": flag.details,
            "created_at": iso(flag.created_at),
        },
        "review": {
            **review_json(review, base_url=settings.public_url),  # its photos' URLs absolute, as the links here
            "status": review.status,
            "moderate_url": moderate_url(settings, review),
        },
    }


def moderate_url(settings: Settings, review: domain.Review) -> str:
    """Where a moderator reads and moderates the review (the admin API's review; PATCH it to hide or reply)."""
    return f"{settings.public_url.rstrip('/')}/v1/admin/reviews/{quote(review.id, safe=':')}"


def dispatch(state: ServiceState, settings: Settings, *, now: datetime, limit: int = 100) -> int:
    """Send up to `limit` due alerts; returns how many were sent. Each failure is recorded, none raises."""
    wanted = channels(settings)
    if not wanted:
        return 0  # nothing configured: the alerts stay due (and expire after a day) until a channel is
    sent, clock = 0, ticking(now)  # one delivery may take ~50 s: each claim counts from its own moment
    for _ in range(limit):
        at = clock()
        claim = flag_store.claim_alert(now=at, hold=CLAIM)
        if claim is None:
            break
        try:
            sent += _deliver(state, settings, claim, wanted, at)
        except Exception as exc:  # a bug or a store hiccup with one alert must not stop the others
            log.exception("alert %s failed unexpectedly", claim.flag.id)
            _failed(claim, list(claim.done), f"{type(exc).__name__}: {exc}", at)
    return sent


def _deliver(state: ServiceState, settings: Settings, claim: flag_store.Claim, wanted: list[str], now: datetime) -> int:
    flag, done = claim.flag, list(claim.done)
    if flag.created_at < now - GIVE_UP_AFTER:
        flag_store.alert_failed(claim, done, f"not delivered within {GIVE_UP_AFTER.days} day; given up", None)
        return 0
    try:
        review = repository.get_review(flag.review_id or "")
    except NotFound:
        flag_store.alert_failed(claim, done, "the review is gone (erased or deleted); nothing to send", None)
        return 0
    unit = repository.get_business_unit(state, flag.business_unit)
    errors: list[str] = []
    for channel in wanted:
        if channel in done:
            continue
        try:
            if channel == "webhook":
                _post(settings, payload(flag, review, unit, settings), now)
            else:
                message = alert_email(flag, review, unit, settings, moderate_url(settings, review))
                smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else ""
                send(smtp_url, message, timeout=MAIL_TIMEOUT)
        except (MailError, WebhookError) as exc:
            errors.append(f"{channel}: {exc}")
            continue
        done.append(channel)
        flag_store.alert_progress(claim, done)  # a retry after a crash sends only the channels still missing
    if errors:
        _failed(claim, done, "; ".join(errors), now)
        return 0
    if not flag_store.alert_sent(claim, done, now):
        log.warning("alert %s was sent, but its claim had expired meanwhile", flag.id)
    log.info("alert %s sent (%s)", flag.id, ", ".join(done))
    return 1


def _failed(claim: flag_store.Claim, done: list[str], error: str, now: datetime) -> None:
    attempt = claim.flag.alert_attempts + 1
    retry_at = now + backoff(attempt) if attempt < MAX_ATTEMPTS else None
    log.warning("alert %s: attempt %d failed (%s); %s", claim.flag.id, attempt, error,
                f"next at {retry_at:%H:%M:%S}" if retry_at else "given up")  # fmt: skip
    flag_store.alert_failed(claim, done, error, retry_at)


class WebhookError(Exception):
    """The webhook receiver did not take the alert (no answer, or not a 2xx)."""


def _post(settings: Settings, data: dict[str, Any], now: datetime) -> None:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    secret = settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else ""
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: signature(secret, body, int(now.timestamp())),
        "X-Reviews-Delivery": str(data["flag"]["id"]),  # the same on a retry: a receiver can drop repeats
    }
    try:
        with make_client(timeouts=WEBHOOK_TIMEOUTS) as client:
            response = client.post(settings.alert_webhook_url.strip(), content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise WebhookError(f"no answer from the webhook ({type(exc).__name__})") from exc
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"the webhook answered {response.status_code}")

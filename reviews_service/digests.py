"""The daily digest: built from the store, made into an e-mail, and sent once per business unit and day.

The scheduler looks every minute; once DIGEST_TIME has come in DIGEST_TIMEZONE, each unit's digest of its own
yesterday is claimed (digest_store.claim: one process wins), sent, and recorded as sent, so a restarted scheduler
or a second one never sends it again. A send that fails is recorded and tried again at a later look (the same
day only: the next day has its own digest). `POST .../digests/{date}/send` and `reviews digest --send` send on
request whatever was sent before.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reviews_service import (
    complaints,
    digest_chart,
    digest_render,
    digest_store,
    digest_text,
    domain,
    flag_reasons,
    flagging,
    mail,
    rating_buckets,
    repository,
)
from reviews_service.config import Settings, SettingsInvalid
from reviews_service.digest_links import Links, make_links
from reviews_service.digest_words import Words
from reviews_service.errors import ReviewsError
from reviews_service.leases import ticking
from sentiment.digest import ComplaintItem, Digest, FlagItem, build_digest, day_bounds, trend_start, yesterday

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.digest")
ONE_STAR_LIMIT = 50  # one-star reviews shown in full; more are counted ("and 12 more")
CLAIM_HOLD = timedelta(minutes=10)  # a sender that died mid-send: another process sends after this
RETRY_AFTER = timedelta(minutes=5)  # a failed send is tried again from then on
FLAGS_SHOWN = 20  # open flags listed (newest first)
COMPLAINT_DAYS = 30  # the complaints' window, against the one before
TOPICS_SHOWN, EXAMPLES = 5, 2  # complaint topics shown, and example reviews quoted per topic
# Reviews the complaint topics read, newest first (the endpoint reads up to 10,000): each costs a sentence analysis,
# and 10,000 took 3-6 s of a 100,000-review unit's digest on the embedded store, 3,000 about 1.2 s.
COMPLAINT_REVIEWS = 2000


class MailNotConfigured(ReviewsError):
    """SMTP_URL or DIGEST_RECIPIENTS is missing or wrong: no digest can be sent until it is set."""

    status = 503
    title = "E-mail not configured"
    type_slug = "mail-not-configured"


def build(state: ServiceState, business_unit: str, day: date, *, now: datetime) -> Digest:
    """The unit's digest of `day` (its own calendar day); NotFound for an unknown unit."""
    unit = repository.get_business_unit(state, business_unit)
    start, end = day_bounds(day, unit.timezone)
    if not rating_buckets.complete(unit.slug):  # its first digest: count what was stored before buckets were kept
        recount(state, unit.slug)
    ratings = rating_buckets.counts_between(unit.slug, trend_start(day, unit.timezone), end)
    one_stars = digest_store.one_star_reviews(unit.slug, start, end, ONE_STAR_LIMIT)
    products = repository.products(state, unit.slug, [r.product for r in one_stars if r.product])
    locale = unit.locales[0] if unit.locales else "en"
    pending: list[str] = []
    flags: list[FlagItem] = []
    topics: list[ComplaintItem] = []
    try:  # a section that cannot be read says so; the rest of the digest still goes out
        flags = _open_flags(unit.slug, locale, {r.id for r in one_stars})
    except Exception:
        log.exception("digest of %s for %s: open flags not available", unit.slug, day)
        pending.append("flags")
    try:
        topics = _complaints(state, unit.slug, locale, end)
    except Exception:
        log.exception("digest of %s for %s: complaint topics not available", unit.slug, day)
        pending.append("complaints")
    return build_digest(
        unit,
        day,
        now=now,
        ratings=ratings,
        one_stars=one_stars,
        products=products,
        flags=flags,
        complaints=topics,
        sections_pending=pending,
    )


SUBJECT_CHARS = 80


def _open_flags(business_unit: str, locale: str, shown: set[str]) -> list[FlagItem]:
    """The unit's open flags, newest first, but for the one-star flags of the reviews the digest shows in full."""
    flags = [
        f
        for f in flagging.open_flags(business_unit, limit=FLAGS_SHOWN + len(shown))
        if not (f.kind == "one-star" and f.review_id in shown)
    ][:FLAGS_SHOWN]
    reviews = repository.reviews_by_id(f.review_id for f in flags if f.review_id)
    found = []
    for flag in flags:
        review = reviews.get(flag.review_id or "")
        found.append(
            FlagItem(
                flag.id,
                flag.kind,
                flag_reasons.reason(flag, locale),
                flag.review_id,
                flag.created_at,
                subject=_subject(review) if review else "",
                author=review.author if review else "",
                review_created_at=review.created_at if review else None,
            )
        )
    return found


def _subject(review: domain.Review) -> str:
    """A review's title, or the first words of its text when it has none."""
    text = review.title.strip() or review.text.strip()
    return text if len(text) <= SUBJECT_CHARS else text[:SUBJECT_CHARS].rsplit(" ", 1)[0] + "…"


def _complaints(state: ServiceState, business_unit: str, locale: str, end: datetime) -> list[ComplaintItem]:
    """The top recurring complaint topics of the 30 days up to the day's end, against the 30 days before."""
    topics = complaints.complaint_topics(
        state, business_unit, now=end, days=COMPLAINT_DAYS, locale=locale, max_reviews=COMPLAINT_REVIEWS
    )
    ranked = sorted(topics.report.topics, key=lambda t: (not t.recurring, -t.count, t.label))
    return [
        ComplaintItem(
            topic=t.id,
            label=t.label,
            count=t.count,
            previous=t.previous_count,
            recurring=t.recurring,
            examples=tuple(zip(t.examples, t.excerpts, strict=False))[:EXAMPLES],
        )
        for t in ranked[:TOPICS_SHOWN]
        if t.count
    ]


def recount(state: ServiceState, business_unit: str) -> int:
    """Count the unit's rating buckets again from its reviews (the nightly check, and a unit's first digest)."""
    with state.ingest_locks[business_unit]:  # no ingest of this process moves them meanwhile
        return rating_buckets.rebuild(business_unit, repository.published_ratings(business_unit))


def links(settings: Settings, digest: Digest, *, now: datetime) -> Links:
    """The digest's links, its page link signed with REVIEWS_SECRET_KEY and valid 7 days from `now`."""
    secret = settings.secret_key.get_secret_value()
    return make_links(settings.public_url, secret, digest.business_unit, digest.day, now=now)


def message(settings: Settings, digest: Digest, to: list[str], *, now: datetime) -> EmailMessage:
    """The e-mail: plain text, and HTML with the score chart as an inline PNG (a `cid:` related part)."""
    words, where = Words(digest), links(settings, digest, now=now)
    cid = make_msgid(domain="digest.reviews")
    chart = (
        f'<img src="cid:{cid[1:-1]}" width="600" alt="{digest_render.esc(words.chart_title())}" '
        'style="display:block;width:100%;max-width:600px;height:auto;border:0">'
    )
    email = EmailMessage()
    email["Subject"] = words.subject()
    email["From"] = settings.mail_from
    email["To"] = ", ".join(to)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(domain="digest.reviews")
    email["Content-Language"] = digest.locale
    email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to it
    email["X-Reviews-Digest"] = f"{digest.business_unit} {digest.day.isoformat()}"
    email.set_content(digest_text.text(digest, where))
    email.add_alternative(digest_render.html(digest, where, chart), subtype="html")
    html_part = email.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)  # add_alternative made it one
    html_part.add_related(digest_chart.png(digest), maintype="image", subtype="png", cid=cid, filename="trend.png")
    return email


def recipients(settings: Settings) -> list[str]:
    """DIGEST_RECIPIENTS as addresses; MailNotConfigured when it is empty or holds a bad one."""
    try:
        found = mail.recipients(settings.digest_recipients)
    except ValueError as exc:
        raise MailNotConfigured(f"DIGEST_RECIPIENTS: {exc}") from None
    if not found:
        raise MailNotConfigured("DIGEST_RECIPIENTS is empty: set it to the addresses the digest goes to")
    return found


def smtp_url(settings: Settings) -> str:
    """SMTP_URL, or MailNotConfigured naming it."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        raise MailNotConfigured("SMTP_URL is not set: e.g. smtp://127.0.0.1:25 or smtp+starttls://user:pw@host:587")
    return settings.smtp_url.get_secret_value()


def send(state: ServiceState, settings: Settings, business_unit: str, day: date, *, now: datetime) -> Digest:
    """Send the unit's digest of `day` now, on request (whether or not it was sent before), and record it."""
    url, to = smtp_url(settings), recipients(settings)
    digest = build(state, business_unit, day, now=now)
    try:
        mail.send(url, message(settings, digest, to, now=now))
    except Exception:
        state.metrics.digests.labels("failed").inc()
        raise
    state.metrics.digests.labels("sent").inc()
    digest_store.mark_sent(business_unit, day, None, now=now)
    return digest


def check_settings(settings: Settings) -> None:
    """DIGEST_TIME and DIGEST_TIMEZONE as the scheduler needs them; SettingsInvalid naming the one that is wrong."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", settings.digest_time):
        raise SettingsInvalid(
            f"DIGEST_TIME must be a time of day as HH:MM (24 hours), e.g. 08:00; got {settings.digest_time[:20]!r}"
        )
    try:
        ZoneInfo(settings.digest_timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsInvalid(
            f"DIGEST_TIMEZONE must be a time zone name such as Europe/Amsterdam; got {settings.digest_timezone[:40]!r}"
        ) from None


def due_day(settings: Settings, timezone: str, now: datetime) -> date | None:
    """The day whose digest a unit in `timezone` is due now (its yesterday), or None before DIGEST_TIME."""
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    local = now.astimezone(ZoneInfo(settings.digest_timezone))
    if (local.hour, local.minute) < (hour, minute):
        return None
    return yesterday(now, timezone)


def send_due(state: ServiceState, settings: Settings, *, now: datetime, owner: str) -> list[str]:
    """The scheduler's look: send every unit's digest that is due and not sent yet; the keys it sent."""
    units = repository.list_business_units()
    due = [(unit, day) for unit in units if (day := due_day(settings, unit.timezone, now)) is not None]
    if not due:
        return []
    done = digest_store.settled([digest_store.digest_key(unit.slug, day) for unit, day in due], now=now)
    due = [(unit, day) for unit, day in due if digest_store.digest_key(unit.slug, day) not in done]
    if not due:
        return []
    url, to = smtp_url(settings), recipients(settings)
    sent, clock = [], ticking(now)  # each unit's claim counts from its own moment, not the look's start
    for unit, day in due:
        at = clock()
        if not digest_store.claim(unit.slug, day, owner, now=at, hold=CLAIM_HOLD):
            continue  # sent already, being sent by another process, or failed and waiting for its retry
        try:
            digest = build(state, unit.slug, day, now=at)
            mail.send(url, message(settings, digest, to, now=at))
        except Exception as exc:  # recorded and retried; one unit's failure never stops the others'
            reason = str(exc) or type(exc).__name__
            digest_store.mark_failed(unit.slug, day, owner, reason, retry_at=at + RETRY_AFTER)
            state.metrics.digests.labels("failed").inc()
            log.warning("digest of %s for %s not sent (tried again in 5 minutes): %s", unit.slug, day, exc)
            continue
        digest_store.mark_sent(unit.slug, day, owner, now=clock())
        state.metrics.digests.labels("sent").inc()
        log.info("digest of %s for %s sent to %d recipient(s)", unit.slug, day, len(to))
        sent.append(digest_store.digest_key(unit.slug, day))
    return sent

"""One-star alerts through real parts: a signed webhook POST to an HTTP receiver on 127.0.0.1 that checks the
signature as the README tells a receiver to, and an e-mail read back from a real SMTP server (aiosmtpd). The
alerts job is run with the time passed in: within a minute of arrival, once, retried after a failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from reviews_service import alerts, domain, flag_store, ingest, jobs
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import local_http_server, make_settings, review
from tests.mail_server import MailServer

BU = "test-shop"
SECRET = "alert-secret-for-tests-0123456789"
TOLERANCE = 300  # seconds a receiver accepts between the signature's t and its own clock


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """A receiver's check, as the README describes it (written here apart from the service's own code)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp, given = int(parts["t"]), parts["v1"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given) and abs(now - timestamp) <= TOLERANCE


@dataclass
class Receiver:
    """What the webhook receiver got: bodies whose signature held, and how many it refused."""

    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    refused: int = 0
    fail_next: int = 0  # answer 500 to this many more requests
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with got.lock:
                if got.fail_next > 0:
                    got.fail_next -= 1
                    status = 500
                elif verify(SECRET, self.headers.get("X-Reviews-Signature", "t=0,v1="), body, time.time()):
                    got.accepted.append(json.loads(body))
                    got.deliveries.append(self.headers["X-Reviews-Delivery"])
                    status = 204
                else:
                    got.refused += 1
                    status = 401
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with local_http_server(Handler) as url:
        got.url = url + "/hooks/reviews"
        yield got


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def alert_settings(receiver: Receiver | None, smtp: MailServer | None, **extra: object) -> Settings:
    values: dict[str, object] = {
        "DIGEST_RECIPIENTS": "directie@flinders.example",
        "MAIL_FROM": "reviews@flinders.example",
    }
    if receiver is not None:
        values.update(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET=SECRET)
    if smtp is not None:
        values["SMTP_URL"] = smtp.url
    values.update(extra)
    return make_settings(**values)


def arrive(state: ServiceState, external_id: str, now: datetime, **fields: object) -> None:
    """A one-star review arriving now (written an hour ago), with the reviewer's e-mail and order reference."""
    values: dict[str, object] = {
        "title": "Poot afgebroken <b>na één week</b>",
        "text": "De stoel brak. Ik wil mijn geld terug & snel!\nNooit meer.",
        "created_at": (now - timedelta(hours=1)).isoformat(),
        "email": "klant@example.nl",
        "order_ref": "ORD-4711",
    }
    record = review(external_id, rating=1, **{**values, **fields})
    report = ingest.ingest(state, BU, [record], now=now)
    assert report.inserted + report.updated == 1


def test_a_one_star_review_is_alerted_within_a_minute_once(
    shop: domain.BusinessUnit, state: ServiceState, receiver: Receiver, smtp: MailServer
) -> None:
    settings = alert_settings(receiver, smtp)
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=15)) == 1  # the job's next tick
    [body] = receiver.accepted
    assert receiver.refused == 0 and receiver.deliveries == [f"{BU}:one-star:{BU}:api:broken"]
    assert body["event"] == "flag.created" and body["flag"]["kind"] == "one-star"
    assert body["flag"]["reason"] == "1 ster" and body["flag"]["locale"] == "nl"
    assert body["review"]["text"] == "De stoel brak. Ik wil mijn geld terug & snel!\nNooit meer."
    assert body["review"]["moderate_url"] == f"http://127.0.0.1:8000/v1/admin/reviews/{BU}:api:broken"
    assert "klant@example.nl" not in json.dumps(body) and "ORD-4711" not in json.dumps(body)
    [message] = smtp.inbox.wait_for(1)
    assert message["Subject"] == "Beoordeling met 1 ster voor Test Shop: Poot afgebroken <b>na één week</b>"
    assert message["To"] == "directie@flinders.example" and message["From"] == "reviews@flinders.example"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "De stoel brak. Ik wil mijn geld terug & snel!\nNooit meer." in text
    assert "Er is zojuist een beoordeling met 1 ster binnengekomen voor Test Shop." in text
    assert "Poot afgebroken &lt;b&gt;na één week&lt;/b&gt;" in html and "<b>na" not in html
    assert "geld terug &amp; snel!" in html and f"/v1/admin/reviews/{BU}:api:broken" in html
    assert "klant@example.nl" not in message.as_string() and "ORD-4711" not in message.as_string()
    # later ticks, and the same review arriving again, send nothing more
    arrive(state, "broken", arrived + timedelta(seconds=20), text="De stoel brak. Anders verwoord.")
    for seconds in (25, 40, 3600):
        assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=seconds)) == 0
    time.sleep(0.3)
    assert len(receiver.accepted) == 1 and len(smtp.inbox.messages) == 1
    [flag] = flag_store.open_flags(BU)
    assert flag.alert == "sent" and flag.alert_sent_at is not None
    assert abs(flag.alert_sent_at - (arrived + timedelta(seconds=15))) < timedelta(milliseconds=1)  # BSON: ms


def test_the_scheduler_runs_the_alerts_job_well_within_a_minute(connected: object, state: ServiceState) -> None:
    settings = alert_settings(None, None)
    scheduler = jobs.build_scheduler(settings, state)
    try:
        [job] = [j for j in scheduler.schedule.jobs if "alerts" in j.tags]
        assert job.interval <= 15 and job.unit == "seconds"
    finally:
        scheduler.close()


def test_a_failed_webhook_is_retried_with_backoff_and_the_mail_is_not_sent_twice(
    shop: domain.BusinessUnit, state: ServiceState, receiver: Receiver, smtp: MailServer
) -> None:
    settings = alert_settings(receiver, smtp)
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    receiver.fail_next = 1
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=10)) == 0
    [flag] = flag_store.open_flags(BU)
    assert flag.alert == "pending" and flag.alert_attempts == 1 and "webhook answered 500" in (flag.alert_error or "")
    assert len(smtp.inbox.wait_for(1)) == 1  # the e-mail went on the first attempt
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=20)) == 0  # backing off (30 s)
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=41)) == 1
    assert len(receiver.accepted) == 1
    time.sleep(0.3)
    assert len(smtp.inbox.messages) == 1
    [flag] = flag_store.open_flags(BU)
    assert flag.alert == "sent" and flag.alert_attempts == 2 and flag.alert_error is None


def test_an_smtp_refusal_is_recorded_and_retried(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = alert_settings(None, smtp)
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    smtp.inbox.refuse = "451 4.3.0 mailbox busy, try later"
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=5)) == 0
    [flag] = flag_store.open_flags(BU)
    assert "451" in (flag.alert_error or "") and flag.alert == "pending"
    smtp.inbox.refuse = None
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=40)) == 1
    assert len(smtp.inbox.wait_for(1)) == 1


def test_an_alert_never_delivered_is_given_up_after_a_day(shop: domain.BusinessUnit, state: ServiceState) -> None:
    settings = alert_settings(None, None, SMTP_URL="smtp://127.0.0.1:1")  # nobody listens there
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=5)) == 0
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(days=1, seconds=10)) == 0
    [flag] = flag_store.open_flags(BU)
    assert flag.alert == "failed" and "given up" in (flag.alert_error or "")
    assert flag_store.claim_alert(now=arrived + timedelta(days=30), hold=timedelta(minutes=2)) is None


def test_with_no_channel_nothing_is_claimed(shop: domain.BusinessUnit, state: ServiceState) -> None:
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    assert jobs.send_alerts(state, make_settings(), now=arrived + timedelta(seconds=5)) == 0
    [flag] = flag_store.open_flags(BU)
    assert flag.alert == "pending" and flag.alert_attempts == 0


def test_a_claim_is_taken_by_one_sender_and_freed_when_it_expires(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    hold = timedelta(minutes=2)
    first = flag_store.claim_alert(now=arrived, hold=hold)
    assert first is not None
    assert flag_store.claim_alert(now=arrived + timedelta(seconds=30), hold=hold) is None  # held
    second = flag_store.claim_alert(now=arrived + hold + timedelta(seconds=1), hold=hold)  # the holder died
    assert second is not None and second.token != first.token
    assert not flag_store.alert_sent(first, ["webhook"], arrived)  # the stale holder cannot mark it any more
    assert flag_store.alert_sent(second, ["webhook"], arrived)


def test_bad_alert_settings_are_refused_with_the_rule() -> None:
    from reviews_service.config import SettingsInvalid, load_settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALERT_WEBHOOK_URL", "https://hooks.example/reviews")
        env.setenv("ALERT_RECIPIENTS", "directie@flinders.example, not-an-address")
        with pytest.raises(SettingsInvalid) as caught:
            load_settings()
    message = str(caught.value)
    assert "ALERT_WEBHOOK_SECRET must be set" in message and "'not-an-address' is not an e-mail address" in message


def test_an_alert_claimed_by_a_sender_that_died_is_sent_when_the_claim_expires(
    shop: domain.BusinessUnit, state: ServiceState, receiver: Receiver
) -> None:
    settings = alert_settings(receiver, None)
    arrived = datetime.now(UTC)
    arrive(state, "broken", arrived)
    assert flag_store.claim_alert(now=arrived, hold=alerts.CLAIM) is not None  # then its process is killed
    assert jobs.send_alerts(state, settings, now=arrived + timedelta(seconds=30)) == 0  # still claimed
    assert jobs.send_alerts(state, settings, now=arrived + alerts.CLAIM + timedelta(seconds=1)) == 1
    assert len(receiver.accepted) == 1

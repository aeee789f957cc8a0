"""Digests handed to a real SMTP server (aiosmtpd on 127.0.0.1) and read back: each unit's day exactly once, a
failed send tried again, a re-send only on request; with two real `reviews scheduler` processes on one data
directory, a Dutch and an English digest arrive once each. Every wait is bounded in time."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviews_service import digest_store, digests, domain, ingest, repository
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import ADMIN_TOKEN, NOW, REVIEWS, _env, make_settings, stop_process
from tests.mail_server import MailServer
from tests.test_scheduler_processes import on_disk

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 19)
AT_EIGHT = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam: DIGEST_TIME


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def mail_settings(smtp: MailServer, **extra: str) -> Settings:
    return make_settings(
        SMTP_URL=smtp.url, DIGEST_RECIPIENTS="director@shop.example, cfo@shop.example", DIGEST_TIME="08:00", **extra
    )


def shop(state: ServiceState, slug: str, locale: str) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug=slug, name=slug.title(), locales=(locale,)))
    at = datetime(2026, 11, 19, 10, tzinfo=UTC).isoformat()
    records = [
        {"source": "t", "external_id": "a", "rating": 1, "title": "Kapot", "text": "Poot brak.", "created_at": at},
        {"source": "t", "external_id": "b", "rating": 5, "title": "Top", "text": "Mooi.", "created_at": at},
    ]
    ingest.ingest(state, slug, records, now=NOW)


def subjects(messages: list[EmailMessage]) -> list[str]:
    return sorted(str(m["Subject"]) for m in messages)


def test_each_units_day_is_sent_once_however_often_the_scheduler_looks(
    connected: object, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    shop(state, "winkel", "nl")
    assert digests.send_due(state, settings, now=AT_EIGHT - timedelta(minutes=1), owner="a") == []  # 07:59
    assert digests.send_due(state, settings, now=AT_EIGHT, owner="a") == ["winkel:2026-11-19"]
    for owner, later in (("a", 1), ("b", 5), ("b", 600)):
        assert digests.send_due(state, settings, now=AT_EIGHT + timedelta(minutes=later), owner=owner) == []
    [message] = smtp.inbox.wait_for(1)
    time.sleep(0.3)
    assert len(smtp.inbox.messages) == 1
    assert message["Subject"] == "Winkel: 2 nieuwe beoordelingen op 19 nov 2026, gemiddeld 3,0"
    assert smtp.inbox.envelopes[0][1] == ["director@shop.example", "cfo@shop.example"]
    sent = digest_store.send_state("winkel", DAY)
    assert (sent.status, sent.sends, sent.attempts) == ("sent", 1, 1)
    # the next day has its own digest
    assert digests.send_due(state, settings, now=AT_EIGHT + timedelta(days=1), owner="b") == ["winkel:2026-11-20"]


def test_a_failed_send_is_tried_again_and_then_never_repeated(
    connected: object, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    shop(state, "winkel", "nl")
    smtp.inbox.refuse = "451 4.3.0 mailbox busy, try later"
    assert digests.send_due(state, settings, now=AT_EIGHT, owner="a") == []
    failed = digest_store.send_state("winkel", DAY)
    assert failed.status == "failed" and "451" in (failed.last_error or "")
    smtp.inbox.refuse = None
    soon = AT_EIGHT + digests.RETRY_AFTER - timedelta(seconds=1)
    assert digests.send_due(state, settings, now=soon, owner="b") == []  # not before its retry time
    assert digests.send_due(state, settings, now=AT_EIGHT + digests.RETRY_AFTER, owner="b") == ["winkel:2026-11-19"]
    assert digests.send_due(state, settings, now=AT_EIGHT + timedelta(hours=2), owner="a") == []
    assert len(smtp.inbox.wait_for(1)) == 1
    assert digest_store.send_state("winkel", DAY).attempts == 2


def test_a_sender_that_died_mid_send_is_taken_over_after_its_claim(connected: object, state: ServiceState) -> None:
    """A claim whose holder never recorded the outcome (killed mid-send) is free again after CLAIM_HOLD."""
    assert digest_store.claim("winkel", DAY, "dead", now=AT_EIGHT, hold=digests.CLAIM_HOLD)
    assert not digest_store.claim("winkel", DAY, "alive", now=AT_EIGHT + timedelta(minutes=9), hold=digests.CLAIM_HOLD)
    assert digest_store.claim("winkel", DAY, "alive", now=AT_EIGHT + timedelta(minutes=11), hold=digests.CLAIM_HOLD)


def test_send_on_request_sends_again_and_says_what_is_missing(
    client: TestClient, admin: dict[str, str], state: ServiceState, smtp: MailServer, settings: Settings
) -> None:
    shop(state, "shop", "en")
    settings.smtp_url = None  # the client's app reads this very object
    unset = client.post("/v1/admin/business-units/shop/digests/2026-11-19/send", headers=admin)
    assert unset.status_code == 503 and "SMTP_URL is not set" in unset.json()["detail"]
    configured = mail_settings(smtp)
    settings.smtp_url, settings.digest_recipients = configured.smtp_url, configured.digest_recipients
    for sends in (1, 2):
        sent = client.post("/v1/admin/business-units/shop/digests/2026-11-19/send", headers=admin)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"business_unit": "shop", "date": "2026-11-19", "recipients": 2, "sends": sends}
    assert subjects(smtp.inbox.wait_for(2)) == ["Shop: 2 new reviews on Nov 19, 2026, average 3.0"] * 2
    smtp.inbox.refuse = "554 5.7.1 rejected"
    refused = client.post("/v1/admin/business-units/shop/digests/2026-11-19/send", headers=admin)
    assert refused.status_code == 502 and "554" in refused.json()["detail"]


def _scheduler(data: Path, log: Path, smtp: MailServer) -> subprocess.Popen[str]:
    env = _env(
        REVIEWS_DATA_DIR=str(data),
        REVIEWS_SCHEDULER_RELOAD_SECONDS="1",  # and a digest look every second
        REVIEWS_ADMIN_TOKEN=ADMIN_TOKEN,
        MONGODB_DB=make_settings().mongodb_db,
        SMTP_URL=smtp.url,
        DIGEST_RECIPIENTS="director@shop.example",
        DIGEST_TIME="00:00",  # due from midnight: at once, whatever the time of the test
        DIGEST_TIMEZONE="UTC",
    )
    with log.open("w") as out:
        return subprocess.Popen(
            [*REVIEWS, "scheduler"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True
        )


def test_two_scheduler_processes_send_a_dutch_and_an_english_digest_once_each(tmp_path: Path, smtp: MailServer) -> None:
    """Both look every second from their start; one restarts: still one message per unit, in its language."""
    data = tmp_path / "data"
    with on_disk(data) as state:
        for slug, locale in (("winkel", "nl"), ("store", "en")):
            repository.save_business_unit(state, domain.BusinessUnit(slug=slug, name=slug.title(), locales=(locale,)))
        a, b = _scheduler(data, tmp_path / "a.log", smtp), _scheduler(data, tmp_path / "b.log", smtp)
        try:
            smtp.inbox.wait_for(2, timeout=60)
            time.sleep(3)  # a dozen more looks by each
            stop_process(a, grace=10)
            a = _scheduler(data, tmp_path / "a2.log", smtp)  # a restart looks at once
            time.sleep(4)
            assert a.poll() is None and b.poll() is None, _log(tmp_path, "a.log") + _log(tmp_path, "b.log")
        finally:
            stop_process(a, grace=10)
            stop_process(b, grace=10)
        messages = list(smtp.inbox.messages)
        day = datetime.now(UTC).date() - timedelta(days=1)
        keys = sorted(str(m["X-Reviews-Digest"]) for m in messages)
        assert keys == [f"store {day.isoformat()}", f"winkel {day.isoformat()}"], subjects(messages)
        by_unit = {str(m["X-Reviews-Digest"]).split()[0]: m for m in messages}
        dutch = by_unit["winkel"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        english = by_unit["store"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Gisteren geen nieuwe beoordelingen." in dutch and "Dagelijks overzicht" in dutch
        assert "No new reviews yesterday." in english and "Daily digest" in english
        for slug in ("winkel", "store"):
            assert digest_store.send_state(slug, day).sends == 1


def _log(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    return path.read_text() if path.exists() else ""


def test_reviews_digest_prints_the_day_and_refuses_a_bad_date(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with on_disk(data) as state:
        shop(state, "winkel", "nl")
    env = _env(REVIEWS_DATA_DIR=str(data), MONGODB_DB=make_settings().mongodb_db)
    run = [*REVIEWS, "digest", "-b", "winkel", "--date"]
    printed = subprocess.run([*run, "2026-11-19"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert "2 nieuwe beoordelingen" in printed.stdout and "★ Kapot" in printed.stdout and "Poot brak." in printed.stdout
    bad = subprocess.run([*run, "19-11-2026"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "'19-11-2026' is not a date: use YYYY-MM-DD" in bad.stderr
    unknown = subprocess.run(
        [*REVIEWS, "digest", "-b", "nope"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2 and "No business unit 'nope'" in unknown.stderr

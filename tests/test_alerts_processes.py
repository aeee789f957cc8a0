"""Two real `reviews scheduler` processes on one data directory send each one-star alert exactly once (webhook and
e-mail), also when one of them is replaced by a fresh process. Every wait is bounded in time."""

from __future__ import annotations

import subprocess
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reviews_service import domain, flag_store, ingest, repository
from tests.conftest import REVIEWS, review, stop_process
from tests.mail_server import MailServer
from tests.test_alerts import SECRET, Receiver, receiver  # noqa: F401  (the receiver fixture)
from tests.test_scheduler_processes import on_disk, scheduler, wait_for

ROOT = Path(__file__).resolve().parents[1]
ALERTS = 30


def alert_scheduler(data: Path, log: Path, hook: str, smtp_url: str) -> AbstractContextManager[subprocess.Popen[str]]:
    """One `reviews scheduler` process sending alerts every second."""
    return scheduler(
        data,
        log,
        entry=REVIEWS,
        REVIEWS_ALERT_EVERY_SECONDS="1",
        ALERT_WEBHOOK_URL=hook,
        ALERT_WEBHOOK_SECRET=SECRET,
        SMTP_URL=smtp_url,
        ALERT_RECIPIENTS="directie@flinders.example",
    )


def test_two_schedulers_send_each_alert_once(tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811
    data = tmp_path / "data"
    with MailServer() as smtp, on_disk(data) as state:
        repository.save_business_unit(state, domain.BusinessUnit(slug="flinders-nl", name="Flinders", locales=("nl",)))
        with (
            alert_scheduler(data, tmp_path / "a.log", receiver.url, smtp.url) as a,
            alert_scheduler(data, tmp_path / "b.log", receiver.url, smtp.url),
        ):
            time.sleep(1.5)  # both are up and polling
            now = datetime.now(UTC)
            for i in range(ALERTS):  # one at a time, as a webhook or the form would deliver them
                record = review(f"r{i}", rating=1, created_at=(now - timedelta(minutes=5)).isoformat())
                ingest.ingest(state, "flinders-nl", [record], now=datetime.now(UTC))
            wait_for(f"{ALERTS} webhook deliveries", lambda: len(receiver.deliveries) >= ALERTS, 45)
            smtp.inbox.wait_for(ALERTS, timeout=20)
            sent = lambda: [f.alert for f in flag_store.open_flags("flinders-nl", kind="one-star")] == ["sent"] * ALERTS  # noqa: E731
            wait_for("every alert recorded as sent", sent, 10)
            stop_process(a, grace=10)  # a restart: the replacement finds nothing left to send
            with alert_scheduler(data, tmp_path / "c.log", receiver.url, smtp.url):
                time.sleep(3)
        assert receiver.refused == 0
        assert sorted(receiver.deliveries) == sorted(set(receiver.deliveries)) and len(receiver.deliveries) == ALERTS
        flag_ids = [m["X-Reviews-Flag"] for m in smtp.inbox.messages]
        assert len(flag_ids) == ALERTS == len(set(flag_ids))
        assert [f.alert for f in flag_store.open_flags("flinders-nl", kind="one-star")] == ["sent"] * ALERTS
    logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
    assert "Traceback" not in logs, logs

"""The invitations job against a real SMTP server (aiosmtpd on 127.0.0.1), with the time passed in: the first
mail after its delay and not before, one reminder however often the job runs, nothing to buyers who reviewed,
opted out or were erased, nothing after the expiry, failures retried and then given up, and one mail when two
mailers (threads here, `reviews scheduler` processes below) take the same queue at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from reviews_service import documents, domain, invitation_links, invitation_mailer, invitation_store, jobs, repository
from reviews_service.config import Settings, SettingsInvalid, load_settings
from reviews_service.invitation_mailer import CLAIM, LAST_TRY, MAX_BACKOFF, backoff, send_due
from reviews_service.state import ServiceState
from tests.conftest import make_settings, stop_process
from tests.mail_server import Inbox, MailServer
from tests.test_scheduler_processes import on_disk, scheduler, wait_for

BU = "test-shop"
ORDERED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SECRET = make_settings().secret_key.get_secret_value()
NOTHING = {"sent": 0, "reminded": 0, "failed": 0, "skipped": 0}


def invitation(
    order_ref: str = "ORD-1", *, bu: str = BU, ordered: datetime = ORDERED, **fields: Any
) -> domain.Invitation:
    """An invitation as the admin API makes one: the first mail due 3 days after the order, valid 45 days."""
    values: dict[str, Any] = {
        "id": invitation_store.invitation_id(SECRET, bu, order_ref),
        "business_unit": bu,
        "order_ref": order_ref,
        "email": "jan@example.nl",
        "name": "Jan de Vries",
        "locale": "nl",
        "products": ("oak-chair",),
        "channel": "web",
        "created_at": ordered,
        "expires_at": ordered + timedelta(days=45),
        "send_at": ordered + timedelta(days=3),
    }
    values.update(fields)
    return domain.Invitation(**values)


def add(*invitations: domain.Invitation) -> list[str]:
    stored = invitation_store.add_invitations(invitations)
    assert stored == {i.id for i in invitations}
    return [i.id for i in invitations]


def day(n: float) -> datetime:
    """`n` days after the order."""
    return ORDERED + timedelta(days=n)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def mail_settings(smtp: MailServer, **extra: object) -> Settings:
    return make_settings(SMTP_URL=smtp.url, MAIL_FROM="reviews@shop.example", **extra)


def subjects(inbox: Inbox) -> list[str]:
    return [str(m["Subject"]) for m in inbox.messages]


def counts(**given: int) -> dict[str, int]:
    return {**NOTHING, **given}


def test_the_first_mail_waits_for_its_delay_and_its_link_opens_this_invitations_form(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    [invitation_id] = add(invitation())
    assert send_due(state, settings, now=day(3) - timedelta(minutes=1)) == NOTHING
    assert smtp.inbox.messages == []
    assert send_due(state, settings, now=day(3) + timedelta(seconds=30)) == counts(sent=1)
    [message] = smtp.inbox.wait_for(1)
    assert message["Subject"] == "Hoe was je bestelling bij Test Shop?" and message["To"].addresses[0].addr_spec == (
        "jan@example.nl"
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Oak chair" in text and "ORD-1" not in message.as_string()
    link = next(w for w in text.split() if w.startswith("http://127.0.0.1:8000/r/"))
    token = link.removeprefix("http://127.0.0.1:8000/r/")
    assert invitation_links.read_token(SECRET, token, now=day(4)) == invitation_id
    assert message["List-Unsubscribe"] == f"<{link}/unsubscribe>"
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.state(day(4)) == "sent" and stored.sent_at is not None
    assert abs(stored.sent_at - (day(3) + timedelta(seconds=30))) < timedelta(seconds=1)
    assert stored.reminder_at is not None and abs(
        stored.reminder_at - (stored.sent_at + timedelta(days=7))
    ) < timedelta(milliseconds=1)
    assert send_due(state, settings, now=day(3) + timedelta(minutes=5)) == NOTHING  # sent once


def test_one_reminder_after_the_units_days_however_often_the_job_runs(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    add(invitation("ORD-1"), invitation("ORD-2", email="piet@example.nl", name="Piet"))
    outcomes = [send_due(state, settings, now=day(n)) for n in (3, 3.5, 5, 9.99, 10.01, 10.02, 11, 20, 44, 50)]
    assert outcomes[0] == counts(sent=2) and outcomes[4] == counts(reminded=2)
    assert all(o == NOTHING for i, o in enumerate(outcomes) if i not in (0, 4))
    assert (
        sorted(subjects(smtp.inbox))
        == ["Herinnering: hoe was je bestelling bij Test Shop?"] * 2 + ["Hoe was je bestelling bij Test Shop?"] * 2
    )
    reminder = smtp.inbox.messages[-1]
    assert "Dit is de enige herinnering die we sturen." in reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for stored in map(invitation_store.get_invitation, (invitation("ORD-1").id, invitation("ORD-2").id)):
        assert stored.reminded_at is not None and stored.reminder_at is None


def test_a_reviewed_invitation_gets_no_reminder_and_one_reviewed_from_the_receipt_no_mail_at_all(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    mailed, receipt = add(invitation("ORD-1"), invitation("ORD-2", email="piet@example.nl"))
    invitation_store.record_submission(receipt, day(1))  # the QR code on the receipt, before the mail was due
    assert send_due(state, settings, now=day(3)) == counts(sent=1, skipped=1)
    invitation_store.record_submission(mailed, day(4))
    for n in (10, 11, 30):
        assert send_due(state, settings, now=day(n)) == NOTHING
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["jan@example.nl"]
    assert invitation_store.get_invitation(receipt).send_at is None  # out of the queue, not waiting in it


def test_a_unit_with_no_reminders_sends_the_first_mail_only(
    state: ServiceState, smtp: MailServer, connected: object
) -> None:
    policy = domain.InvitationPolicy(reminder_days=0)
    repository.save_business_unit(state, domain.BusinessUnit(slug="quiet", name="Quiet", invitations=policy))
    [invitation_id] = add(invitation(bu="quiet", products=()))
    assert send_due(state, mail_settings(smtp), now=day(3)) == counts(sent=1)
    assert invitation_store.get_invitation(invitation_id).reminder_at is None
    assert all(send_due(state, mail_settings(smtp), now=day(n)) == NOTHING for n in (10, 20, 44))
    assert len(smtp.inbox.messages) == 1


def test_opted_out_and_suppressed_addresses_are_never_mailed_in_any_unit(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug="other", name="Other Shop", locales=("en",)))
    settings = mail_settings(smtp)
    opted, elsewhere, erased, _fine = add(
        invitation("ORD-1"),
        invitation("ORD-9", bu="other", email=" JAN@Example.NL ", locale="en"),  # the same address, written otherwise
        invitation("ORD-2", email="erased@example.nl"),
        invitation("ORD-3", email="fine@example.nl"),
    )
    invitation_store.opt_out(SECRET, opted, day(1))
    invitation_store.suppress(SECRET, "erased@example.nl", "erased", day(1))
    assert send_due(state, settings, now=day(3)) == counts(sent=1, skipped=2)  # the opted-out one left the queue
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["fine@example.nl"]
    for invitation_id in (elsewhere, erased):
        stored = invitation_store.get_invitation(invitation_id)
        assert stored.send_at is None and stored.sent_at is None
        assert stored.mail_error == "not sent: the address asked for no more e-mail (or was erased)"
    later = [send_due(state, settings, now=day(n)) for n in (4, 10.01, 11)]
    assert later == [NOTHING, counts(reminded=1), NOTHING]  # the one that was mailed gets its reminder
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["fine@example.nl"] * 2


def test_an_expired_invitation_is_never_mailed_nor_reminded(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    [late] = add(invitation("ORD-1"))
    assert send_due(state, settings, now=day(46)) == counts(skipped=1)  # the scheduler was down for weeks
    assert invitation_store.get_invitation(late).send_at is None and smtp.inbox.messages == []
    assert invitation_store.get_invitation(late).mail_error == "expired"  # said, not dropped silently
    [short] = add(invitation("ORD-2", email="piet@example.nl", expires_at=ORDERED + timedelta(days=8)))
    assert send_due(state, settings, now=day(3)) == counts(sent=1)  # its link works 8 days: no reminder at day 10
    assert invitation_store.get_invitation(short).reminder_at is None
    assert send_due(state, settings, now=day(10)) == NOTHING and len(smtp.inbox.messages) == 1


def test_an_smtp_refusal_is_retried_with_a_capped_backoff_until_just_before_the_expiry_then_given_up(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = mail_settings(smtp)
    expires = day(3) + timedelta(days=2)  # a short window, so the test walks all of it
    [invitation_id] = add(invitation(expires_at=expires))
    smtp.inbox.refuse = "451 4.3.0 mailbox busy, try later"
    at, waits = day(3), []
    for attempt in range(1, 40):
        assert send_due(state, settings, now=at) == counts(failed=1), attempt
        stored = invitation_store.get_invitation(invitation_id)
        assert stored.mail_attempts == attempt and "451 4.3.0 mailbox busy" in (stored.mail_error or "")
        if stored.send_at is None:
            break
        waits.append(stored.send_at - at)
        assert send_due(state, settings, now=stored.send_at - timedelta(seconds=5)) == NOTHING
        at = stored.send_at + timedelta(seconds=1)
    assert waits[:5] == [timedelta(minutes=m) for m in (15, 30, 60, 120, 240)] and max(waits) == MAX_BACKOFF
    assert at >= expires - LAST_TRY - timedelta(seconds=2) and at < expires  # the last try came just before
    assert stored.mail_error is not None and stored.mail_error.startswith("given up: ")
    assert "expires" in stored.mail_error and stored.state(at) == "created"
    smtp.inbox.refuse = None
    assert send_due(state, settings, now=at + timedelta(hours=1)) == NOTHING and smtp.inbox.messages == []
    assert "given up" in caplog.text and "jan@example.nl" not in caplog.text


def test_a_refusal_that_quotes_the_address_keeps_it_out_of_the_log_and_a_later_try_succeeds(
    shop: domain.BusinessUnit, state: ServiceState, caplog: pytest.LogCaptureFixture
) -> None:
    class RefusesOnce(Inbox):
        refusals = 1

        async def handle_RCPT(
            self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
        ) -> str:
            if self.refusals:
                self.refusals -= 1
                return f"450 4.2.1 <{address}>: mailbox unavailable for now"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    server = MailServer()
    server.inbox = RefusesOnce()
    server._controller.handler = server.inbox  # before it starts: each connection is served by this handler
    with server as smtp:
        settings = mail_settings(smtp)
        [invitation_id] = add(invitation(email="Jan@Example.nl"))
        with caplog.at_level(logging.INFO, logger="reviews.invitations"):
            assert send_due(state, settings, now=day(3)) == counts(failed=1)
            refused = invitation_store.get_invitation(invitation_id)
            assert "refused the recipients <address>" in (refused.mail_error or "")
            assert send_due(state, settings, now=day(3) + backoff(1) + timedelta(seconds=1)) == counts(sent=1)
        assert len(smtp.inbox.wait_for(1)) == 1
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.mail_attempts == 0 and stored.mail_error is None and stored.sent_at is not None
    assert "jan@example.nl" not in caplog.text.lower() and invitation_id in caplog.text


def test_two_mailers_at_once_send_each_mail_once(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    ids = add(*(invitation(f"ORD-{n}", email=f"buyer{n}@example.nl") for n in range(24)))
    start, results = threading.Barrier(2), []

    def mailer() -> None:
        start.wait(10)
        results.append(send_due(state, settings, now=day(3)))

    threads = [threading.Thread(target=mailer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r["sent"] for r in results) == 24 and len(results) == 2
    smtp.inbox.wait_for(24)
    time.sleep(0.3)
    assert sorted(str(m["X-Reviews-Invitation"]) for m in smtp.inbox.messages) == sorted(ids)


def test_a_claim_of_a_mailer_that_died_is_sent_once_it_expires(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    settings = mail_settings(smtp)
    add(invitation())
    assert invitation_store.claim_mail("send_at", now=day(3), hold=CLAIM) is not None  # then its process is killed
    assert send_due(state, settings, now=day(3) + CLAIM - timedelta(seconds=1)) == NOTHING
    assert send_due(state, settings, now=day(3) + CLAIM + timedelta(seconds=1)) == counts(sent=1)
    assert len(smtp.inbox.wait_for(1)) == 1


def test_with_no_smtp_url_nothing_is_claimed_and_the_invitations_wait(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    [invitation_id] = add(invitation())
    told: set[str] = set()
    for _ in range(3):
        assert jobs.send_invitations(state, make_settings(), told, now=day(4)) == NOTHING
    assert caplog.text.count("SMTP_URL is not set") == 1
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.send_at == day(3) and stored.mail_attempts == 0
    assert jobs.send_invitations(state, mail_settings(smtp), told, now=day(4)) == counts(sent=1)


def test_the_mailer_reads_its_queues_through_their_declared_indexes(
    shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = documents.InvitationDoc._get_collection()
    seen: list[tuple[dict[str, Any], Any]] = []

    class Recording:
        def find_one_and_update(self, filter: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            seen.append((filter, kwargs.get("sort")))
            return collection.find_one_and_update(filter, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(collection, name)

    monkeypatch.setattr(documents.InvitationDoc, "_collection", Recording())
    add(invitation())
    send_due(state, mail_settings(smtp), now=day(3))
    send_due(state, mail_settings(smtp), now=day(10))
    indexed = {tuple(i["fields"]) for i in documents.InvitationDoc._meta["indexes"]}
    claims = [(f, s) for f, s in seen if "_id" not in f]
    assert {next(iter(f)) for f, _ in claims} == {"send_at", "reminder_at"}
    for filter, sort in claims:
        [(field, condition)] = filter.items()
        assert (field,) in indexed and set(condition) == {"$lte"} and sort == [(field, 1)]


@pytest.mark.parametrize("value", ["0", "-5", "7200", "often"])
def test_the_jobs_interval_is_validated(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWS_INVITATIONS_EVERY_SECONDS", value)
    with pytest.raises(SettingsInvalid, match="REVIEWS_INVITATIONS_EVERY_SECONDS"):
        load_settings()


def test_the_scheduler_looks_for_due_invitations_every_minute_by_default(
    connected: object, state: ServiceState
) -> None:
    for settings, interval in ((make_settings(), 60), (make_settings(REVIEWS_INVITATIONS_EVERY_SECONDS=5), 5)):
        scheduler = jobs.build_scheduler(settings, state)
        try:
            [job] = [j for j in scheduler.schedule.jobs if "invitations" in j.tags]
            assert (job.interval, job.unit) == (interval, "seconds")
        finally:
            scheduler.close()


def test_two_scheduler_processes_mail_each_invitation_once(tmp_path: Path, smtp: MailServer) -> None:
    """Two real `reviews scheduler` processes on one data directory, looking every second: each invitation that
    is due gets exactly one mail, and one not due yet gets none."""
    data, now = tmp_path / "data", datetime.now(UTC)
    with on_disk(data) as state:
        repository.save_business_unit(state, domain.BusinessUnit(slug=BU, name="Test Shop", locales=("nl",)))
        due = add(
            *(invitation(f"ORD-{n}", email=f"b{n}@example.nl", ordered=now - timedelta(days=3)) for n in range(8))
        )
        add(invitation("ORD-later", ordered=now))
        env = {"SMTP_URL": smtp.url, "REVIEWS_INVITATIONS_EVERY_SECONDS": "1", "MAIL_FROM": "reviews@shop.example"}
        with scheduler(data, tmp_path / "a.log", **env) as a, scheduler(data, tmp_path / "b.log", **env) as b:
            smtp.inbox.wait_for(8, timeout=90)
            time.sleep(3)  # a few more looks by each
            assert a.poll() is None and b.poll() is None
            stop_process(a, grace=10)
            stop_process(b, grace=10)
        sent = sorted(str(m["X-Reviews-Invitation"]) for m in smtp.inbox.messages)
        assert sent == sorted(due), sent
        wait_for("both states recorded", lambda: all(invitation_store.get_invitation(i).sent_at for i in due), 10)
        assert invitation_store.get_invitation(invitation("ORD-later").id).sent_at is None


def test_the_unsubscribe_link_names_the_same_token_as_the_form_link() -> None:
    token = invitation_links.make_token(SECRET, "abc", ORDERED)
    link = invitation_mailer.unsubscribe_link("https://reviews.example/", token)
    assert link == f"https://reviews.example/r/{token}/unsubscribe"

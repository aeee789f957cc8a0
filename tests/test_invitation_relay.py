"""The invitations job against a slow, absent or refusing relay (aiosmtpd on 127.0.0.1, small deadlines passed
in): a send never outlives its claim, so no mail goes out twice; a claim taken meanwhile is left alone; an outage
of a night loses nothing; a relay that is down ends the batch after one try; a recipient refused for good is
given up at once; and a unit that turns reminders off sends none of those already scheduled."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient

from reviews_service import documents, domain, invitation_store, mail
from reviews_service.invitation_mailer import send_due
from reviews_service.state import ServiceState
from tests.conftest import NOW
from tests.mail_server import Inbox, MailServer
from tests.test_invitation_mailer import NOTHING, add, counts, day, invitation, mail_settings

HOLD = timedelta(seconds=2.5)  # the claim, in place of CLAIM's 5 minutes
DEADLINE = 1.0  # one whole send, in place of MAIL_DEADLINE
STEP = 5.0  # one socket read: longer than the deadline, as MAIL_TIMEOUT is in production


class Slow(Inbox):
    """A relay that answers EHLO, MAIL and RCPT `stall` seconds late each (every step under the read timeout,
    the whole conversation over the deadline); `refused` recipients get a 550."""

    def __init__(self) -> None:
        super().__init__()
        self.stall = 0.0
        self.refused: set[str] = set()
        self.on_ehlo: list[Callable[[], object]] = []  # callables run when a client says EHLO (before the hand-over)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        for hook in self.on_ehlo:
            hook()
        await asyncio.sleep(self.stall)
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.stall)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.stall)
        if address in self.refused:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def slow_server() -> tuple[MailServer, Slow]:
    server = MailServer()
    server.inbox = handler = Slow()
    server._controller.handler = handler  # before it starts: each connection is served by this handler
    return server, handler


def run(state: ServiceState, smtp: MailServer, *, now: datetime) -> dict[str, int]:
    """One run of the invitations job with the short claim and deadlines of these tests."""
    return send_due(state, mail_settings(smtp), now=now, hold=HOLD, deadline=DEADLINE, timeout=STEP)


def message(to: str = "jan@example.nl") -> EmailMessage:
    out = EmailMessage()
    out["From"], out["To"], out["Subject"] = "reviews@shop.example", to, "test"
    out.set_content("test")
    return out


# --- a slow relay: one send never outlives its claim ------------------------------------------------------


def test_a_relay_that_trickles_is_abandoned_at_the_deadline_whatever_each_read_takes() -> None:
    server, handler = slow_server()
    handler.stall = 0.6  # each answer well within STEP; three of them past DEADLINE
    with server:
        started = time.monotonic()
        with pytest.raises(mail.MailError, match=r"did not take the mail within 1 s") as caught:
            mail.send(server.url, message(), timeout=STEP, deadline=DEADLINE)
        assert time.monotonic() - started < DEADLINE + 0.5
        assert caught.value.connection and not caught.value.permanent
        time.sleep(0.5)  # what the relay would still have done with the conversation
        assert server.inbox.messages == []


def test_a_slow_relay_never_gets_one_invitation_mailed_twice(shop: domain.BusinessUnit, state: ServiceState) -> None:
    """Without an overall deadline the first sender's conversation outlives its claim, the second claims the mail
    again and both hand it over; with it the first gives up in time, records a failure to retry, and the retry
    mails it once."""
    server, handler = slow_server()
    handler.stall = 0.9  # 2.7 s to get through EHLO, MAIL and RCPT: longer than HOLD
    [invitation_id] = add(invitation())
    with server:
        results: list[dict[str, int]] = []
        first = threading.Thread(target=lambda: results.append(run(state, server, now=day(3))))
        first.start()
        time.sleep(HOLD.total_seconds() + 0.1)  # a second runner looks once the first one's claim has ended
        second = run(state, server, now=day(3) + HOLD + timedelta(seconds=0.1))
        first.join(10)
        assert len(server.inbox.messages) == 0, "mailed by both senders"
        assert results == [counts(failed=1)] and second == NOTHING
        stored = invitation_store.get_invitation(invitation_id)
        assert "did not take the mail within 1 s" in (stored.mail_error or "") and stored.mail_attempts == 1
        assert stored.send_at is not None and stored.send_at > day(3) + timedelta(minutes=14)  # retried later
        handler.stall = 0
        assert run(state, server, now=stored.send_at + timedelta(seconds=1)) == counts(sent=1)
        server.inbox.wait_for(1)
        time.sleep(HOLD.total_seconds())  # anything still on its way arrives
        assert len(server.inbox.messages) == 1


def test_a_claim_taken_by_another_sender_before_the_hand_over_is_left_to_it(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    server, handler = slow_server()
    [invitation_id] = add(invitation())
    collection = documents.InvitationDoc._get_collection()
    # while this sender is connecting, its claim ends and another sender takes the mail
    handler.on_ehlo.append(lambda: collection.update_one({"_id": invitation_id}, {"$set": {"claim": "another"}}))
    with server:
        assert run(state, server, now=day(3)) == counts(skipped=1)
        time.sleep(0.3)
        assert server.inbox.messages == []
    raw = collection.find_one({"_id": invitation_id})
    assert raw["claim"] == "another" and raw.get("mail_attempts", 0) == 0 and raw.get("sent_at") is None
    assert raw.get("mail_error") is None  # nothing recorded over the other sender's claim


# --- an outage, a dead relay, a refused recipient ---------------------------------------------------------


def test_an_outage_of_a_night_loses_no_mail(shop: domain.BusinessUnit, state: ServiceState) -> None:
    server, _ = slow_server()  # not started yet: nothing listens on its port, every connection is refused
    [invitation_id] = add(invitation())
    at = day(3)
    while at < day(3) + timedelta(hours=10):
        assert run(state, server, now=at) == counts(failed=1)
        stored = invitation_store.get_invitation(invitation_id)
        assert "cannot reach" in (stored.mail_error or "")
        assert stored.send_at is not None, f"given up after {stored.mail_attempts} attempts"
        at = stored.send_at + timedelta(seconds=1)
    with server:  # the relay is back
        assert run(state, server, now=at) == counts(sent=1)
        assert len(server.inbox.wait_for(1)) == 1
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.sent_at is not None and stored.mail_error is None


@pytest.mark.parametrize("relay", ["refused", "hanging"])
def test_a_relay_that_is_down_ends_the_batch_after_one_try(
    shop: domain.BusinessUnit, state: ServiceState, relay: str
) -> None:
    """The next ones would fail the same way: they stay due, untried, and a hanging relay costs one deadline per
    run, not one per invitation."""
    server, handler = slow_server()
    handler.stall = 2.0 if relay == "hanging" else 0  # past DEADLINE at EHLO already
    first, *others = add(*(invitation(f"ORD-{n}", email=f"b{n}@example.nl") for n in range(3)))
    with contextlib.ExitStack() as relay_up:
        if relay == "hanging":
            relay_up.enter_context(server)  # else: not started yet, nothing listens on its port
        started = time.monotonic()
        assert run(state, server, now=day(3)) == counts(failed=1)
        assert time.monotonic() - started < DEADLINE + 0.5
        assert invitation_store.get_invitation(first).mail_attempts == 1
        for waiting in map(invitation_store.get_invitation, others):
            assert (waiting.mail_attempts, waiting.mail_error, waiting.send_at) == (0, None, day(3))
        handler.stall = 0
        if relay == "refused":
            relay_up.enter_context(server)  # the relay is back
        assert run(state, server, now=day(3) + timedelta(minutes=1)) == counts(sent=2)
        assert len(server.inbox.wait_for(2)) == 2


def test_a_recipient_refused_for_good_is_given_up_at_once_and_the_batch_goes_on(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    server, handler = slow_server()
    handler.refused.add("gone@example.nl")
    gone, fine = add(invitation("ORD-1", email="gone@example.nl"), invitation("ORD-2", email="fine@example.nl"))
    with server:
        assert run(state, server, now=day(3)) == counts(sent=1, failed=1)
        assert [r for _, rs in server.inbox.envelopes for r in rs] == ["fine@example.nl"]
    stored = invitation_store.get_invitation(gone)
    assert stored.send_at is None and stored.mail_attempts == 1  # out of the queue: no retry
    assert stored.mail_error == (
        f"not sent: {server.url} refused the recipients <address> (550 5.1.1 <<address>>: no such user here)"
    ), stored.mail_error
    assert invitation_store.get_invitation(fine).sent_at is not None


# --- reminders turned off after the first mails -----------------------------------------------------------


def test_reminders_turned_off_through_the_admin_api_are_not_sent_when_already_scheduled(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    order = {"business_unit": shop.slug, "order_ref": "R-1", "email": "jan@example.nl", "products": ["oak-chair"]}
    made = client.post("/v1/admin/invitations", json=order, headers=admin)
    assert made.status_code == 201, made.text
    invitation_id = made.json()["id"]
    with MailServer() as server:
        settings = mail_settings(server)
        assert send_due(state, settings, now=NOW + timedelta(days=3, minutes=1)) == counts(sent=1)
        assert invitation_store.get_invitation(invitation_id).reminder_at is not None  # scheduled for day 10
        changed = client.patch(
            f"/v1/admin/business-units/{shop.slug}", json={"invitations": {"reminder_days": 0}}, headers=admin
        )
        assert changed.status_code == 200 and changed.json()["invitations"]["reminder_days"] == 0
        assert send_due(state, settings, now=NOW + timedelta(days=10, hours=1)) == counts(skipped=1)
        assert send_due(state, settings, now=NOW + timedelta(days=20)) == NOTHING
        assert len(server.inbox.wait_for(1)) == 1
        time.sleep(0.2)
        assert len(server.inbox.messages) == 1
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.reminder_at is None and stored.reminded_at is None
    assert stored.mail_error == "reminder not sent: test-shop now sends none (reminder_days 0)"

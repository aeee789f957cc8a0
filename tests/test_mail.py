"""Handing mail to a real SMTP server (aiosmtpd on 127.0.0.1), and the errors a shop can act on."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from reviews_service import mail
from tests.mail_server import MailServer, _free_port


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def _message(to: str = "director@flinders.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "reviews@flinders.example"
    message["To"] = to
    message["Subject"] = "Dagelijks overzicht: 3 nieuwe beoordelingen"
    message.set_content("Één review met 1 ster — „niet geleverd“.")
    return message


def test_a_message_arrives_as_sent(smtp: MailServer) -> None:
    mail.send(smtp.url, _message())
    [got] = smtp.inbox.wait_for(1)
    assert got["Subject"] == "Dagelijks overzicht: 3 nieuwe beoordelingen"
    assert got.get_content().strip() == "Één review met 1 ster — „niet geleverd“."
    assert smtp.inbox.envelopes[0][1] == ["director@flinders.example"]


def test_a_refused_message_says_what_the_server_answered(smtp: MailServer) -> None:
    smtp.inbox.refuse = "451 4.3.0 mailbox busy, try later"
    with pytest.raises(mail.MailError, match="451"):
        mail.send(smtp.url, _message())


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = f"smtp://digest:s3cret-pass@127.0.0.1:{_free_port()}"
    with pytest.raises(mail.MailError, match=r"cannot reach smtp://digest@127\.0\.0\.1") as caught:
        mail.send(url, _message(), timeout=2)
    assert "s3cret" not in str(caught.value)


def test_login_with_the_url_credentials() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def check(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss word", handled=False)

    options = {"authenticator": check, "auth_require_tls": False}
    with MailServer(**options) as server:
        url = server.url.replace("smtp://", "smtp://digest:p%40ss%20word@")
        mail.send(url, _message())
        server.inbox.wait_for(1)
        with pytest.raises(mail.MailError, match="refused the user name or password"):
            mail.send(url.replace("p%40ss", "wrong"), _message())
    assert seen[0] == (b"digest", b"p@ss word")


@pytest.mark.parametrize(
    ("url", "problem"),
    [("http://127.0.0.1:25", "must start with"), ("smtp://", "no host"), ("smtp://h:99999", "port")],
)
def test_a_wrong_smtp_url_says_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(mail.MailError, match=problem):
        mail.send(url, _message())


def test_recipients_are_parsed_and_checked() -> None:
    assert mail.recipients("a@x.nl, b@y.be; a@x.nl  c@z.de") == ["a@x.nl", "b@y.be", "c@z.de"]
    assert mail.recipients("") == []
    with pytest.raises(ValueError, match="not an e-mail address"):
        mail.recipients("a@x.nl, director")

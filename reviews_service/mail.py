"""Handing e-mail to an SMTP server (digests and alerts), configured by one URL.

    smtp://host:25                plain SMTP (a local relay, a test server)
    smtp+starttls://host:587      upgrade with STARTTLS before logging in (most providers)
    smtps://host:465              TLS from the first byte
    smtp://user:password@host     log in; user and password are URL-encoded

smtplib's many exceptions (socket errors, refused recipients, bad credentials) become one MailError whose
message says what to fix, without the password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from reviews_service.errors import ReviewsError

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
MAX_RECIPIENTS = 50


class MailError(ReviewsError):
    status = 502
    title = "E-mail not sent"
    type_slug = "mail-failed"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand over mail: parsed from SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:  # for messages and logs: never the password
        who = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}"


def parse_url(smtp_url: str) -> SmtpServer:
    """SMTP_URL as a server; ValueError saying what is wrong with it."""
    parts = urlsplit(smtp_url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(f"SMTP_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host, e.g. smtp://127.0.0.1:8025")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError as exc:
        raise ValueError("SMTP_URL has a port that is not a number between 0 and 65535") from exc
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpServer(parts.scheme, parts.hostname, port, username, password)


def recipients(text: str) -> list[str]:
    """'a@x.nl, b@y.nl' (commas, semicolons or spaces between) as addresses; ValueError on a bad one."""
    found: list[str] = []
    for item in text.replace(";", ",").replace(" ", ",").split(","):
        item = item.strip()
        if not item:
            continue
        _, address = parseaddr(item)
        try:
            Address(addr_spec=address)
            valid = "@" in address
        except (ValueError, IndexError):
            valid = False
        if not valid:
            raise ValueError(f"{item[:80]!r} is not an e-mail address")
        if address not in found:
            found.append(address)
    if len(found) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} recipients; got {len(found)}")
    return found


def send(smtp_url: str, message: EmailMessage, *, timeout: float = 30.0) -> None:
    """Hand `message` (To/From set by the caller) to the server of `smtp_url`; MailError when it is not taken."""
    try:
        server = parse_url(smtp_url)
    except ValueError as exc:
        raise MailError(str(exc)) from exc
    if not message.get_all("To"):
        raise MailError("the message has no recipients (set DIGEST_RECIPIENTS / ALERT_RECIPIENTS)")
    try:
        _deliver(server, message, timeout)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{server} refused the user name or password in SMTP_URL ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))[:200]
        raise MailError(f"{server} refused the recipients {refused}") from exc
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise MailError(f"{server} answered {exc.smtp_code} {str(reply)[:200]}") from exc
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        raise MailError(f"{server}: {exc}"[:300]) from exc
    except TimeoutError as exc:
        raise MailError(f"{server} did not answer within {timeout:g} s") from exc
    except OSError as exc:
        raise MailError(f"cannot reach {server}: {exc.strerror or exc}") from exc


def _deliver(server: SmtpServer, message: EmailMessage, timeout: float) -> None:
    client: smtplib.SMTP
    # a TLS context only where TLS is spoken: making one reads the system's CA store (~70 ms a mail)
    if server.scheme == "smtps":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        if server.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(message)

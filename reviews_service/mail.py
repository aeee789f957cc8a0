"""Handing e-mail to an SMTP server (digests and alerts), configured by one URL.

    smtp://host:25                plain SMTP (a local relay, a test server)
    smtp+starttls://host:587      upgrade with STARTTLS before logging in (most providers)
    smtps://host:465              TLS from the first byte
    smtp://user:password@host     log in; user and password are URL-encoded

smtplib's many exceptions (socket errors, refused recipients, bad credentials) become one MailError whose
message says what to fix, without the password; it also says whether the relay itself failed (`connection`: the
next mail would fail the same way) and whether the recipient was refused for good (`permanent`: a 5xx to RCPT).

smtplib's timeout bounds each socket operation, so a relay that trickles its answers can hold one send for many
times that; `deadline` bounds the whole conversation (a watchdog shuts the socket down, which ends a blocked read).
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
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

    def __init__(self, detail: str, *, connection: bool = False, permanent: bool = False) -> None:
        super().__init__(detail)
        self.connection = connection  # the relay failed (unreachable, TLS, login, too slow), not this one mail
        self.permanent = permanent  # every recipient refused with a 5xx: trying again gets the same answer


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


def send(
    smtp_url: str,
    message: EmailMessage,
    *,
    timeout: float = 30.0,
    deadline: float | None = None,
    still_wanted: Callable[[], bool] | None = None,
) -> bool:
    """Hand `message` (To/From set by the caller) to the server of `smtp_url`; MailError when it is not taken.

    `timeout` bounds each socket operation, `deadline` (seconds) the whole conversation. `still_wanted` is asked
    once connected, right before the message is handed over: False abandons it unsent and send returns False."""
    try:
        server = parse_url(smtp_url)
    except ValueError as exc:
        raise MailError(str(exc)) from exc
    if not message.get_all("To"):
        raise MailError("the message has no recipients (set DIGEST_RECIPIENTS / ALERT_RECIPIENTS)")
    watchdog, step = _Watchdog(deadline), min(timeout, deadline or timeout)
    try:
        with watchdog:
            return _deliver(server, message, step, watchdog, still_wanted)
    except OSError as exc:  # smtplib's errors, ssl's and the socket's are all OSErrors
        if watchdog.fired:  # whatever the shut-down socket raised, the cause is the relay's slowness
            raise MailError(f"{server} did not take the mail within {deadline:g} s", connection=True) from exc
        raise _translated(server, exc, step) from exc


def _translated(server: SmtpServer, exc: OSError, timeout: float) -> MailError:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(f"{server} refused the user name or password in SMTP_URL ({exc.smtp_code})", connection=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(exc.recipients))[:200]
        replies = list(exc.recipients.values())
        codes = [code for code, _ in replies]
        first = replies[0][1].decode("utf-8", "replace") if replies and isinstance(replies[0][1], bytes) else ""
        answer = f" ({replies[0][0]} {first[:200]})" if replies else ""
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return MailError(f"{server} refused the recipients {refused}{answer}", permanent=permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        # a refused greeting, HELO or sender is the relay's (or our settings') problem, the same for every mail
        relay = isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError | smtplib.SMTPSenderRefused)
        return MailError(f"{server} answered {exc.smtp_code} {str(reply)[:200]}", connection=relay)
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPNotSupportedError | ssl.SSLError):
        return MailError(f"{server}: {exc}"[:300], connection=True)
    if isinstance(exc, smtplib.SMTPException):
        return MailError(f"{server}: {exc}"[:300])
    if isinstance(exc, TimeoutError):
        return MailError(f"{server} did not answer within {timeout:g} s", connection=True)
    return MailError(f"cannot reach {server}: {exc.strerror or exc}", connection=True)


class _Watchdog:
    """Ends an SMTP conversation that outlives its deadline: shuts its socket down, so a blocked read returns."""

    def __init__(self, seconds: float | None) -> None:
        self.fired = False
        self._client: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire) if seconds is not None else None

    def watch(self, client: smtplib.SMTP) -> None:
        with self._lock:
            self._client = client

    def __enter__(self) -> _Watchdog:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            # read at the moment it fires: STARTTLS replaces the socket, and it is None until connected
            sock = self._client.sock if self._client is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile: nothing left to end
                sock.shutdown(socket.SHUT_RDWR)


class _WatchedSMTP(smtplib.SMTP):
    def __init__(self, watchdog: _Watchdog, host: str, port: int, timeout: float) -> None:
        watchdog.watch(self)  # before connecting: the greeting itself may be what trickles
        super().__init__(host, port, timeout=timeout)


class _WatchedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, watchdog: _Watchdog, host: str, port: int, timeout: float) -> None:
        watchdog.watch(self)
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())


def _deliver(
    server: SmtpServer,
    message: EmailMessage,
    timeout: float,
    watchdog: _Watchdog,
    still_wanted: Callable[[], bool] | None,
) -> bool:
    client: smtplib.SMTP
    # a TLS context only where TLS is spoken: making one reads the system's CA store (~70 ms a mail)
    if server.scheme == "smtps":
        client = _WatchedSMTPSSL(watchdog, server.host, server.port, timeout)
    else:
        client = _WatchedSMTP(watchdog, server.host, server.port, timeout)
    with client:
        if server.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if server.username:
            client.login(server.username, server.password or "")
        client.ehlo_or_helo_if_needed()  # what send_message would do first: the check below comes after it
        if still_wanted is not None and not still_wanted():
            return False  # e.g. the mailer's claim on it ended while connecting: another sender has it now
        client.send_message(message)
    return True

"""The opt-out over HTTP: the page in the invitation's language with one POST button, the button and a mail
client's RFC 8058 one-click POST (to the List-Unsubscribe address read back from a real SMTP server), idempotent,
after the form's link has expired too; a forged token is a 404 page that changes nothing; and after it the
mailer sends that address nothing more, for another unit's invitation either."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from reviews_service import documents, domain, invitation_links, invitation_store, repository
from reviews_service.invitation_mailer import send_due
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings, serving
from tests.mail_server import MailServer
from tests.test_invitation_mailer import SECRET, add, invitation, mail_settings
from tests.test_scheduler_processes import on_disk, wait_for
from tests.test_widgets_browser import browser

__all__ = ["browser"]  # the fixture, imported for this module

PAGE_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer", "x-robots-tag": "noindex"}
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def path_of(invitation_id: str, expires_in: timedelta = timedelta(days=30)) -> str:
    """The unsubscribe path of an invitation's token (valid `expires_in` from the tests' NOW)."""
    return f"/r/{invitation_links.make_token(SECRET, invitation_id, NOW + expires_in)}/unsubscribe"


def assert_page(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    for name, value in PAGE_HEADERS.items():
        assert response.headers[name] == value, name  # type: ignore[attr-defined]
    return str(response.text)  # type: ignore[attr-defined]


WORDS = {
    "nl": ("Afmelden voor e-mails over beoordelingen", "Test Shop vraagt je per e-mail", "Afmelden",
           "Je bent afgemeld"),
    "en": ("Unsubscribe from review e-mails", "Test Shop asks you by e-mail", "Unsubscribe", "You are unsubscribed"),
    "de": ("Von E-Mails zu Bewertungen abmelden", "Test Shop fragt Sie per E-Mail", "Abmelden", "Sie sind abgemeldet"),
    "fr": ("Se désabonner des e-mails d’avis", "Test Shop vous demande par e-mail", "Se désabonner",
           "Vous êtes désabonné(e)"),
}  # fmt: skip


@pytest.mark.parametrize("locale", sorted(WORDS))
def test_the_page_asks_in_the_invitations_language_and_its_button_unsubscribes(
    client: TestClient, shop: domain.BusinessUnit, locale: str
) -> None:
    title, intro, button, done = WORDS[locale]
    [invitation_id] = add(invitation(locale=locale, name="Jan <b>de Vries</b>"))
    path = path_of(invitation_id)
    page = assert_page(client.get(path, headers={"accept-language": "nl"}), 200)
    assert f'<html lang="{locale}">' in page and f">{title}</h1>" in page and title in page and intro in page
    [form] = re.findall(r"<form[^>]*>", page)
    assert form == '<form method="post">'  # posts to the page's own address
    assert f">{button}</button>" in page and "<script" not in page
    assert "jan@example.nl" not in page and "ORD-1" not in page and "Vries" not in page
    assert invitation_store.get_invitation(invitation_id).opted_out_at is None  # opening the page changes nothing
    assert invitation_store.suppressed(SECRET, ["jan@example.nl"]) == set()
    confirmed = assert_page(client.post(path, data={"List-Unsubscribe": "One-Click"}), 200)
    assert done in confirmed and "<form" not in confirmed
    stored = invitation_store.get_invitation(invitation_id)
    assert stored.state(NOW) == "opted_out" and stored.opted_out_at == NOW and stored.send_at is None
    assert invitation_store.suppressed(SECRET, ["jan@example.nl"]) == {"jan@example.nl"}


def test_a_mail_clients_one_click_post_unsubscribes_and_the_mailer_sends_nothing_more_to_that_address(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, smtp: MailServer
) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug="other", name="Other Shop", locales=("en",)))
    settings = mail_settings(smtp)
    first, elsewhere = add(
        invitation("ORD-1"), invitation("ORD-7", bu="other", email="Jan@Example.NL", ordered=NOW, locale="en")
    )
    assert send_due(state, settings, now=NOW)["sent"] == 1  # the first one's mail (the other is not due yet)
    [message] = smtp.inbox.wait_for(1)
    header = str(message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = urlsplit(header.strip("<>"))
    assert (url.scheme, url.netloc) == ("http", "127.0.0.1:8000") and url.path.endswith("/unsubscribe")
    response = client.post(url.path, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert "Je bent afgemeld" in assert_page(response, 200)
    assert invitation_store.get_invitation(first).state(NOW) == "opted_out"
    assert invitation_store.get_invitation(first).reminder_at is None
    later = [send_due(state, settings, now=NOW + timedelta(days=n)) for n in (3.01, 7.01, 11, 30)]
    assert [o["sent"] + o["reminded"] for o in later] == [0, 0, 0, 0] and later[0]["skipped"] == 1
    assert len(smtp.inbox.messages) == 1
    assert invitation_store.get_invitation(elsewhere).sent_at is None  # another unit's invitation: not mailed


def test_unsubscribing_again_changes_nothing_and_the_page_then_says_so(
    client: TestClient, shop: domain.BusinessUnit
) -> None:
    [invitation_id] = add(invitation())
    path = path_of(invitation_id)
    assert_page(client.post(path), 200)  # RFC 8058 does not require the body to be read: none is needed
    first = invitation_store.get_invitation(invitation_id).opted_out_at
    again = assert_page(client.post(path, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK), 200)
    assert "Je bent afgemeld" in again
    assert invitation_store.get_invitation(invitation_id).opted_out_at == first
    page = assert_page(client.get(path), 200)
    assert "Je bent afgemeld" in page and "<form" not in page
    head = client.head(path)
    assert head.status_code == 200 and head.content == b"" and head.headers["cache-control"] == "no-store"
    assert documents.SuppressionDoc.objects.count() == 1


def test_an_expired_form_link_still_unsubscribes(client: TestClient, shop: domain.BusinessUnit) -> None:
    [invitation_id] = add(invitation(expires_at=NOW - timedelta(days=10)))
    path = path_of(invitation_id, expires_in=-timedelta(days=10))
    with pytest.raises(invitation_links.TokenRefused):
        invitation_links.read_token(SECRET, path.split("/")[2], now=NOW)  # the form would refuse it
    assert "<form" in assert_page(client.get(path), 200)
    assert_page(client.post(path), 200)
    assert invitation_store.get_invitation(invitation_id).opted_out_at == NOW


@pytest.mark.parametrize(
    "token",
    [
        "tampered",
        "not-a-token",
        "x" * 300,
        invitation_links.make_token("another-secret-key-0123456789", "0" * 24, NOW + timedelta(days=3)),
        "%C3%A9t%C3%A9",
    ],
)
def test_a_forged_token_is_a_404_page_and_changes_nothing(
    client: TestClient, shop: domain.BusinessUnit, token: str
) -> None:
    [invitation_id] = add(invitation())
    if token == "tampered":
        good = path_of(invitation_id).split("/")[2]
        token = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
    for method in ("GET", "POST"):
        response = client.request(method, f"/r/{token}/unsubscribe", headers={"accept-language": "de-DE,de;q=0.9"})
        page = assert_page(response, 404)
        assert "Dieser Abmeldelink ist ungültig" in page and '<html lang="de">' in page
    assert invitation_store.get_invitation(invitation_id).opted_out_at is None
    assert documents.SuppressionDoc.objects.count() == 0


def test_a_genuine_link_whose_invitation_is_gone_is_a_404_page(client: TestClient, shop: domain.BusinessUnit) -> None:
    [invitation_id] = add(invitation())
    documents.InvitationDoc.objects(id=invitation_id).delete()  # erased
    for method in ("GET", "POST"):
        page = assert_page(client.request(method, path_of(invitation_id)), 404)
        assert "This invitation no longer exists" in page
    assert documents.SuppressionDoc.objects.count() == 0


def test_reviews_serve_mails_the_invitation_and_unsubscribing_by_keyboard_or_one_click_stops_the_next(
    tmp_path: Path, smtp: MailServer, browser: Browser
) -> None:
    """A real `reviews serve` (its in-process scheduler looking every second) mails a due invitation. The buyer
    opens its footer link in Chromium with JavaScript off and presses the button by keyboard; a mail client's
    one-click POST to the List-Unsubscribe address then changes nothing more. The same buyer's next order, due a
    moment later, gets no mail."""
    data, now = tmp_path / "data", datetime.now(UTC)
    with on_disk(data) as state:
        repository.save_business_unit(state, domain.BusinessUnit(slug="test-shop", name="Test Shop", locales=("nl",)))
        [first] = add(invitation("ORD-1", ordered=now - timedelta(days=3)))
        env = {
            "REVIEWS_DATA_DIR": str(data), "SMTP_URL": smtp.url, "REVIEWS_INVITATIONS_EVERY_SECONDS": "1",
            "REVIEWS_LOAD_DEMO": "false", "MONGODB_DB": make_settings().mongodb_db,
        }  # fmt: skip
        with serving(tmp_path / "serve.log", **env) as (url, _):
            [message] = smtp.inbox.wait_for(1, timeout=60)
            html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
            footer = re.findall(r'href="([^"]*/unsubscribe)"', html)
            assert footer == [str(message["List-Unsubscribe"]).strip("<>")]
            path = urlsplit(footer[0]).path
            context = browser.new_context(java_script_enabled=False)
            try:
                page = context.new_page()
                assert page.goto(url + path).status == 200  # type: ignore[union-attr]
                page.keyboard.press("Tab")  # the button is the page's one control
                assert page.locator("button:focus").inner_text() == "Afmelden"
                page.keyboard.press("Enter")
                page.get_by_role("heading", name="Je bent afgemeld").wait_for(timeout=10_000)
            finally:
                context.close()
            assert invitation_store.get_invitation(first).opted_out_at is not None
            with httpx.Client(base_url=url, timeout=30) as http:
                answer = http.post(path, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
                assert answer.status_code == 200 and "Je bent afgemeld" in answer.text
            [second] = add(invitation("ORD-2", ordered=now - timedelta(days=3)))
            wait_for(
                "the next order to leave the queue", lambda: invitation_store.get_invitation(second).send_at is None, 30
            )
        assert invitation_store.get_invitation(second).sent_at is None and len(smtp.inbox.messages) == 1

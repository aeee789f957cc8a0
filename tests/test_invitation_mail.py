"""The invitation e-mail as a buyer gets it: composed, handed to a real SMTP server (aiosmtpd on 127.0.0.1) and
read back. In each of the four languages: the kind subject, the shop, the order's date and products, the form's
link (and one per star), both parts, the unsubscribe link and headers; hostile names escaped and kept out of the
headers' structure; no order reference anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from reviews_service import domain, mail
from reviews_service.invitation_mail import MAX_PRODUCTS, Unmailable, compose
from tests.mail_server import MailServer

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ORDERED = datetime(2026, 11, 16, 23, 30, tzinfo=UTC)  # 00:30 on the 17th in Amsterdam, the shop's time zone
LINK = "https://reviews.flinders.example/r/TOKEN.abc"
UNSUBSCRIBE = LINK + "/unsubscribe"
UNIT = domain.BusinessUnit(slug="flinders-nl", name="Flinders", timezone="Europe/Amsterdam", locales=("nl",))
PRODUCTS = {
    "oak-chair": domain.Product("flinders-nl", "oak-chair", "Eiken stoel Hugo"),
    "lamp": domain.Product("flinders-nl", "lamp", "Lamp Lumi"),
}


def invitation(locale: str = "nl", **fields: object) -> domain.Invitation:
    values: dict[str, object] = {
        "id": "5f1e2d3c4b5a69788796a5b4",
        "business_unit": "flinders-nl",
        "order_ref": "ORD-2026-4711",
        "email": "jan.devries@example.nl",
        "name": "Jan de Vries",
        "locale": locale,
        "products": ("oak-chair", "lamp"),
        "channel": "web",
        "created_at": ORDERED,
        "expires_at": ORDERED + timedelta(days=45),
        "send_at": ORDERED + timedelta(days=3),
    }
    values.update(fields)
    return domain.Invitation(**values)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def through(smtp: MailServer, message: EmailMessage) -> EmailMessage:
    """The message as the SMTP server received it, parsed again."""
    before = len(smtp.inbox.messages)
    mail.send(smtp.url, message, timeout=10)
    return smtp.inbox.wait_for(before + 1)[-1]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


WORDS = {
    "nl": ("Hoe was je bestelling bij Flinders?", "Hallo Jan de Vries,", "17 november 2026", "Schrijf je beoordeling",
           "3 sterren", "Afmelden", "1 januari 2027"),
    "en": ("How was your order at Flinders?", "Hello Jan de Vries,", "November 17, 2026", "Write your review",
           "3 stars", "Unsubscribe", "January 1, 2027"),
    "de": ("Wie war Ihre Bestellung bei Flinders?", "Hallo Jan de Vries,", "17. November 2026", "Bewertung schreiben",
           "3 Sterne", "Abmelden", "1. Januar 2027"),
    "fr": ("Comment s’est passée votre commande chez Flinders ?", "Bonjour Jan de Vries,", "17 novembre 2026",
           "Donner mon avis", "3 étoiles", "Se désabonner", "1 janvier 2027"),
}  # fmt: skip


@pytest.mark.parametrize("locale", sorted(WORDS))
def test_each_language_gets_its_subject_shop_products_date_and_links(smtp: MailServer, locale: str) -> None:
    subject, hello, ordered, button, stars, unsubscribe, until = WORDS[locale]
    sent = compose(
        invitation(locale), UNIT, PRODUCTS, link=LINK, unsubscribe_link=UNSUBSCRIBE, reminder=False,
        mail_from="reviews@flinders.example", now=NOW,
    )  # fmt: skip
    got = through(smtp, sent)
    assert got["Subject"] == subject
    assert got["From"] == "Flinders <reviews@flinders.example>"
    assert got["To"] == "Jan de Vries <jan.devries@example.nl>"
    assert smtp.inbox.envelopes[-1][1] == ["jan.devries@example.nl"]
    assert got["Date"] == "Fri, 20 Nov 2026 12:00:00 +0000"
    assert got["Message-ID"] == "<invitation.5f1e2d3c4b5a69788796a5b4.first@flinders.example>"
    assert got["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Auto-Submitted"] == "auto-generated"
    assert got.get_content_type() == "multipart/alternative"
    text, html = parts(got)
    for part in (text, html):
        assert hello in part and ordered in part and until in part
        assert "Eiken stoel Hugo" in part and "Lamp Lumi" in part
        assert button in part and unsubscribe in part
        assert UNSUBSCRIBE in part
    colon = " : " if locale == "fr" else ": "  # French typography: a space before the colon
    assert f"{button}{colon}{LINK}\n" in text and f"{unsubscribe}{colon}{UNSUBSCRIBE}\n" in text
    assert f'<a href="{LINK}"' in html and f'lang="{locale}"' in html and stars in html
    assert [f"{LINK}?rating={n}" for n in range(1, 6)] == re.findall(r'href="([^"]*\?rating=\d)"', html)
    assert "?rating=" not in text  # the plain part keeps to the one link
    assert "<img" not in html and "<script" not in html and "<link" not in html  # reads the same, images blocked
    assert "ORD-2026-4711" not in got.as_string()


def test_the_reminder_says_it_is_one_and_the_only_one(smtp: MailServer) -> None:
    first = compose(
        invitation("en"), UNIT, PRODUCTS, link=LINK, unsubscribe_link=UNSUBSCRIBE, reminder=False,
        mail_from="reviews@flinders.example", now=NOW,
    )  # fmt: skip
    again = through(
        smtp,
        compose(
            invitation("en"), UNIT, PRODUCTS, link=LINK, unsubscribe_link=UNSUBSCRIBE, reminder=True,
            mail_from="reviews@flinders.example", now=NOW + timedelta(days=7),
        ),
    )  # fmt: skip
    assert again["Subject"] == "Reminder: how was your order at Flinders?"
    assert again["Message-ID"] != first["Message-ID"]
    text, html = parts(again)
    assert "we would still love to hear it" in text and "This is the only reminder we send." in text
    assert "This is the only reminder we send." in html
    assert "only reminder" not in parts(first)[0]
    assert again["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"


def test_hostile_shop_product_and_buyer_names_are_escaped_and_stay_out_of_the_headers(smtp: MailServer) -> None:
    unit = domain.BusinessUnit(slug="evil", name='Evil <script>alert(1)</script> & "Co"\r\nBcc: all@victims.example')
    products = {"x": domain.Product("evil", "x", '<img src=x onerror=alert(1)>\n"Chair" & <b>table</b>')}
    buyer = invitation("en", name='"Jan"\r\nBcc: spy@example.org <b>bold</b>', products=("x",))
    got = through(
        smtp,
        compose(
            buyer, unit, products, link=LINK + '"><script>x</script>', unsubscribe_link=UNSUBSCRIBE, reminder=False,
            mail_from="reviews@flinders.example", now=NOW,
        ),
    )  # fmt: skip
    assert got["Bcc"] is None and smtp.inbox.envelopes[-1][1] == ["jan.devries@example.nl"]
    assert got["Subject"] == 'How was your order at Evil <script>alert(1)</script> & "Co" Bcc: all@victims.example?'
    assert got["To"].addresses[0].addr_spec == "jan.devries@example.nl"
    assert got["From"].addresses[0].addr_spec == "reviews@flinders.example"
    assert got["From"].addresses[0].display_name.startswith("Evil <script>")
    text, html = parts(got)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;Chair&quot; &amp; &lt;b&gt;table&lt;/b&gt;" in html
    assert "&quot;Jan&quot; Bcc: spy@example.org &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="https://reviews.flinders.example/r/TOKEN.abc&quot;&gt;&lt;script&gt;' in html
    assert '- <img src=x onerror=alert(1)> "Chair" & <b>table</b>' in text  # plain text: as written, one line


def test_a_long_order_lists_ten_products_and_counts_the_rest_and_an_unknown_sku_is_named_by_itself() -> None:
    skus = tuple(f"sku-{n:02d}" for n in range(12))
    catalogue = {sku: domain.Product("flinders-nl", sku, f"Product {sku}") for sku in skus[1:]}
    message = compose(
        invitation("nl", products=(*skus, skus[3])), UNIT, catalogue, link=LINK, unsubscribe_link=UNSUBSCRIBE,
        reminder=False, mail_from="reviews@flinders.example", now=NOW,
    )  # fmt: skip
    text, html = parts(message)
    assert "- sku-00\n- Product sku-01\n" in text and text.count("- Product sku-03") == 1
    assert text.count("\n- ") == MAX_PRODUCTS and "en nog 2 producten" in text and "en nog 2 producten" in html


def test_a_buyer_without_a_name_is_greeted_and_one_without_a_usable_address_is_unmailable() -> None:
    message = compose(
        invitation("de", name="  ", products=()), UNIT, {}, link=LINK, unsubscribe_link=UNSUBSCRIBE, reminder=False,
        mail_from="Reviews <reviews@flinders.example>", now=NOW,
    )  # fmt: skip
    text, _ = parts(message)
    assert text.startswith("Hallo,\n") and message["To"] == "jan.devries@example.nl"
    assert message["From"] == "Flinders <reviews@flinders.example>"
    assert "Was Sie bestellt haben" not in text  # no products: no empty list
    for email in (None, "not-an-address", "jan@example.nl\r\nBcc: x@y.example"):
        with pytest.raises(Unmailable):
            compose(
                invitation("de", email=email), UNIT, {}, link=LINK, unsubscribe_link=UNSUBSCRIBE, reminder=False,
                mail_from="reviews@flinders.example", now=NOW,
            )  # fmt: skip

"""A buyer's whole journey, through a real `reviews serve` and a real SMTP server, over HTTP only.

The shop creates invitations with the admin API; the service's own scheduler mails them; the test reads each mail
back from the SMTP server, follows the link in it to the form, submits it (with a photo), and finds a verified
review in the summaries, the public list and the widgets. The invitation that is never answered gets exactly one
reminder; the one whose buyer unsubscribed gets none.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from tests.conftest import LIVE_ADMIN_TOKEN, serving
from tests.mail_server import MailServer

BU = "journey-shop"
ADMIN = {"Authorization": f"Bearer {LIVE_ADMIN_TOKEN}"}
REMINDER_DAYS = 0.00025  # 21.6 s: long enough for the test to answer and opt out first, short enough to watch
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def _to(message: EmailMessage) -> str:
    return str(message["To"])


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 80)).save(out, "JPEG")
    return out.getvalue()


def _setup_shop(http: httpx.Client) -> None:
    unit = {
        "slug": BU, "name": "Journey Möbel", "domain": "journey.example", "locales": ["de", "nl"],
        "timezone": "Europe/Berlin", "invitations": {"delay_days": 0, "reminder_days": REMINDER_DAYS},
    }  # fmt: skip
    assert http.post("/v1/admin/business-units", json=unit, headers=ADMIN).status_code in (200, 201)
    products = [{"sku": "eiche-stuhl", "name": "Eichenstuhl"}, {"sku": "lampe-7", "name": "Messinglampe"}]
    assert http.post(f"/v1/admin/business-units/{BU}/products", json=products, headers=ADMIN).status_code == 200


def _invite(http: httpx.Client, order_ref: str, email: str, name: str, locale: str) -> dict[str, str]:
    order = {
        "business_unit": BU, "order_ref": order_ref, "email": email, "name": name, "locale": locale,
        "products": ["eiche-stuhl", "lampe-7"], "channel": "web",
    }  # fmt: skip
    answer = http.post("/v1/admin/invitations", json=order, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    made: dict[str, str] = answer.json()
    assert order_ref not in made["link"] and email not in made["link"]
    return made


def test_from_the_invitation_mail_to_a_verified_review_on_the_widgets_with_one_reminder_and_the_opt_out_kept(
    tmp_path: Path, smtp: MailServer
) -> None:
    """Three orders: Anna reviews from her mail's link, Bram never answers (one reminder, never two), Chloé
    unsubscribes with her mail client's one-click (no reminder)."""
    env = {
        "REVIEWS_DATA_DIR": str(tmp_path / "data"), "SMTP_URL": smtp.url, "REVIEWS_INVITATIONS_EVERY_SECONDS": "1",
        "REVIEWS_LOAD_DEMO": "false", "REVIEWS_ADMIN_TOKEN": LIVE_ADMIN_TOKEN,
    }  # fmt: skip
    with serving(tmp_path / "serve.log", **env) as (url, _), httpx.Client(base_url=url, timeout=30) as http:
        _setup_shop(http)
        anna = _invite(http, "DE-1001", "anna.bakker@example.de", "Anna Bakker", "de")
        bram = _invite(http, "NL-1002", "bram@example.nl", "Bram de Vries", "nl")
        chloe = _invite(http, "FR-1003", "chloe@example.fr", "Chloé Martin", "fr")

        mails = {_to(m): m for m in smtp.inbox.wait_for(3, timeout=60)}
        anna_mail = next(m for to, m in mails.items() if "anna.bakker@example.de" in to)
        assert "Journey Möbel" in str(anna_mail["Subject"]) and "DE-1001" not in anna_mail.as_string()
        text = anna_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Eichenstuhl" in text and "Messinglampe" in text
        [link] = {u for u in re.findall(r"https?://\S+/r/[A-Za-z0-9._-]+", text) if "unsubscribe" not in u}
        assert link == anna["link"]
        form_path = urlsplit(link).path

        page = http.get(form_path)  # the link in the mail opens the form, in German, without any script
        assert page.status_code == 200 and '<html lang="de"' in page.text and "<script" not in page.text
        assert "Eichenstuhl" in page.text and "anna.bakker" not in page.text and "DE-1001" not in page.text
        fields = {
            "rating": "4", "title": "Schnell geliefert", "text": "Gut verpackt, <b>freundlich</b>.",
            "rating.eiche-stuhl": "5", "title.eiche-stuhl": "Wunderschön", "text.eiche-stuhl": "Sitzt bequem.",
            "website": "",
        }  # fmt: skip
        files = {"photo.eiche-stuhl": ("stuhl.jpg", _jpeg(), "image/jpeg")}
        sent = http.post(form_path, data=fields, files=files)
        assert sent.status_code == 303, sent.text[:500]
        assert http.get(sent.headers["location"]).status_code == 200  # the thank-you page

        shop_summary = http.get(f"/v1/business-units/{BU}/summary").json()
        chair_summary = http.get(f"/v1/business-units/{BU}/products/eiche-stuhl/summary").json()
        assert shop_summary["review_count"] == 1 and shop_summary["histogram"]["4"] == 1
        assert chair_summary["review_count"] == 1 and chair_summary["histogram"]["5"] == 1
        listed = http.get(f"/v1/business-units/{BU}/reviews", params={"product": "eiche-stuhl"}).json()["items"]
        [review] = listed
        assert review["verified"] is True and review["author"] == "Anna B." and review["title"] == "Wunderschön"
        assert len(review["photos"]) == 1 and http.get(review["photos"][0]["thumbnail_url"]).status_code == 200
        public = http.get(f"/v1/business-units/{BU}/reviews").text + http.get(f"/widgets/{BU}/reviews.html").text
        for secret in ("anna.bakker@example.de", "DE-1001", "Bakker"):
            assert secret not in public
        widget = http.get(f"/widgets/{BU}/reviews.html").text
        assert "Schnell geliefert" in widget and "&lt;b&gt;freundlich&lt;/b&gt;" in widget
        stars = http.get(f"/widgets/{BU}/products/eiche-stuhl/stars.html").text
        assert "5" in stars

        # Chloé's mail client unsubscribes from the header of her mail
        chloe_mail = next(m for to, m in mails.items() if "chloe@example.fr" in to)
        unsubscribe = urlsplit(str(chloe_mail["List-Unsubscribe"]).strip("<>")).path
        assert http.post(unsubscribe, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK).status_code == 200

        # Bram's reminder comes once; the job keeps looking every second and sends nothing more
        [reminder] = smtp.inbox.wait_for(4, timeout=90)[3:]
        assert "bram@example.nl" in _to(reminder) and "Herinnering" in str(reminder["Subject"])
        time.sleep(5)  # five more looks of the job
        assert len(smtp.inbox.messages) == 4

        states = {
            item["id"]: item["state"]
            for item in http.get("/v1/admin/invitations", params={"business_unit": BU}, headers=ADMIN).json()["items"]
        }
        assert states == {anna["id"]: "reviewed", bram["id"]: "sent", chloe["id"]: "opted_out"}

        # a second order from Chloé is made, but never mailed: her address is on the suppression list
        again = _invite(http, "FR-1004", "chloe@example.fr", "Chloé Martin", "fr")
        assert again["mail"] == "suppressed"
        time.sleep(3)
        assert len(smtp.inbox.messages) == 4

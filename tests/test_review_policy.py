"""The review policy (EU Omnibus): what a shop says about how its reviews are collected, checked and moderated,
built from its own data, as JSON and as a page in nl/en/de/fr; every widget links to it; no widget filters by rating.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain, invitation_links, invitation_store, repository, review_policy
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, review
from tests.form_helpers import invite

SHOP_REVIEWS = "/v1/admin/business-units/test-shop/reviews"
POLICY = "/v1/business-units/test-shop/review-policy"
PAGE = "/reviews/test-shop/about"
REASON = "Noemt het telefoonnummer van de bezorger: 0612345678"
FORM = {"rating": "1", "title": "Kapot geleverd", "text": "De poot was gebroken.", "website": ""}


def words(page: str) -> str:
    """A page's text as a reader sees it: no tags, entities resolved, one space between words."""
    return " ".join(html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page)).split())


def _ingest(client: TestClient, admin: dict[str, str], *records: dict[str, Any]) -> None:
    response = client.post(SHOP_REVIEWS, json=list(records), headers=admin)
    assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def _answer_invitation(client: TestClient, settings: Settings, order_ref: str, channel: domain.Channel) -> None:
    """A buyer answers the invitation of one order through the real form (online order, or a shop's receipt)."""
    invitation, token = invite(settings, order_ref=order_ref, products=())
    if channel == "store":  # the same order bought in a shop: no address, the QR code on the receipt
        docs_invitation = replace(invitation, channel="store", email=None, send_at=None, sent_at=None)
        invitation_store._invitations().replace_one({"_id": invitation.id}, invitation_store.to_raw(docs_invitation))
        token = invitation_links.make_token(
            settings.secret_key.get_secret_value(), invitation.id, invitation.expires_at
        )
    answer = client.post(f"/r/{token}", data=FORM, follow_redirects=False)
    assert answer.status_code in (200, 303), answer.text


@pytest.fixture
def mixed_shop(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit, settings: Settings, state: ServiceState
) -> domain.BusinessUnit:
    """test-shop with Kiyoh configured (no reviews yet), two answered invitations (web, store), Trustpilot reviews
    (one verified, one hidden by Trustpilot), a CSV import, and one review a moderator hid for personal data."""
    unit, _ = repository.update_business_unit(state, "test-shop", {"sources": {"kiyoh": {"location_id": "123"}}})
    _answer_invitation(client, settings, "WEB-1", "web")
    _answer_invitation(client, settings, "STORE-1", "store")
    _ingest(
        client, admin,
        review("tp-1", 5, source="trustpilot", verified=True, collection_method="post_fulfillment"),
        review("tp-2", 2, source="trustpilot", collection_method="unsolicited"),
        review("tp-3", 1, source="trustpilot", status="hidden"),
        review("csv-1", 4, source="csv"),
        review("api-1", 3),
    )  # fmt: skip
    hidden = {"status": "hidden", "reason": REASON, "category": "personal_data"}
    assert client.patch("/v1/admin/reviews/test-shop:api:api-1", json=hidden, headers=admin).status_code == 200
    return unit


def test_the_json_states_what_the_units_data_shows(client: TestClient, mixed_shop: domain.BusinessUnit) -> None:
    answer = client.get(POLICY)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    sources = {s["source"]: s for s in data["sources"]}
    assert [s["source"] for s in data["sources"]] == ["form", "trustpilot", "kiyoh", "csv"]
    assert sources["form"] | {} == {
        "source": "form", "name": None, "kind": "invitation", "configured": False, "verification": "order",
        "review_count": 2, "verified_count": 2,
    }  # fmt: skip
    assert (sources["trustpilot"]["review_count"], sources["trustpilot"]["verified_count"]) == (2, 1)
    assert sources["trustpilot"]["verification"] == "platform" and sources["trustpilot"]["name"] == "Trustpilot"
    assert sources["kiyoh"] | {} == {
        "source": "kiyoh", "name": "Kiyoh", "kind": "platform", "configured": True, "verification": "platform",
        "review_count": 0, "verified_count": 0,
    }  # fmt: skip
    assert sources["csv"]["verification"] == "as_supplied"
    assert (data["review_count"], data["verified_count"], data["verified_share"]) == (5, 3, 0.6)
    assert data["invitations"]["used"] is True
    assert data["invitations"]["answered"] == {"web": 1, "store": 1}
    assert data["collection_methods"] == {"post_fulfillment": 3, "unsolicited": 1, "unknown": 1}
    moderation = data["moderation"]
    assert moderation["filtered_by_rating"] is False and moderation["reason_required"] is True
    assert moderation["withdrawn"] == {"personal_data": 1, "source": 1}
    assert data["page"] == "http://127.0.0.1:8000/reviews/test-shop/about"
    # the category is counted, the moderator's words and name never leave the admin side
    assert "0612345678" not in answer.text and "bootstrap" not in answer.text
    assert answer.headers["cache-control"].startswith("public, max-age=")
    assert client.get(POLICY, headers={"If-None-Match": answer.headers["etag"]}).status_code == 304


def test_the_counts_follow_a_write(client: TestClient, admin: dict[str, str], mixed_shop: domain.BusinessUnit) -> None:
    assert client.get(POLICY).json()["review_count"] == 5
    _ingest(client, admin, review("csv-2", 1, source="csv", verified=True))
    after = client.get(POLICY).json()
    assert after["review_count"] == 6
    assert {s["source"]: s["verified_count"] for s in after["sources"]}["csv"] == 1


def test_a_review_a_moderator_holds_back_as_pending_is_counted_as_not_shown(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    """A moderator's "pending" takes a published review off the public side like a hide: the policy counts it
    by its reason; a review that arrived pending (awaiting its source) is no moderator's doing and is not counted."""
    _ingest(client, admin, review("a", 1), review("b", 5), review("waiting", 4, status="pending"))
    held = {"status": "pending", "reason": REASON, "category": "personal_data"}
    assert client.patch("/v1/admin/reviews/test-shop:api:a", json=held, headers=admin).status_code == 200
    data = client.get(POLICY).json()
    assert data["review_count"] == 1
    assert data["moderation"]["withdrawn"] == {"personal_data": 1}
    text = words(client.get(PAGE, params={"locale": "en"}).text)
    assert "No review is hidden at the moment." not in text
    assert "Personal data, such as a phone number or someone's full name: 1" in text


def test_the_page_speaks_the_widgets_the_browsers_or_the_shops_language(
    client: TestClient, mixed_shop: domain.BusinessUnit
) -> None:
    titles = {
        "nl": "Zo verzamelt en controleert Test Shop beoordelingen",
        "en": "How reviews are collected and checked at Test Shop",
        "de": "So sammelt und prüft Test Shop Bewertungen",
        "fr": "Comment Test Shop recueille et vérifie les avis",
    }
    for locale, title in titles.items():
        page = client.get(PAGE, params={"locale": locale})
        assert page.status_code == 200, page.text
        assert f'<html lang="{locale}">' in page.text and f"<h1>{title}</h1>" in page.text
    german = client.get(PAGE, headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in german.text and "Accept-Language" in german.headers["vary"]
    assert '<html lang="nl">' in client.get(PAGE).text  # the shop's first language
    unspoken = client.get(PAGE, params={"locale": "xx"}, headers={"Accept-Language": "sv"})
    assert '<html lang="nl">' in unspoken.text and "Accept-Language" in unspoken.headers["vary"]
    assert "Accept-Language" not in client.get(PAGE, params={"locale": "fr"}).headers.get("vary", "")
    assert "script" not in client.get(PAGE).headers["content-security-policy"]


def test_the_page_says_how_each_source_is_checked_and_what_is_hidden(
    client: TestClient, mixed_shop: domain.BusinessUnit
) -> None:
    page = client.get(PAGE, params={"locale": "en"})
    text = words(page.text)
    assert "1 buyer answered after an online order" in text and "1 buyer answered after a purchase in a shop" in text
    assert "Our own invitations: 2 reviews, all verified." in text
    assert "Trustpilot: 2 reviews, copied as published there. Verified by Trustpilot: 1;" in text
    assert "Kiyoh: collected automatically; no reviews from there yet." in text
    assert "Imported from the shop's own systems or files (csv): 1 review; marked verified by the shop" in text
    assert "3 of the 5 reviews (60%) are verified" in text
    assert "reviews are never filtered, hidden or ordered by their rating" in text
    assert "Personal data, such as a phone number or someone's full name: 1" in text
    assert "Hidden or removed by the platform they came from: 1" in text
    assert "Replies under reviews are written by Test Shop." in text
    assert "0612345678" not in page.text


def test_a_shop_without_invitations_or_reviews_says_so(client: TestClient, shop: domain.BusinessUnit) -> None:
    data = client.get(POLICY).json()
    assert (data["review_count"], data["verified_share"], data["invitations"]["used"]) == (0, None, False)
    assert data["sources"] == [] and data["moderation"]["withdrawn"] == {}
    text = words(client.get(PAGE, params={"locale": "en"}).text)
    assert "Test Shop does not send review invitations." in text and "No review is hidden at the moment." in text


def test_an_unknown_unit_is_a_404(client: TestClient, shop: domain.BusinessUnit) -> None:
    for url in ("/v1/business-units/nope/review-policy", "/reviews/nope/about"):
        answer = client.get(url)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"


def test_free_source_names_beyond_the_limit_are_summed_as_other() -> None:
    unit = domain.BusinessUnit(slug="s", name="S")
    many = {f"feed-{i:02}": review_policy.SourceCount(1, 1) for i in range(review_policy.MAX_SOURCES + 5)}
    policy = review_policy.build(unit, review_policy.ReviewCounts(sources=many))
    assert len(policy.sources) == review_policy.MAX_SOURCES + 1
    assert policy.sources[-1].source == "other" and policy.sources[-1].review_count == 5
    assert policy.review_count == review_policy.MAX_SOURCES + 5


# --- the widgets ----------------------------------------------------------------------------------------------


ABOUT = 'href="http://127.0.0.1:8000/reviews/test-shop/about?locale=nl"'


def test_every_widget_links_to_the_policy_in_its_language(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    _ingest(client, admin, review("r1", 4), review("c1", 5, product="oak-chair"))
    fragments = {
        "badge": client.get("/widgets/test-shop/badge.html?locale=nl").text,
        "stars": client.get("/widgets/test-shop/products/oak-chair/stars.html?locale=nl").text,
        "stars without reviews": client.get("/widgets/test-shop/products/walnut-table/stars.html?locale=nl").text,
        "reviews": client.get("/widgets/test-shop/reviews.html?locale=nl").text,
    }
    data = client.get("/widgets/test-shop/data.json?locale=nl&badge=1&skus=oak-chair&reviews=5").json()
    fragments.update(
        {"data badge": data["badge"], "data stars": data["products"]["oak-chair"], "data reviews": data["reviews"]}
    )
    for name, fragment in fragments.items():
        assert ABOUT in fragment, name
        assert "Hoe beoordelingen worden gecontroleerd" in fragment, name  # the link's accessible name, in nl
    english = client.get("/widgets/test-shop/badge.html?locale=en").text
    assert 'about?locale=en"' in english and 'aria-label="How reviews are checked"' in english


def test_a_one_star_review_is_in_the_default_latest_reviews_widget(
    client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    day = NOW - timedelta(days=1)
    _ingest(
        client, admin,
        review("five", 5, created_at=(day - timedelta(hours=2)).isoformat(), text="Top!"),
        review("one", 1, created_at=day.isoformat(), text="Nooit meer: kapot en te laat."),
        review("four", 4, created_at=(day - timedelta(hours=1)).isoformat(), text="Prima."),
    )  # fmt: skip
    fragment = client.get("/widgets/test-shop/reviews.html").text
    assert "Nooit meer: kapot en te laat." in fragment
    assert fragment.index("Nooit meer") < fragment.index("Prima.") < fragment.index("Top!")  # newest first
    assert "1 van 5 sterren" in fragment
    loader_list = client.get("/widgets/test-shop/data.json?locale=nl&badge=0&reviews=5").json()["reviews"]
    assert "Nooit meer: kapot en te laat." in loader_list


# --- in Chromium, against `reviews serve` with the demo shop ---------------------------------------------------

from tests import test_widgets_browser as in_browser  # noqa: E402 - the browser tests' own fixtures, below
from tests.test_widgets_browser import PRODUCT_WITH_REVIEWS, Tab  # noqa: E402

browser = in_browser.browser


@pytest.fixture
def tab(browser: Any, live_server: str) -> Iterator[Tab]:
    """A fresh page as tests/test_widgets_browser.py makes it, that may inject axe-core despite a page's CSP."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", bypass_csp=True)
    context.set_default_timeout(in_browser.WAIT_MS)
    page = context.new_page()
    page.add_init_script(in_browser.CLS_OBSERVER)
    try:
        yield Tab(page, live_server)
    finally:
        context.close()


AXE = (
    Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")
    if find_spec("axe_playwright_python")
    else None
)
LINK_NAME = "Hoe beoordelingen worden gecontroleerd"


def _axe(tab: Tab, context: str = "document") -> list[dict[str, Any]]:
    if AXE is None:
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[dev]')")
    tab.page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = tab.page.evaluate(f"async () => await axe.run({context})")
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in result["violations"]]


def test_every_widget_on_a_product_page_has_a_working_info_link_without_a_shift_or_an_axe_violation(tab: Tab) -> None:
    tab.open(f"/demo/flinders-nl/products/{PRODUCT_WITH_REVIEWS}")
    assert tab.cls() == 0  # the links take no room that was not reserved
    links = tab.page.get_by_role("link", name=LINK_NAME)
    kinds = links.evaluate_all("ls => ls.map(l => l.closest('[data-reviews-widget]').dataset.reviewsWidget)")
    assert sorted(kinds) == ["badge", "product-stars", "reviews"]
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 16, box  # a target a finger can hit
    assert _axe(tab, "{include: [['[data-reviews-widget]']]}") == []
    href = links.first.get_attribute("href") or ""
    assert re.search(r"/reviews/flinders-nl/about\?locale=nl$", href), href
    # the page it opens (on this server: the demo's public URL is the default one)
    tab.open(href[href.index("/reviews/") :])
    assert tab.page.locator("h1").inner_text() == "Zo verzamelt en controleert Flinders Design beoordelingen"
    assert "nooit gefilterd, verborgen of gesorteerd op hun score" in tab.page.locator("main").inner_text()
    assert _axe(tab) == []


SEEN_WHOLE = """host => [...host.querySelectorAll('a.rw-about')].map(link => {
  if (!link.getClientRects().length) return 'hidden';
  const r = link.getBoundingClientRect(), b = host.getBoundingClientRect();
  return r.left >= b.left - 0.5 && r.right <= b.right + 0.5 && r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5
    ? 'whole' : 'cut: ' + JSON.stringify([r.left, r.right, b.left, b.right]);
})"""


@pytest.mark.parametrize("locale", ["nl", "de"])
def test_the_info_link_is_whole_or_absent_at_every_reserved_width(tab: Tab, locale: str) -> None:
    """Never a link cut in half (a focus ring nobody sees): at a width too narrow for it, the product stars drop it."""
    from tests.test_widgets_shop import BE, BE_WITHOUT_REVIEWS, NL, WIDTHS, WITH_REVIEWS, show

    cells = [
        f'<div style="width: {width}px; margin: 8px; display: inline-block; vertical-align: top">'
        f'<div data-reviews-widget="{kind}" data-business-unit="{bu}" data-locale="{locale}"'
        + {"product-stars": f' data-sku="{sku}"', "reviews": ' data-limit="1"'}.get(kind, "")
        + "></div></div>"
        for kind, widths in WIDTHS.items()
        for width in widths
        for bu, sku in ((NL, WITH_REVIEWS), (BE, BE_WITHOUT_REVIEWS))
    ]
    show(tab, "".join(cells), locale)
    hosts = tab.page.locator("[data-reviews-widget]")
    seen = {}
    for i in range(hosts.count()):
        host = hosts.nth(i)
        key = (host.get_attribute("data-reviews-widget"), host.evaluate("e => e.offsetWidth"), i % 2)
        seen[key] = host.evaluate(SEEN_WHOLE)
    assert {k: v for k, v in seen.items() if v not in (["whole"], ["hidden"])} == {}
    assert {k: v for k, v in seen.items() if k[1] >= 150 and v != ["whole"]} == {}

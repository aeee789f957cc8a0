"""The widgets as a shop owner embeds them, in real Chromium against `reviews serve` (the demo shop).

Each element in its own locale, the page's own fallback content kept alone, one unknown product
falling back on its own, the loader's list filters, a 10-point shop's numbers, no text cut at any
reserved width in nl/en/de/fr, "read more" with and without JavaScript, and iframe pages.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests import test_widgets_browser as in_browser
from tests.test_widgets_browser import CLS_OBSERVER, SCREENSHOTS, WAIT_MS, Tab, _api, _fail_500, nl_number

browser = in_browser.browser  # the same Chromium fixtures as tests/test_widgets_browser.py
tab = in_browser.tab

NL, BE = "flinders-nl", "flinders-be"  # a 10-point shop in nl/en, a 5-point shop in nl/fr/de/en
WITH_REVIEWS = "hay-about-a-chair-aac22-oak"
BE_WITHOUT_REVIEWS = "pastoe-l-series-sideboard-oak"
LOCALES = ("nl", "en", "de", "fr")
COUNT_WORD = {"nl": "beoordelingen", "en": "reviews", "de": "Bewertungen", "fr": "avis"}
NO_REVIEWS = {"nl": "Nog geen beoordelingen", "en": "No reviews yet", "de": "Noch keine Bewertungen",
              "fr": "Pas encore d'avis"}  # fmt: skip

# Every visible piece of text must lie inside each box that clips it (up to the widget's own element),
# unless it is cut on purpose with an ellipsis; answers what sticks out.
CLIPPED = """host => {
  const bad = [];
  host.querySelectorAll('*').forEach(e => {
    const cs = getComputedStyle(e);
    if (!e.getClientRects().length || cs.visibility === 'hidden') return;
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return;
    const ellipsis = cs.textOverflow === 'ellipsis' || (cs.webkitLineClamp && cs.webkitLineClamp !== 'none');
    const r = e.getBoundingClientRect();
    if (!ellipsis && e.scrollWidth > e.clientWidth + 1 && cs.overflowX !== 'visible') {
      bad.push(e.className + ' overflows itself: ' + e.textContent.trim());
    }
    for (let a = e.parentElement; a; a = a.parentElement) {
      const as = getComputedStyle(a);
      if (as.overflowX !== 'visible' || as.overflowY !== 'visible') {
        const b = a.getBoundingClientRect();
        if (r.right > b.right + 0.5 || r.bottom > b.bottom + 0.5 || r.left < b.left - 0.5 || r.top < b.top - 0.5) {
          bad.push(e.className + ' cut by ' + a.className + ': ' + e.textContent.trim());
        }
      }
      if (a === host) break;
    }
  });
  return bad;
}"""


def page_html(base: str, body: str, lang: str = "nl") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{base}/widgets/widgets.css"></head>'
        f'<body style="font-family: system-ui, sans-serif; margin: 16px">{body}'
        f'<script src="{base}/widgets/loader.js" async></script></body></html>'
    )


def show(tab: Tab, body: str, lang: str = "nl") -> None:
    """A shop's page with these widgets on it, served from the service's origin like the demo pages."""
    tab.open("/health")
    tab.page.set_content(page_html(tab.base, body, lang), wait_until="load")
    tab.settle()


def shot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=WAIT_MS)


def test_each_element_renders_in_its_own_locale(tab: Tab) -> None:
    body = "".join(
        f'<div data-reviews-widget="badge" data-business-unit="{BE}" data-locale="{loc}"></div>'
        f'<div data-reviews-widget="product-stars" data-business-unit="{BE}" data-sku="{BE_WITHOUT_REVIEWS}" '
        f'data-locale="{loc}" style="width: 320px"></div>'
        for loc in LOCALES
    )
    show(tab, body)
    for loc in LOCALES:
        badge = tab.page.locator(f'[data-reviews-widget="badge"][data-locale="{loc}"]')
        assert badge.locator(".rw-badge").get_attribute("lang") == loc
        assert COUNT_WORD[loc] in badge.locator(".rw-count").inner_text(), loc
        stars = tab.page.locator(f'[data-reviews-widget="product-stars"][data-locale="{loc}"]')
        assert stars.inner_text() == NO_REVIEWS[loc], loc
    assert sorted(r.split("locale=")[1][:2] for r in tab.data_requests) == sorted(LOCALES)  # one request per locale
    assert tab.errors == []
    shot(tab, "locales-be")


def test_fallback_is_the_pages_own_content_or_ours_never_both(tab: Tab) -> None:
    tab.page.route("**/widgets/*/data.json*", _fail_500)
    show(
        tab,
        f'<div id="own" data-reviews-widget="badge" data-business-unit="{NL}">fallback content here</div>'
        f'<div id="own-link" data-reviews-widget="badge" data-business-unit="{NL}"><a href="/r">Our reviews</a></div>'
        f'<div id="ours" data-reviews-widget="badge" data-business-unit="{NL}"> </div>',
    )
    texts = tab.page.evaluate("() => ['own', 'own-link', 'ours'].map(id => document.getElementById(id).innerText)")
    assert texts == ["fallback content here", "Our reviews", "Bekijk onze beoordelingen"]
    states = tab.page.locator("[data-reviews-widget]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-reviews-state'))"
    )
    assert states == ["unavailable"] * 3
    shot(tab, "fallback-own-content")


def test_one_unknown_product_falls_back_alone(tab: Tab) -> None:
    show(
        tab,
        f'<div data-reviews-widget="badge" data-business-unit="{NL}"></div>'
        f'<div id="known" data-reviews-widget="product-stars" data-business-unit="{NL}" '
        f'data-sku="{WITH_REVIEWS}"></div>'
        f'<div id="gone" data-reviews-widget="product-stars" data-business-unit="{NL}" '
        'data-sku="sold-out-2019"></div>'
        f'<div id="list" data-reviews-widget="reviews" data-business-unit="{NL}" data-sku="sold-out-2019" '
        'data-limit="2"></div>',
    )
    states = tab.page.locator("[data-reviews-widget]").evaluate_all(
        "els => els.map(e => e.id + ':' + e.getAttribute('data-reviews-state'))"
    )
    assert states == [":ok", "known:ok", "gone:unavailable", "list:unavailable"]
    assert len(tab.data_requests) == 1, tab.data_requests
    assert tab.errors == []


def test_the_loader_filters_the_list_like_the_fragment(tab: Tab) -> None:
    show(
        tab,
        f'<div data-reviews-widget="reviews" data-business-unit="{NL}" data-rating="5" data-language="en" '
        'data-limit="4"></div>',
    )
    items = tab.page.locator("li.rw-review")
    assert items.count() == 4
    labels = items.locator("[role=img]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels == ["10 van 10"] * 4  # five stars on a 10-point shop
    langs = items.locator(".rw-review-text").evaluate_all("els => els.map(e => e.getAttribute('lang'))")
    assert set(langs) == {"en"}
    assert "rating=5" in tab.data_requests[0] and "language=en" in tab.data_requests[0]


def test_a_ten_point_shop_shows_every_number_on_its_scale(tab: Tab) -> None:
    summary = _api(tab.base, f"/v1/business-units/{NL}/products/{WITH_REVIEWS}/summary")
    latest = _api(tab.base, f"/v1/business-units/{NL}/reviews", product=WITH_REVIEWS, limit=5)["items"]
    tab.open(f"/demo/{NL}/products/{WITH_REVIEWS}")
    tab.settle()
    score = tab.page.locator('[data-reviews-widget="product-stars"] .rw-score').inner_text()
    assert " ".join(score.split()) == f"{nl_number(summary['display']['value'], 1)} / 10"
    shown = tab.page.locator("li.rw-review .rw-review-score").all_inner_texts()
    assert shown == [f"{r['rating'] * 2} / 10" for r in latest]
    labels = tab.page.locator("li.rw-review [role=img]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert labels == [f"{r['rating'] * 2} van 10" for r in latest]
    jsonld = httpx.get(f"{tab.base}/seo/{NL}/products/{WITH_REVIEWS}.jsonld", timeout=10).json()
    assert [r["reviewRating"]["ratingValue"] for r in jsonld["review"]] == [r["rating"] * 2 for r in latest]
    shot(tab, "ten-point-product")


def test_a_product_without_reviews_says_so_once(tab: Tab) -> None:
    tab.open(f"/demo/{BE}/products/{BE_WITHOUT_REVIEWS}")
    tab.settle()
    widgets = tab.page.locator("main [data-reviews-widget]")
    said = widgets.evaluate_all(
        """els => els.map(e => e.innerText + ' ' + [...e.querySelectorAll('[aria-label]')]
                                .map(x => x.getAttribute('aria-label')).join(' ')).join(' ')"""
    )
    assert said.count("Nog geen beoordelingen") == 1 and "Nog niet beoordeeld" not in said, said
    assert tab.page.locator("main .rw-fallback").count() == 0
    shot(tab, "product-without-reviews")


WIDTHS = {"badge": (180, 220, 280), "product-stars": (130, 160, 200, 240, 320), "reviews": (300, 520)}


@pytest.mark.parametrize("locale", LOCALES)
def test_no_text_is_cut_at_any_reserved_width(tab: Tab, locale: str) -> None:
    cells = []
    for kind, widths in WIDTHS.items():
        for width in widths:
            for bu, sku in ((NL, WITH_REVIEWS), (BE, BE_WITHOUT_REVIEWS)):
                extra = {"product-stars": f' data-sku="{sku}"', "reviews": ' data-limit="3"'}.get(kind, "")
                cells.append(
                    f'<div style="width: {width}px; margin: 8px; display: inline-block; vertical-align: top">'
                    f'<div data-reviews-widget="{kind}" data-business-unit="{bu}" data-locale="{locale}"{extra}>'
                    "</div></div>"
                )
    show(tab, "".join(cells), locale)
    tab.page.wait_for_timeout(200)
    hosts = tab.page.locator("[data-reviews-widget]")
    problems: list[Any] = []
    for i in range(hosts.count()):
        host = hosts.nth(i)
        assert host.get_attribute("data-reviews-state") == "ok"
        cut = host.evaluate(CLIPPED)
        if cut:
            problems.append((host.get_attribute("data-reviews-widget"), host.evaluate("e => e.offsetWidth"), cut))
    shot(tab, f"widths-{locale}")
    assert problems == []


def test_read_more_shows_the_whole_text_after_a_click_without_a_layout_shift(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 420, "height": 900})
    tab.open(f"/demo/{NL}/products/{WITH_REVIEWS}")
    tab.settle()
    toggles = tab.page.locator(".rw-toggle:not(.rw-fits)")
    assert toggles.count() >= 1
    fits = tab.page.locator(".rw-toggle.rw-fits")  # a short text has no visible "read more"
    assert all(
        not fits.nth(i).is_visible() or fits.nth(i).evaluate("e => getComputedStyle(e).visibility") == "hidden"
        for i in range(fits.count())
    )
    text = toggles.first.locator("xpath=preceding-sibling::p[1]")
    assert text.evaluate("e => e.scrollHeight > e.clientHeight + 1")  # cut before
    toggles.first.click()
    tab.page.wait_for_timeout(300)
    assert text.evaluate("e => e.scrollHeight <= e.clientHeight + 1")  # whole after
    assert toggles.first.inner_text() == "Minder"
    assert tab.cls() == 0  # the list grew after the reader's own click: not a layout shift
    shot(tab, "read-more-open")


def test_read_more_and_frame_pages_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 900, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.add_init_script(CLS_OBSERVER)
        page.goto(f"{live_server}/widgets/{NL}/reviews.html?frame=1&limit=10", wait_until="load")
        toggle = page.locator(".rw-toggle").first
        text = toggle.locator("xpath=preceding-sibling::p[1]")
        assert text.evaluate("e => e.scrollHeight > e.clientHeight + 1")
        toggle.click()
        assert text.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
        list_box = page.locator(".rw-reviews").bounding_box()
        assert list_box is not None and list_box["x"] >= 8 and list_box["width"] < 900 - 16  # padding, own width
        page.screenshot(path=str(SCREENSHOTS / "frame-reviews-nojs.png"), full_page=True)
        page.goto(f"{live_server}/widgets/{NL}/badge.html?frame=1", wait_until="load")
        badge = page.locator(".rw-badge").bounding_box()
        assert badge is not None and badge["width"] == 280 and badge["x"] >= 8 and badge["y"] >= 8
        page.screenshot(path=str(SCREENSHOTS / "frame-badge.png"))
    finally:
        context.close()

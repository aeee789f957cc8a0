"""The star widgets in a real browser (Debian's chromium driven by Playwright) against `reviews serve`.

What a shop's visitor gets: accessible labels that say what the API says, one data request per page,
zero layout shift (also when the data is slow), a readable fallback when the service fails, review text
that stays text, a keyboard-visible badge link and a standalone SVG badge.

Chromium comes from Debian (`scripts/test` installs it as root), never from `playwright install`.
Without chromium or playwright these tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LIVE_ADMIN_TOKEN

try:
    from playwright.sync_api import Browser, Page, Request, Route, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
WAIT_MS = 10_000
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"

BU = "flinders-nl"
PRODUCT_WITH_REVIEWS = "hay-about-a-chair-aac22-oak"
BE_PRODUCT_WITHOUT_REVIEWS = "pastoe-l-series-sideboard-oak"
HOSTILE_PRODUCT = "fritz-hansen-series-7-chair-ash"
FALLBACK_NL = "Bekijk onze beoordelingen"
DATA_JSON = "**/widgets/*/data.json*"
PAGES = {
    "home": f"/demo/{BU}/",
    "products": f"/demo/{BU}/products",
    "product": f"/demo/{BU}/products/{PRODUCT_WITH_REVIEWS}",
    "reviews": f"/demo/{BU}/reviews",
}

# Sums the layout shifts not caused by input, from before the first byte of the page on.
CLS_OBSERVER = """
window.__cls = 0;
window.__shifts = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (entry) {
    if (entry.hadRecentInput) return;
    window.__cls += entry.value;
    window.__shifts.push({value: entry.value, sources: (entry.sources || []).map(function (s) {
      var n = s.node;
      return n ? (n.nodeName + '.' + (n.className || '') + ' ' + JSON.stringify(s.previousRect) + ' -> '
                  + JSON.stringify(s.currentRect)) : '?';
    })});
  });
}).observe({type: 'layout-shift', buffered: true});
"""
ALL_SETTLED = """() => {
  const els = [...document.querySelectorAll('[data-reviews-widget]')];
  return els.length > 0 && els.every(e => ['ok', 'unavailable'].includes(e.getAttribute('data-reviews-state')));
}"""

PAINT_AND_DATA = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const data = performance.getEntriesByType('resource').find(e => e.name.includes('/data.json'));
  return [paint ? paint.startTime : null, data ? data.responseEnd : null];
}"""


def _unavailable(reason: str) -> None:
    """Skip, except under CI: there the browser tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests may not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[dev]' (or scripts/test)")
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing; install it with: {INSTALL_HINT} (scripts/test does this as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        yield launched
        launched.close()


class Tab:
    """A fresh context and page, with the page errors, dialogs and data.json requests it saw."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.data_requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if "/data.json" in request.url:
            self.data_requests.append(request.url)

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path, wait_until="load", timeout=WAIT_MS)
        assert response is not None and response.status == 200, path

    def settle(self) -> None:
        """Wait until every widget is filled or shows its fallback."""
        self.page.wait_for_function(ALL_SETTLED, timeout=WAIT_MS)

    def cls(self) -> float:
        """The cumulative layout shift ~500 ms after every widget settled."""
        self.settle()
        self.page.wait_for_timeout(500)
        total: float = self.page.evaluate("window.__cls")
        assert total == 0, f"layout shifts: {self.page.evaluate('window.__shifts')}"
        return total

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=WAIT_MS)


@pytest.fixture
def tab(browser: Browser, live_server: str) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.add_init_script(CLS_OBSERVER)
    try:
        yield Tab(page, live_server)
    finally:
        context.close()


def _api(base: str, path: str, **params: object) -> Any:
    answer = httpx.get(base + path, params=params, timeout=10)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def nl_number(value: float, decimals: int) -> str:
    """Dutch: decimal comma, '.' between thousands (1234.5 -> '1.234,5')."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def nl_label(summary: dict[str, Any]) -> str:
    """The accessible name the summary implies, as the nl widgets must say it."""
    count = summary["review_count"]
    if count == 0:
        return "Nog niet beoordeeld"
    value, scale = nl_number(summary["display"]["value"], 1), summary["display"]["scale"]
    if count == 1:
        return f"Beoordeeld met {value} van {scale} op basis van 1 beoordeling"
    return f"Beoordeeld met {value} van {scale} op basis van {nl_number(count, 0)} beoordelingen"


def test_dutch_number_format_of_the_expectations() -> None:
    assert nl_number(8.0, 1) == "8,0"
    assert nl_number(4512, 0) == "4.512"
    assert nl_number(1234.56, 1) == "1.234,6"


def test_home_badge_says_what_the_summary_api_says(tab: Tab) -> None:
    summary = _api(tab.base, f"/v1/business-units/{BU}/summary")
    assert summary["display"]["scale"] == 10 and summary["review_count"] > 1
    tab.open(f"/demo/{BU}/")
    tab.settle()
    badges = tab.page.locator('[data-reviews-widget="badge"]')
    assert badges.count() == 2  # header (light) and hero (dark)
    label = nl_label(summary)
    for i in range(2):
        badge = badges.nth(i)
        assert badge.get_attribute("data-reviews-state") == "ok"
        stars = badge.locator("[role=img]")
        assert stars.count() == 1
        assert stars.get_attribute("aria-label") == label
        score = nl_number(summary["display"]["value"], 1)
        assert " ".join(badge.locator(".rw-score").inner_text().split()) == f"{score} / 10"
        assert badge.locator(".rw-count").inner_text() == f"{nl_number(summary['review_count'], 0)} beoordelingen"
    dark = tab.page.locator('.dark [data-reviews-widget="badge"][data-theme="dark"] .rw-badge[data-theme="dark"]')
    assert dark.count() == 1 and dark.is_visible()
    # the dark theme really applies: light text on a dark background
    colours = dark.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(242, 242, 242)", "rgb(28, 28, 28)"], colours
    assert tab.errors == []


def test_listing_labels_every_product_from_one_request(tab: Tab) -> None:
    tab.open(f"/demo/{BU}/products")
    tab.settle()
    widgets = tab.page.locator('[data-reviews-widget="product-stars"]')
    assert widgets.count() == 24
    seen = widgets.evaluate_all(
        """els => els.map(e => [e.getAttribute('data-sku'), e.getAttribute('data-reviews-state'),
                             [...e.querySelectorAll('[role=img]')].map(s => s.getAttribute('aria-label'))])"""
    )
    for sku, state, labels in seen:
        summary = _api(tab.base, f"/v1/business-units/{BU}/products/{sku}/summary")
        assert state == "ok", sku
        assert labels == [nl_label(summary)], sku
    assert len({sku for sku, _, _ in seen}) == 24
    assert len(tab.data_requests) == 1, tab.data_requests
    assert tab.errors == []


def _review_rows(tab: Tab) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = tab.page.locator('[data-reviews-widget="reviews"] li.rw-review').evaluate_all(
        """els => els.map(li => ({
             author: (li.querySelector('.rw-author') || {}).textContent || '',
             title: (li.querySelector('.rw-review-title') || {}).textContent || '',
             date: (li.querySelector('time') || {getAttribute: () => ''}).getAttribute('datetime'),
             stars: (li.querySelector('[role=img]') || {getAttribute: () => ''}).getAttribute('aria-label')}))"""
    )
    return rows


def test_product_page_lists_its_five_latest_reviews_newest_first(tab: Tab) -> None:
    summary = _api(tab.base, f"/v1/business-units/{BU}/products/{PRODUCT_WITH_REVIEWS}/summary")
    latest = _api(tab.base, f"/v1/business-units/{BU}/reviews", product=PRODUCT_WITH_REVIEWS, limit=5)["items"]
    assert summary["review_count"] > 5 and len(latest) == 5
    tab.open(f"/demo/{BU}/products/{PRODUCT_WITH_REVIEWS}")
    tab.settle()
    stars = tab.page.locator('[data-reviews-widget="product-stars"] [role=img]')
    assert stars.get_attribute("aria-label") == nl_label(summary)
    rows = _review_rows(tab)
    assert len(rows) == 5
    assert [(r["author"], r["title"]) for r in rows] == [(i["author"] or "Klant", i["title"]) for i in latest]
    assert [r["stars"] for r in rows] == [f"{i['rating'] * 2} van 10" for i in latest]  # a 10-point shop
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert tab.page.locator(".rw-empty").count() == 0
    assert len(tab.data_requests) == 1
    assert tab.errors == []


def test_a_product_without_reviews_says_so(tab: Tab) -> None:
    summary = _api(tab.base, f"/v1/business-units/flinders-be/products/{BE_PRODUCT_WITHOUT_REVIEWS}/summary")
    assert summary["review_count"] == 0
    tab.open(f"/demo/flinders-be/products/{BE_PRODUCT_WITHOUT_REVIEWS}")
    tab.settle()
    for kind in ("product-stars", "reviews"):
        widget = tab.page.locator(f'[data-reviews-widget="{kind}"]')
        assert widget.get_attribute("data-reviews-state") == "ok", kind
        assert widget.locator(".rw-fallback").count() == 0, kind
    stars = tab.page.locator('[data-reviews-widget="product-stars"]')
    assert stars.locator("[role=img]").count() == 0  # grey stars say nothing; the words say it once
    assert stars.inner_text() == "Nog geen beoordelingen"
    empty = tab.page.locator('[data-reviews-widget="reviews"] li.rw-review')
    assert empty.count() == 1
    assert empty.get_attribute("class") == "rw-review rw-empty"
    assert empty.inner_text() == ""  # the stars above already said it (tests/test_widgets_shop.py)
    assert tab.errors == []


def _delay(seconds: float) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        time.sleep(seconds)
        route.continue_()

    return handler


@pytest.mark.parametrize("slow", [False, True], ids=["fast", "data-1.5s-late"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_layout_shift(tab: Tab, name: str, slow: bool) -> None:
    if slow:
        tab.page.route(DATA_JSON, _delay(1.5))
    tab.open(PAGES[name])
    assert tab.cls() == 0
    if slow:  # the page painted well before the data came, so the widgets filled in after the first paint
        paint, data = tab.page.evaluate(PAINT_AND_DATA)
        assert paint is not None and data is not None and data - paint > 1000, (paint, data)
    assert tab.page.locator('[data-reviews-state="unavailable"]').count() == 0
    assert tab.errors == []
    if not slow:
        tab.screenshot(name)


def _fail_500(route: Route) -> None:
    route.fulfill(status=500, content_type="application/problem+json", body='{"status": 500}')


def _unreachable(route: Route) -> None:
    route.abort("connectionrefused")


@pytest.mark.parametrize("failure", [_fail_500, _unreachable], ids=["500", "unreachable"])
@pytest.mark.parametrize("name", list(PAGES))
def test_a_failing_service_leaves_a_readable_fallback(tab: Tab, name: str, failure: Callable[[Route], None]) -> None:
    tab.page.route(DATA_JSON, failure)
    tab.open(PAGES[name])
    assert tab.cls() == 0
    widgets = tab.page.locator("[data-reviews-widget]")
    assert widgets.count() > 0
    states = widgets.evaluate_all("els => els.map(e => e.getAttribute('data-reviews-state'))")
    assert set(states) == {"unavailable"}
    texts = widgets.evaluate_all("els => els.map(e => e.querySelector('.rw-fallback') && e.innerText.trim())")
    assert texts == [FALLBACK_NL] * len(texts)
    assert tab.page.locator("h1, .hero h1").first.is_visible()  # the page itself still renders
    assert tab.errors == []
    assert len(tab.data_requests) == 1
    if name == "home" and failure is _fail_500:
        tab.screenshot("home-500")


def test_hostile_review_text_stays_text(tab: Tab) -> None:
    external_id = f"browser-hostile-{uuid.uuid4().hex[:12]}"
    title = """" onmouseover="alert(1)" x=' onerror='alert(4)'"""
    text = "<script>alert(1)</script> en <img src=x onerror=alert(2)> en javascript:alert(3) en <b>kapot</b>"
    record = {
        "source": "api",
        "external_id": external_id,
        "rating": 1,
        "title": title,
        "text": text,
        "author": 'Eve "><b>bold</b>',
        "product": HOSTILE_PRODUCT,
        "created_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    answer = httpx.post(
        f"{tab.base}/v1/admin/business-units/{BU}/reviews",
        json=[record],
        headers={"Authorization": f"Bearer {LIVE_ADMIN_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == 1, answer.text
    stored = _api(tab.base, f"/v1/business-units/{BU}/reviews", product=HOSTILE_PRODUCT, limit=1)["items"][0]
    assert stored["id"].endswith(external_id)
    # the payloads survived ingest as literal text (else this test would prove nothing)
    assert stored["text"] == text and stored["title"] == title  # stored as the customer wrote it

    tab.open(f"/demo/{BU}/products/{HOSTILE_PRODUCT}")
    tab.settle()
    tab.page.wait_for_timeout(300)  # give any injected handler a chance to fire
    widget = tab.page.locator('[data-reviews-widget="reviews"]')
    assert widget.get_attribute("data-reviews-state") == "ok"
    assert widget.locator("script, img, iframe, object, [onmouseover], [onerror]").count() == 0
    assert widget.locator('a[href^="javascript:" i]').count() == 0
    content = widget.evaluate("e => e.textContent")
    assert "<script>alert(1)</script>" in content
    assert "<img src=x onerror=alert(2)>" in content
    assert "javascript:alert(3)" in content
    assert "<b>kapot</b>" in content and widget.locator("b").count() == 0  # shown as text, no element made
    first = widget.locator("li.rw-review").first
    assert first.locator(".rw-review-title").evaluate("e => e.textContent") == title
    assert first.locator(".rw-author").evaluate("e => e.textContent") == stored["author"]
    first.hover()
    tab.page.wait_for_timeout(200)
    assert tab.dialogs == []
    assert tab.errors == []


def test_keyboard_reaches_the_badge_link_with_a_visible_focus(tab: Tab) -> None:
    tab.open(f"/demo/{BU}/")
    tab.settle()
    for _ in range(15):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("() => document.activeElement.matches('.rw-badge a.rw-link')"):
            break
    else:
        pytest.fail("15 Tabs never reached the badge link")
    focus = tab.page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return [s.outlineStyle, s.outlineWidth, document.activeElement.matches(':focus-visible')]; }"""
    )
    assert focus[0] != "none" and focus[1] != "0px", focus
    assert focus[2] is True


def test_standalone_svg_badge(tab: Tab) -> None:
    svg_url = f"{tab.base}/widgets/{BU}/badge.svg"
    tab.open("/health")
    tab.page.set_content(f'<img id="badge" alt="" src="{svg_url}">')
    tab.page.wait_for_function("() => document.getElementById('badge').complete", timeout=WAIT_MS)
    assert tab.page.evaluate("() => document.getElementById('badge').naturalWidth") == 240
    summary = _api(tab.base, f"/v1/business-units/{BU}/summary")
    tab.open(f"/widgets/{BU}/badge.svg")
    svg = tab.page.locator("svg")
    assert svg.get_attribute("role") == "img"
    title = tab.page.locator("svg > title").text_content()
    assert title is not None and title.endswith(": " + nl_label(summary)), title
    assert tab.page.locator("svg script, svg foreignObject").count() == 0

"""The demo pages, a widget frame page and the SVG badge in Chromium under their real headers.

Each page loads with no console error or warning, no Content-Security-Policy violation and no failed
request; the demo pages come gzipped with a meta description, and the favicon they name (or the
/favicon.ico a browser looks for) is found and decodes as an image. Chromium and Playwright as in
tests/test_widgets_browser.py (skips without them, fails under CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.test_widgets_browser import ALL_SETTLED, SCREENSHOTS, WAIT_MS, browser

if TYPE_CHECKING:  # playwright may be missing; the `browser` fixture then skips
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

__all__ = ["browser"]  # the fixture, shared with the widget browser tests

DEMO = {
    "home": "/demo/flinders-nl/",
    "listing": "/demo/flinders-nl/products",
    "product": "/demo/flinders-nl/products/hay-about-a-chair-aac22-oak",
    "unrated-product": "/demo/flinders-be/products/pastoe-l-series-sideboard-oak",
    "reviews": "/demo/flinders-be/reviews",
}
STANDALONE = {
    "frame-reviews": "/widgets/flinders-nl/reviews.html?frame=1&limit=3",
    "frame-badge": "/widgets/flinders-be/badge.html?frame=1&locale=fr",
    "svg-badge": "/widgets/flinders-nl/badge.svg",
}
# Records every CSP violation the page reports (Chromium also logs each one to the console).
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""
ICON = """async () => {
  const link = document.querySelector('link[rel~="icon"]');
  const href = link ? link.href : new URL('/favicon.ico', location.href).href;
  const size = await new Promise((found, lost) => {
    const img = new Image();
    img.onload = () => found([img.naturalWidth, img.naturalHeight]);
    img.onerror = () => lost(new Error('no favicon at ' + href));
    img.src = href;
  });
  return {href: href, size: size};
}"""


class Watched:
    """One page with what went wrong on it: console errors and warnings, CSP violations, failed requests."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.failed: list[str] = []
        self.requested: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        page.on("response", self._response)
        page.on("requestfailed", lambda request: self.failed.append(f"failed {request.url}"))
        page.on("request", lambda request: self.requested.append(request.url))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def problems(self) -> dict[str, Any]:
        return {"console": self.console, "failed": self.failed, "csp": self.page.evaluate("window.__csp || []")}


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.add_init_script(CSP_LISTENER)
    try:
        yield Watched(page)
    finally:
        context.close()


def _open(watched: Watched, url: str) -> Response:
    response = watched.page.goto(url, wait_until="load", timeout=WAIT_MS)
    assert response is not None and response.status == 200, url
    return response


@pytest.mark.parametrize("name", list(DEMO))
def test_demo_page_loads_clean_gzipped_with_description_and_favicon(
    watched: Watched, live_server: str, name: str
) -> None:
    response = _open(watched, live_server + DEMO[name])
    watched.page.wait_for_function(ALL_SETTLED, timeout=WAIT_MS)
    headers = response.all_headers()
    assert headers.get("content-encoding") == "gzip", headers  # Chromium accepts gzip, so it gets it
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    description = watched.page.evaluate("document.querySelector('meta[name=description]').content")
    assert len(description) > 40 and "{" not in description, description
    icon = watched.page.evaluate(ICON)
    assert icon["href"] == f"{live_server}/favicon.svg" and icon["size"][0] > 0, icon
    widgets = watched.page.locator("[data-reviews-widget]")
    states = [widgets.nth(i).get_attribute("data-reviews-state") for i in range(widgets.count())]
    assert states and set(states) == {"ok"}, states
    watched.page.wait_for_timeout(300)  # late console messages (e.g. a blocked image) arrive after load
    assert watched.problems() == {"console": [], "failed": [], "csp": []}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / f"headers-demo-{name}.png"), full_page=True, timeout=WAIT_MS)


@pytest.mark.parametrize("name", list(STANDALONE))
def test_frame_pages_and_the_svg_render_under_their_csp_with_no_violation(
    watched: Watched, live_server: str, name: str
) -> None:
    response = _open(watched, live_server + STANDALONE[name])
    csp = response.all_headers()["content-security-policy"]
    assert csp.startswith("default-src 'none'"), csp
    if name.startswith("frame"):
        # widgets.css applied (the one thing the CSP lets in): its custom properties are set on the widget
        star = watched.page.evaluate("getComputedStyle(document.querySelector('.rw')).getPropertyValue('--rw-star')")
        assert star.strip().startswith("#"), star
        icon = watched.page.evaluate(ICON)  # no <link rel=icon>: the browser's default /favicon.ico
        assert icon["href"] == f"{live_server}/favicon.ico" and icon["size"] == [32, 32], icon
    else:
        box = watched.page.evaluate(
            "(() => { const b = document.documentElement.getBBox(); return [b.width, b.height] })()"
        )
        assert box[0] > 100 and box[1] > 40, box
    watched.page.wait_for_timeout(300)
    assert watched.problems() == {"console": [], "failed": [], "csp": []}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENSHOTS / f"headers-{name}.png"), timeout=WAIT_MS)


def test_a_page_without_an_icon_link_finds_favicon_ico(live_server: str) -> None:
    """What every browser asks for on /docs or an opened frame page: an image, not a 404 problem."""
    answer = httpx.get(f"{live_server}/favicon.ico", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/x-icon"

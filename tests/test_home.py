"""The front door of `reviews serve`: `GET /` links what a newcomer wants, and `/docs` works without the internet."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.test_widgets_browser import WAIT_MS, Browser, Route
from tests.test_widgets_browser import browser as browser  # the module's Chromium, shared as a fixture

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


def _references(html: str) -> list[str]:
    """Every URL a page loads or links: src, href, and where Swagger UI or ReDoc fetch the document from."""
    return re.findall(r'(?:src|href|spec-url)="([^"]*)"', html) + re.findall(r"url: '([^']*)'", html)


def test_home_links_the_demo_the_docs_and_health(live_server: str) -> None:
    page = httpx.get(f"{live_server}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = _references(page.text)
    assert {"/demo", "/docs", "/health"} <= set(links)
    for link in links:
        assert httpx.get(f"{live_server}{link}", follow_redirects=True).status_code == 200, link


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_load_only_local_assets_and_each_is_served(live_server: str, path: str) -> None:
    page = httpx.get(f"{live_server}{path}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = [ref for ref in _references(page.text) if not ref.startswith("#")]
    assert len(assets) >= 3, page.text  # script, stylesheet or fonts, icon, document
    assert "cdn" not in page.text.lower()
    for ref in assets:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc and ref.startswith("/"), f"{path} loads {ref} from elsewhere"
        answer = httpx.get(f"{live_server}{ref}")
        assert answer.status_code == 200, ref
        suffix = "." + parts.path.rsplit(".", 1)[-1]
        assert answer.headers["content-type"].startswith(CONTENT_TYPES[suffix]), (ref, answer.headers)
        assert len(answer.content) > 500, ref


def test_an_unknown_docs_asset_is_a_404_problem(live_server: str) -> None:
    for name in ("nope.js", "..%2f..%2fpyproject.toml", "redoc.standalone.js.map"):
        answer = httpx.get(f"{live_server}/docs/assets/{name}")
        assert answer.status_code == 404, name
        assert answer.headers["content-type"] == "application/problem+json"


def test_swagger_ui_renders_with_the_network_cut_off(browser: Browser, live_server: str) -> None:
    """What a user offline sees: the API's title and its operations, not a blank page."""
    context = browser.new_context()
    elsewhere: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    try:
        page = context.new_page()
        page.route("**/*", only_local)
        page.goto(f"{live_server}/docs", wait_until="load", timeout=WAIT_MS)
        page.wait_for_selector(".swagger-ui .info .title", timeout=WAIT_MS)
        assert "Reviews service" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock", timeout=WAIT_MS)
        assert page.locator(".opblock").count() > 10
        assert elsewhere == []
    finally:
        context.close()

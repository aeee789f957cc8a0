"""Buyers' photos where shoppers see them: the public review JSON and the latest-reviews widget (HTML, data.json,
its cache), and in headless Chromium a shop page on another origin whose widget shows the thumbnails."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi.testclient import TestClient

from reviews_service import domain, ingest
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, free_port, local_http_server, make_settings
from tests.photo_helpers import review_with_photos
from tests.test_widgets_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CLS_OBSERVER,
    INSTALL_HINT,
    SCREENSHOTS,
    WAIT_MS,
    _unavailable,
    sync_playwright,
)
from widgets import render, service

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

BU = "test-shop"


class Images(HTMLParser):
    """Every <img> with its attributes, and the href of the link around it."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
        if tag == "img":
            self.images.append({**dict(attrs), "link": self._href})

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def images(html: str) -> list[dict[str, str | None]]:
    parser = Images()
    parser.feed(html)
    return parser.images


def test_the_public_review_json_lists_published_photos_as_absolute_urls(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    with_photos, (first, second) = review_with_photos(state, BU, "p1")
    review_with_photos(state, BU, "p0", count=0, now=NOW - timedelta(days=1))
    items = {i["id"]: i for i in client.get(f"/v1/business-units/{BU}/reviews").json()["items"]}
    base = settings.public_url.rstrip("/")
    assert base.startswith("http")
    assert items[with_photos]["photos"] == [
        {"url": f"{base}/photos/{first}.jpg", "thumbnail_url": f"{base}/photos/{first}/thumb.jpg"},
        {"url": f"{base}/photos/{second}.jpg", "thumbnail_url": f"{base}/photos/{second}/thumb.jpg"},
    ]
    assert items[f"{BU}:api:p0"]["photos"] == []
    for photo in items[with_photos]["photos"]:  # the URLs work
        assert client.get(photo["thumbnail_url"].removeprefix(base)).status_code == 200


def test_the_widget_shows_thumbnails_in_fixed_boxes_linking_to_the_photos(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    _, (first, second) = review_with_photos(state, BU, "p1", author="Anna B.")
    base = settings.public_url.rstrip("/")
    html = client.get(f"/widgets/{BU}/reviews.html?locale=nl").text
    shown = images(html)
    assert [i["src"] for i in shown] == [f"{base}/photos/{first}/thumb.jpg", f"{base}/photos/{second}/thumb.jpg"]
    assert [i["link"] for i in shown] == [f"{base}/photos/{first}.jpg", f"{base}/photos/{second}.jpg"]
    assert [i["alt"] for i in shown] == ["Foto 1 van Anna B.", "Foto 2 van Anna B."]
    for image in shown:
        assert (image["width"], image["height"], image["loading"], image["decoding"]) == ("40", "40", "lazy", "async")
    assert "rw-has-photos" in html and html.count('class="rw-photo"') == 2
    for locale, alt in (("en", "Photo 1 by Anna B."), ("de", "Foto 1 von Anna B."), ("fr", "Photo 1 de Anna B.")):
        assert images(client.get(f"/widgets/{BU}/reviews.html?locale={locale}").text)[0]["alt"] == alt
    # the loader's data.json carries the same fragment
    data = client.get(f"/widgets/{BU}/data.json?locale=nl&badge=0&reviews=5").json()
    assert [i["src"] for i in images(data["reviews"])] == [i["src"] for i in shown]


def test_the_author_in_the_alt_text_is_escaped(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    review_with_photos(state, BU, "p1", count=1, author='Jan "<img src=x onerror=alert(1)>"')
    html = client.get(f"/widgets/{BU}/reviews.html?locale=en").text
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert images(html)[0]["alt"] == 'Photo 1 by Jan "<img src=x onerror=alert(1)>"'  # as written, once decoded
    assert len(images(html)) == 1


def test_hiding_a_photo_drops_it_from_the_cached_widget_and_lists(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    review_id, (first, second) = review_with_photos(state, BU, "p1")
    paths = [f"/widgets/{BU}/reviews.html?locale=nl", f"/widgets/{BU}/data.json?locale=nl&badge=0&reviews=5"]
    before = [client.get(p) for p in paths]
    assert all(first in answer.text for answer in before)
    assert [client.get(p).headers["etag"] for p in paths] == [b.headers["etag"] for b in before]  # cached
    assert client.patch(f"/v1/admin/photos/{first}", headers=admin, json={"status": "hidden"}).status_code == 200
    after = [client.get(p) for p in paths]
    for old, new in zip(before, after, strict=True):
        assert new.headers["etag"] != old.headers["etag"]
        assert first not in new.text and second in new.text
    # hiding the review itself drops every photo with it
    assert (
        client.patch(
            f"/v1/admin/reviews/{review_id}", headers=admin, json={"status": "hidden", "reason": "Spam"}
        ).status_code
        == 200
    )
    assert second not in client.get(paths[0]).text


def test_an_item_with_photos_keeps_the_markup_of_one_without(shop: domain.BusinessUnit) -> None:
    long_text = "Mooie stoel, snel geleverd. " * 6
    plain = domain.Review(
        id="x:api:1", business_unit=BU, source="api", external_id="1", rating=5, title="Top", text=long_text,
        author="Anna B.", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    without = render.review_item(shop, plain, "nl", "https://reviews.example")
    assert "rw-review-foot" not in without and "<img" not in without and "rw-toggle" in without
    with_photos = render.review_item(
        shop, replace(plain, photos=("AAAAAAAAAAAAAAAA",)), "nl", "https://reviews.example"
    )
    foot = re.search(r'<div class="rw-review-foot">(.*?)</div>', with_photos)
    assert foot is not None and "rw-toggle" in foot.group(1) and "<img" in foot.group(1)
    assert images(with_photos)[0]["src"] == "https://reviews.example/photos/AAAAAAAAAAAAAAAA/thumb.jpg"


def test_the_widget_route_behind_the_fast_path_links_on_the_same_base(
    shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    # what api/widgets.py and widgets/asgi.py hand to service.render: the configured public URL, never a Host header
    review_with_photos(state, BU, "p1", count=1)
    rendered = service.render(state, f"/widgets/{BU}/reviews.html", b"", "https://reviews.example/")
    assert rendered is not None
    assert images(rendered.body.decode())[0]["src"].startswith("https://reviews.example/photos/")


# --- in a real browser ---------------------------------------------------------------------------------------------

SHOP_PAGE = """<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Flinders</title>
<link rel="stylesheet" href="{base}/widgets/widgets.css">
<style>body {{ font-family: sans-serif; margin: 24px; }} main {{ width: 440px; }}</style></head>
<body><main><h1>Flinders: wat klanten zeggen</h1>
<div data-reviews-widget="reviews" data-business-unit="test-shop" data-limit="4"></div>
<p id="after">Tekst van de winkel onder de widget.</p></main>
<script src="{base}/widgets/loader.js" async></script></body></html>"""
ITEMS = """() => [...document.querySelectorAll('li.rw-review')].map(li => ({
  photos: li.querySelectorAll('img').length, fits: li.scrollHeight <= li.clientHeight + 1,
  height: li.getBoundingClientRect().height}))"""
IMAGES = """() => [...document.querySelectorAll('.rw-photo img')].map(img => {
  const box = img.getBoundingClientRect();
  return {src: img.currentSrc, alt: img.alt, loaded: img.complete && img.naturalWidth > 0, w: box.width, h: box.height,
          link: img.closest('a').href};
})"""


@pytest.fixture
def service_url(connected: object, state: ServiceState) -> Iterator[str]:
    """The whole app under uvicorn in a thread (sharing this test's store and caches), its photos on its own URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(REVIEWS_PUBLIC_URL=base), connect=False, state=state)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: up to 10 s
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[dev]' (or scripts/test)")
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing; install it with: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        launched.close()


def _shop_page(base: str) -> Callable[..., BaseHTTPRequestHandler]:
    body = SHOP_PAGE.format(base=base).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    return Page


def _late(seconds: float) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        time.sleep(seconds)
        route.continue_()

    return handler


@pytest.mark.parametrize("late", [False, True], ids=["fast", "data-and-thumbnails-late"])
def test_a_shop_page_shows_the_thumbnails_from_the_service_without_layout_shift(
    chromium: Browser, service_url: str, shop: domain.BusinessUnit, state: ServiceState, late: bool
) -> None:
    long_text = "De stoel is prachtig en zit heerlijk, de levering was snel en netjes verpakt. " * 3
    review_with_photos(state, BU, "r1", count=3, author="Anna B.", text=long_text, now=NOW)
    review_with_photos(
        state, BU, "r2", count=1, author="Piet de V.", text="Kort en goed.", now=NOW - timedelta(hours=1)
    )
    review_id, _ = review_with_photos(
        state, BU, "r3", count=2, author="Sanne V.", text=long_text, now=NOW - timedelta(hours=2)
    )
    ingest.moderate(state, review_id, status=None, reply="Dank je wel, Sanne!", now=NOW)
    review_with_photos(state, BU, "r4", count=0, author="Kees", text=long_text, now=NOW - timedelta(hours=3))

    with local_http_server(_shop_page(service_url)) as shop_url:
        context = chromium.new_context(viewport={"width": 800, "height": 1000}, locale="nl-NL")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.add_init_script(CLS_OBSERVER)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if late:
            page.route("**/data.json*", _late(1.0))
            page.route("**/thumb.jpg", _late(0.3))
        try:
            page.goto(shop_url + "/", wait_until="load")
            page.wait_for_function("() => document.querySelector('[data-reviews-state=ok]') !== null")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.rw-photo img')].every(i => i.complete && i.naturalWidth > 0)"
            )
            page.wait_for_timeout(500)
            shifts = page.evaluate("window.__shifts")
            assert page.evaluate("window.__cls") == 0, f"layout shifts: {shifts}"
            shown = page.evaluate(IMAGES)
            items = page.evaluate(ITEMS)
            if not late:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "photos-widget.png"), full_page=True)
        finally:
            context.close()
    assert errors == []
    assert [i["photos"] for i in items] == [3, 1, 2, 0]
    assert all(i["fits"] for i in items), items  # nothing cut off by the photos row, the reply included
    assert len({round(i["height"]) for i in items}) == 1  # an item with photos is as tall as one without
    assert len(shown) == 6 and all(i["loaded"] for i in shown)
    assert all((i["w"], i["h"]) == (40, 40) for i in shown)
    assert all(i["src"].startswith(f"{service_url}/photos/") and i["src"].endswith("/thumb.jpg") for i in shown)
    assert all(i["link"] == i["src"].removesuffix("/thumb.jpg") + ".jpg" for i in shown)
    assert shown[0]["alt"] == "Foto 1 van Anna B." and shown[3]["alt"] == "Foto 1 van Piet de V."
    full_size = [u for u in requested if "/photos/" in u and not u.endswith("/thumb.jpg")]
    assert full_size == []  # the widget never loads a full photo
    assert any(u.startswith(shop_url) for u in requested) and any(u.startswith(service_url) for u in requested)

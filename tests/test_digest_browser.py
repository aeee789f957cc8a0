"""The digest e-mail's HTML in a real browser (Debian's chromium, as tests/test_widgets_browser.py drives it) at a
phone's width: nothing wider than the screen, even with a long unbroken word, and a customer's markup stays text."""

from __future__ import annotations

from datetime import UTC, date, datetime

from playwright.sync_api import Browser

from reviews_service import digest_render, digests, domain, ingest, repository
from reviews_service.api.digests import _png_inline
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings
from tests.test_widgets_browser import browser

__all__ = ["browser"]  # the fixture, imported for this module

PHONE = {"width": 375, "height": 800}
LONG = "https://example.com/" + "x" * 300


def test_the_email_fits_a_phone_screen(connected: object, state: ServiceState, browser: Browser) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug="shop", name="Meubelwinkel", locales=("nl",)))
    at = datetime(2026, 11, 19, 12, tzinfo=UTC).isoformat()
    records = [
        {"source": "t", "external_id": str(i), "rating": 1 if i % 2 else 5, "title": f"Titel {i}",
         "text": f"<b onmouseover=alert(1)>Kapot</b> {LONG} " * 3, "author": "Jan", "created_at": at}
        for i in range(6)
    ]  # fmt: skip
    assert not ingest.ingest(state, "shop", records, now=NOW).rejected
    digest = digests.build(state, "shop", date(2026, 11, 19), now=NOW)
    html = digest_render.html(digest, digests.links(make_settings(), digest, now=NOW), _png_inline(digest))
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_content(html)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert max(widths) <= PHONE["width"], widths
        chart = page.locator("img").first.bounding_box()
        assert chart is not None and 0 < chart["width"] <= PHONE["width"]
        assert page.locator("b").count() == 0  # the review's <b> is text
        assert page.get_by_text("Deze beoordeling modereren").count() == 3
    finally:
        context.close()

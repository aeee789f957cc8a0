"""The review form in a real browser (Debian's chromium, driven by Playwright, as tests/test_widgets_browser.py does)
against the app served by uvicorn on 127.0.0.1: keyboard only from the first star to the thank-you page, the
star radios' accessible names, no layout shift, no axe-core violation (empty and with errors), and a submission
with JavaScript off. Screenshots at a phone's and a desktop's width go to the test's tmp dir."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page

from collectors.forms import review_id
from reviews_service import domain, repository
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, free_port
from tests.form_helpers import counts, invite, photo
from tests.test_widgets_browser import CLS_OBSERVER, browser

__all__ = ["browser"]  # the fixture, imported for this module

AXE = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 10_000


@contextmanager
def _served(settings: Settings, state: ServiceState) -> Iterator[str]:
    """The whole app on a free port of 127.0.0.1 (uvicorn in a thread), on the test's store; yields its base URL."""
    app = create_app(settings, connect=False, state=state)
    app.dependency_overrides[now_dep] = lambda: NOW
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(shop: domain.BusinessUnit, settings: Settings, state: ServiceState) -> Iterator[str]:
    with _served(settings, state) as url:
        yield url


def _page(browser: Browser, viewport: dict[str, int] = PHONE, js: bool = True) -> Page:
    context = browser.new_context(viewport=viewport, java_script_enabled=js, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def _axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in result["violations"]]


def _active(page: Page) -> str:
    return str(page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)"))


def _shots(page: Page, tmp_path: Path, name: str) -> None:
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(tmp_path / f"{name}-{label}.png"), full_page=True)
        if label == "phone":
            widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
            assert max(widths) <= PHONE["width"], widths  # nothing wider than the phone
    page.set_viewport_size(PHONE)


def test_keyboard_only_fills_and_sends_the_form(
    browser: Browser, served: str, settings: Settings, tmp_path: Path
) -> None:
    invitation, token = invite(settings)
    page = _page(browser)
    try:
        page.goto(f"{served}/r/{token}")
        page.keyboard.press("Tab")
        assert _active(page) == "s0-rating-1"  # the first stop: the shop's stars
        outline = page.evaluate("getComputedStyle(document.querySelector('label[for=s0-rating-1]')).outlineStyle")
        assert outline == "solid"  # the focus ring shows on the star
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert _active(page) == "s0-rating-4" and page.is_checked("#s0-rating-4")
        page.keyboard.press("Tab")
        assert _active(page) == "s0-title"
        page.keyboard.type("Goed geholpen")
        page.keyboard.press("Tab")
        page.keyboard.type("Alles met het toetsenbord ingevuld.")
        page.keyboard.press("Tab")
        assert _active(page) == "s1-rating-1"  # the first product's stars
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#s1-rating-2")
        seen = []
        for _ in range(20):  # on to the button: never through the honeypot
            page.keyboard.press("Tab")
            seen.append(_active(page))
            if seen[-1] == "BUTTON":
                break
        assert seen[-1] == "BUTTON" and "website" not in seen, seen
        _shots(page, tmp_path, "keyboard-filled")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/r/{token}/thanks")
        assert page.get_by_role("heading", name="Bedankt voor je beoordeling!").is_visible()
        _shots(page, tmp_path, "thanks")
    finally:
        page.context.close()
    assert repository.get_review(review_id(invitation, None)).rating == 4
    assert repository.get_review(review_id(invitation, "oak-chair")).rating == 2
    assert counts(invitation.id)["reviews"] == 2


def test_the_star_radios_have_names_a_screen_reader_says(browser: Browser, served: str, settings: Settings) -> None:
    _, token = invite(settings, locale="en")
    page = _page(browser)
    try:
        page.goto(f"{served}/r/{token}")
        assert page.get_by_role("radio", name="4 stars").count() == 3
        assert page.get_by_role("radio", name="1 star", exact=True).count() == 3
        group = page.get_by_role("group", name="Your rating of Test Shop (required)")
        assert group.get_by_role("radio").count() == 5
        assert page.get_by_role("group", name="Your rating of Oak chair (optional)").count() == 1
        assert page.get_by_label("Photos").count() == 2 and page.get_by_role("textbox", name="Title").count() == 3
        assert page.get_by_role("textbox", name="Leave this field empty").count() == 0  # hidden from the tree
        page.get_by_role("radio", name="4 stars").first.check()  # a click on the star, as a mouse does
        assert page.is_checked("#s0-rating-4")
    finally:
        page.context.close()


def test_no_layout_shift_and_no_axe_violation_on_the_empty_form(
    browser: Browser, served: str, settings: Settings, tmp_path: Path
) -> None:
    _, token = invite(settings)
    page = _page(browser)
    try:
        page.add_init_script(CLS_OBSERVER)
        page.goto(f"{served}/r/{token}?rating=5", wait_until="load")
        page.wait_for_timeout(500)
        assert page.evaluate("window.__cls") == 0, page.evaluate("window.__shifts")
        assert _axe(page) == []
        _shots(page, tmp_path, "empty")
    finally:
        page.context.close()


def test_the_form_with_errors_has_no_axe_violation_and_focuses_its_summary(
    browser: Browser, served: str, settings: Settings, tmp_path: Path
) -> None:
    invitation, token = invite(settings)
    page = _page(browser)
    try:
        page.add_init_script(CLS_OBSERVER)
        page.goto(f"{served}/r/{token}")
        page.fill("#s1-title", "Titel zonder sterren")
        page.fill("#s0-text", "Geen sterren voor de winkel gekozen.")
        page.click("button[type=submit]")  # novalidate: the server's errors, not the browser's bubbles
        page.wait_for_selector(".summary")
        assert page.get_by_role("alert").count() == 1
        assert _active(page) != "BODY"  # the summary takes focus, so it is read out first
        assert page.locator("#s0-rating-1").get_attribute("aria-invalid") == "true"
        assert page.input_value("#s0-text") == "Geen sterren voor de winkel gekozen."  # kept
        assert page.evaluate("window.__cls") == 0, page.evaluate("window.__shifts")
        assert _axe(page) == []
        page.get_by_role("link", name="Kies hoeveel sterren je de winkel geeft (1 tot 5).").click()
        assert _active(page) == "s0-rating-1"  # the summary's link leads to the field
        _shots(page, tmp_path, "errors")
    finally:
        page.context.close()
    assert counts(invitation.id) == {"reviews": 0, "photos": 0, "submissions": 0}


def test_with_javascript_off_the_form_still_sends_with_photos(
    browser: Browser, served: str, settings: Settings, tmp_path: Path
) -> None:
    invitation, token = invite(settings)
    chair = tmp_path / "stoel.jpg"
    chair.write_bytes(photo(size=(800, 600), exif=True))
    page = _page(browser, js=False)
    try:
        page.goto(f"{served}/r/{token}")
        page.click("#s0-rating-5")  # a tap on the fifth star (its radio lies over it, unseen)
        page.click("#s1-rating-3")
        page.fill("#s1-text", "Prima stoel, zonder JavaScript beoordeeld.")
        page.set_input_files("#s1-photo", [str(chair)])
        page.click("button[type=submit]")
        page.wait_for_url(f"**/r/{token}/thanks")
        page.click("text=Je beoordeling wijzigen")
        page.wait_for_url(f"**/r/{token}")
        assert page.is_checked("#s1-rating-3") and "Foto’s bij je eerdere beoordeling: 1" in page.content()
        _shots(page, tmp_path, "second-visit")
    finally:
        page.context.close()
    review = repository.get_review(review_id(invitation, "oak-chair"))
    assert review.rating == 3 and len(review.photos) == 1 and counts(invitation.id)["photos"] == 1

"""Widget markup: scores on the shop's scale, words and numbers per locale, half stars, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from reviews_service import domain
from reviews_service.i18n import format_number
from widgets import render

NL = domain.BusinessUnit(slug="nl", name="Flinders", locales=("nl",), display_scale=10, timezone="Europe/Amsterdam")
DE = domain.BusinessUnit(slug="de", name="Flinders DE", locales=("de",), display_scale=5)


def summary(histogram: dict[int, int]) -> domain.RatingSummary:
    return domain.RatingSummary("k", "nl", None, {r: histogram.get(r, 0) for r in domain.RATINGS}, None)


BIG = summary({5: 3000, 4: 1000, 3: 300, 2: 112, 1: 100})  # 4,512 reviews, average 4.482 -> 9.0 / 10


def test_numbers_follow_the_locale() -> None:
    assert format_number(8.84, "nl") == "8,8"
    assert format_number(4.42, "en") == "4.4"
    assert format_number(4512, "nl", decimals=0) == "4.512"
    assert format_number(4512, "de", decimals=0) == "4.512"
    assert format_number(4512, "en", decimals=0) == "4,512"
    assert format_number(4512, "fr", decimals=0) == "4\u202f512"


@pytest.mark.parametrize(
    ("average", "steps"), [(None, 0), (1.0, 2), (4.24, 8), (4.25, 9), (4.26, 9), (4.74, 9), (4.75, 10), (5.0, 10)]
)
def test_stars_fill_in_half_star_steps(average: float | None, steps: int) -> None:
    assert f"rw-s{steps}" in render.stars(average, "label")
    assert f'rw-s{steps}"' in render.stars(average, "label")


def test_badge_on_a_ten_point_scale_in_dutch() -> None:
    html = render.badge(NL, BIG, "nl", "https://flinders.nl/reviews")
    assert 'aria-label="Beoordeeld met 9,0 van 10 op basis van 4.512 beoordelingen"' in html
    assert "<b>9,0</b> / 10" in html
    assert "4.512 beoordelingen" in html
    assert ">Uitstekend<" in html
    assert html.count('role="img"') == 1
    assert 'href="https://flinders.nl/reviews"' in html


def test_badge_on_a_five_point_scale_in_german_and_english() -> None:
    de = render.badge(DE, BIG, "de", "")
    assert 'aria-label="Bewertet mit 4,5 von 5 basierend auf 4.512 Bewertungen"' in de
    assert "<a " not in de  # no link without a reviews page
    en = render.badge(DE, BIG, "en", "")
    assert 'aria-label="Rated 4.5 out of 5 based on 4,512 reviews"' in en


@pytest.mark.parametrize(
    ("histogram", "label"), [({5: 9, 4: 1}, "Excellent"), ({4: 1}, "Great"), ({3: 1}, "Average"), ({1: 1}, "Bad")]
)
def test_labels_follow_trustpilot_bands(histogram: dict[int, int], label: str) -> None:
    assert f">{label}<" in render.badge(DE, summary(histogram), "en", "")


def test_no_reviews_yet_is_said_not_shown_as_zero() -> None:
    html = render.badge(NL, summary({}), "nl", "")
    assert "Nog geen beoordelingen" in html and 'aria-label="Nog niet beoordeeld"' in html
    assert "0,0" not in html and "rw-s0" in html
    stars = render.product_stars(NL, summary({}), "fr")
    assert "Pas encore d&#x27;avis" in stars


def hostile_review() -> domain.Review:
    when = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    return domain.Review(
        id="x", business_unit="nl", source="api", external_id="1", rating=1,
        title='" onerror="alert(1)', text="<script>alert(2)</script> javascript:alert(3) <img src=x onerror=alert(4)>",
        created_at=when, updated_at=when, author='Eve"><svg onload=alert(5)>', reply="<b>Sorry</b>",
    )  # fmt: skip


def test_review_text_title_author_and_reply_are_escaped() -> None:
    html = render.review_list(NL, [hostile_review()], "nl", 5, "javascript:alert(6)")
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html and "<b>Sorry" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&quot; onerror=&quot;alert(1)" in html
    assert "javascript:alert(6)" not in html  # an unsafe link target is dropped, not rendered
    assert "javascript:alert(3)" in html  # as text it is harmless
    assert '<time class="rw-date" datetime="2026-11-21">21 nov 2026</time>' in html  # shop time zone, CLDR nl


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//evil.example", "https://a b", ""])
def test_only_http_and_site_relative_links(url: str) -> None:
    assert render.safe_url(url) is None


def test_standalone_svg_is_well_formed_and_labelled() -> None:
    svg = render.badge_svg(NL, BIG, "nl")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == "Flinders: Beoordeeld met 9,0 van 10 op basis van 4.512 beoordelingen"
    unit = domain.BusinessUnit(slug="x", name='A & B <"shop">', locales=("en",))
    ET.fromstring(render.badge_svg(unit, BIG, "en"))  # hostile shop names stay well-formed XML


def test_a_ten_point_shop_shows_product_and_review_scores_on_its_scale() -> None:
    stars = render.product_stars(NL, BIG, "nl")
    assert '<span class="rw-score" aria-hidden="true">9,0<span class="rw-scale"> / 10</span></span>' in stars
    when = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    four = domain.Review(
        id="r", business_unit="nl", source="api", external_id="r", rating=4, title="t", text="x",
        created_at=when, updated_at=when,
    )  # fmt: skip
    item = render.review_item(NL, four, "nl")
    assert 'aria-label="8 van 10"' in item and ">8 / 10<" in item
    assert 'aria-label="4 von 5 Sternen"' in render.review_item(DE, four, "de") and " / 5<" not in item


def test_a_product_without_reviews_says_it_once() -> None:
    stars = render.product_stars(NL, summary({}), "nl")
    assert 'role="img"' not in stars and "aria-label" not in stars
    assert stars.count("Nog geen beoordelingen") == 1  # (and a short form for narrow boxes, shown instead)
    assert "rw-short" in stars and "Geen beoordelingen" in stars


def test_a_long_text_gets_a_read_more_that_works_without_javascript() -> None:
    when = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    long = domain.Review(
        id="r", business_unit="nl", source="api", external_id="r", rating=5, title="", text="Mooi. " * 40,
        created_at=when, updated_at=when,
    )  # fmt: skip
    html = render.review_item(NL, long, "nl")
    assert html.count("Mooi.") == 40  # the whole text, once
    assert '<input type="checkbox" class="rw-toggle-box">' in html and "Lees meer" in html
    short = render.review_item(NL, domain.Review(**{**long.__dict__, "text": "Mooi."}), "nl")
    assert "rw-toggle" not in short

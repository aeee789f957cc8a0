"""A shown score and its stars never disagree: both come from one rounding of the exact mean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations

import pytest

from reviews_service import domain
from widgets import render

UNIT = {scale: domain.BusinessUnit(slug="s", name="S", display_scale=scale) for scale in (5, 10)}


def histograms(max_reviews: int) -> Iterator[dict[int, int]]:
    """Every 1-5 histogram with 1..max_reviews reviews (stars and bars over 5 bins)."""
    for n in range(1, max_reviews + 1):
        for bars in combinations(range(n + 4), 4):
            edges = (-1, *bars, n + 4)
            yield {r: edges[r] - edges[r - 1] - 1 for r in domain.RATINGS}


def summary_of(histogram: dict[int, int]) -> domain.RatingSummary:
    return domain.RatingSummary("s", "s", None, histogram, None)


def half_stars_of_shown(shown: Decimal, scale: int) -> Decimal:
    """What a shopper expects: the shown score on its scale, in half stars out of five, half up."""
    return (shown * 10 / scale).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def test_every_histogram_up_to_30_reviews_shows_stars_matching_its_score() -> None:
    checked = 0
    for histogram in histograms(30):
        summary = summary_of(histogram)
        mean = Decimal(sum(r * c for r, c in histogram.items())) / Decimal(sum(histogram.values()))
        for scale in (5, 10):
            shown = Decimal(str(summary.display_value(scale)))
            assert shown == (mean * scale / 5).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), histogram
            assert Decimal(str(summary.stars(scale))) == half_stars_of_shown(shown, scale), (histogram, scale)
            checked += 1
    assert checked == 2 * 324_631  # C(35, 5) - 1 histograms


def _shown_and_filled(html: str) -> tuple[Decimal, Decimal]:
    score = re.search(r'class="rw-score" aria-hidden="true">(?:<b>)?([0-9]+,[0-9])', html)
    steps = re.search(r"rw-stars(?: rw-stars-sm)? rw-s([0-9]+)", html)
    assert score and steps, html
    return Decimal(score.group(1).replace(",", ".")), Decimal(steps.group(1)) / 2


@pytest.mark.parametrize("scale", [5, 10])
def test_rendered_badges_and_product_stars_fill_what_they_show(scale: int) -> None:
    unit = UNIT[scale]
    for histogram in histograms(12):  # 2,25 (4 reviews) and 5,5 / 10 (11 reviews) disagreed before
        summary = summary_of(histogram)
        for html in (render.badge(unit, summary, "nl", ""), render.product_stars(unit, summary, "nl")):
            shown, filled = _shown_and_filled(html)
            assert filled == half_stars_of_shown(shown, scale), (histogram, html)
        svg = render.badge_svg(unit, summary, "nl")
        width = Decimal(re.search(r'<rect x="0" y="0" width="([0-9.]+)"', svg).group(1))  # type: ignore[union-attr]
        assert width == 120 * half_stars_of_shown(shown, scale) / 5, (histogram, svg)


def test_the_examples_that_disagreed() -> None:
    four = summary_of({1: 0, 2: 3, 3: 1, 4: 0, 5: 0})  # mean 2.25
    assert (four.display_value(5), four.stars(5)) == (2.3, 2.5)
    eleven = summary_of({1: 0, 2: 3, 3: 8, 4: 0, 5: 0})  # mean 2.727...: "5,5 / 10"
    assert (eleven.display_value(10), eleven.stars(10)) == (5.5, 3.0)
    assert summary_of(dict.fromkeys(domain.RATINGS, 0)).stars(5) == 0.0

"""WCAG contrast of the widgets' colours, read from widgets.css: AA for text, 3:1 for stars and focus rings."""

from __future__ import annotations

import re
from importlib import resources

import pytest

CSS = resources.files("widgets").joinpath("static/widgets.css").read_text(encoding="utf-8")
# the page behind a light widget (its own --rw-bg is transparent) and the dark theme's own background
BACKGROUNDS = {"light": "#ffffff", "dark": None}


def _block(selector_start: str) -> dict[str, str]:
    match = re.search(re.escape(selector_start) + r"[^{]*\{([^}]*)\}", CSS)
    assert match, selector_start
    return dict(re.findall(r"--(rw-[a-z-]+):\s*(#[0-9a-fA-F]{6})", match.group(1)))


THEMES = {"light": _block("[data-reviews-widget], .rw"), "dark": _block('[data-theme="dark"], [data-theme="dark"] .rw')}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(
    ("colour", "minimum"), [("rw-fg", 4.5), ("rw-muted", 4.5), ("rw-link", 4.5), ("rw-star", 3.0), ("rw-focus", 3.0)]
)
def test_widget_colours_meet_wcag_aa(theme: str, colour: str, minimum: float) -> None:
    background = BACKGROUNDS[theme] or THEMES[theme]["rw-bg"]
    ratio = contrast(THEMES[theme][colour], background)
    assert ratio >= minimum, f"{theme} --{colour} {THEMES[theme][colour]} on {background}: {ratio:.2f} < {minimum}"


def test_the_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)

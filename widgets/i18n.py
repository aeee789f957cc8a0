"""What is widget-specific about languages: which ones we speak, which one a widget uses, the score bands.

The words themselves are English msgids translated by the gettext catalogs of `reviews_service.i18n`
(`locales/<lang>/LC_MESSAGES/widgets.po`); numbers come from babel's CLDR data there too.
"""

from __future__ import annotations

from reviews_service import i18n
from reviews_service.i18n import N_

# The languages with catalogs, the first four in the order our messages and admin forms list them
# ("use one of: nl, en, de, fr"); a new catalog directory adds its language after them.
_ORDER = ("nl", "en", "de", "fr")
LOCALES: tuple[str, ...] = tuple(
    sorted(i18n.LOCALES, key=lambda lang: (_ORDER.index(lang) if lang in _ORDER else len(_ORDER), lang))
)
DEFAULT_LOCALE = i18n.DEFAULT_LOCALE

# Trustpilot's TrustScore bands on the 1-5 average, which shoppers know; the labels are msgids.
BANDS = ((4.3, N_("Excellent")), (3.8, N_("Great")), (2.8, N_("Average")), (1.8, N_("Poor")), (0.0, N_("Bad")))


def pick_locale(requested: str | None, offered: tuple[str, ...] = ()) -> str:
    """The widget language: the requested one if we speak it, else the shop's first we speak, else English."""
    for candidate in ((requested or "").lower()[:2], *[o[:2] for o in offered]):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def band(average: float | None) -> str | None:
    """The English label (a msgid: 'Excellent' ... 'Bad') of a 1-5 average, None without reviews."""
    if average is None:
        return None
    return next(label for floor, label in BANDS if average >= floor)

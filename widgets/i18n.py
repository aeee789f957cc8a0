"""Words and number formats of the widgets in nl, en, de and fr."""

from __future__ import annotations

LOCALES = ("nl", "en", "de", "fr")
DEFAULT_LOCALE = "en"

# (decimal separator, thousands separator) per locale; fr groups with a narrow no-break space.
NUMBERS = {"nl": (",", "."), "en": (".", ","), "de": (",", "."), "fr": (",", "\u202f")}

# Trustpilot's TrustScore bands on the 1-5 average, which shoppers know.
BANDS = ((4.3, "excellent"), (3.8, "great"), (2.8, "average"), (1.8, "poor"), (0.0, "bad"))

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "excellent": "Excellent",
        "great": "Great",
        "average": "Average",
        "poor": "Poor",
        "bad": "Bad",
        "rated": "Rated {value} out of {scale} based on {count} reviews",
        "rated_one": "Rated {value} out of {scale} based on 1 review",
        "reviews": "{count} reviews",
        "reviews_one": "1 review",
        "no_reviews": "No reviews yet",
        "no_reviews_short": "No reviews",
        "no_rating": "Not rated yet",
        "verified": "Verified buyer",
        "reply": "Reply from {shop}",
        "read_reviews": "Read our reviews",
        "latest": "Latest reviews",
        "stars_label": "{value} out of 5 stars",
        "score_label": "{value} out of {scale}",
        "read_more": "Read more",
        "read_less": "Show less",
        "anonymous": "Customer",
    },
    "nl": {
        "excellent": "Uitstekend",
        "great": "Goed",
        "average": "Gemiddeld",
        "poor": "Slecht",
        "bad": "Zeer slecht",
        "rated": "Beoordeeld met {value} van {scale} op basis van {count} beoordelingen",
        "rated_one": "Beoordeeld met {value} van {scale} op basis van 1 beoordeling",
        "reviews": "{count} beoordelingen",
        "reviews_one": "1 beoordeling",
        "no_reviews": "Nog geen beoordelingen",
        "no_reviews_short": "Geen beoordelingen",
        "no_rating": "Nog niet beoordeeld",
        "verified": "Geverifieerde koper",
        "reply": "Reactie van {shop}",
        "read_reviews": "Bekijk onze beoordelingen",
        "latest": "Laatste beoordelingen",
        "stars_label": "{value} van 5 sterren",
        "score_label": "{value} van {scale}",
        "read_more": "Lees meer",
        "read_less": "Minder",
        "anonymous": "Klant",
    },
    "de": {
        "excellent": "Hervorragend",
        "great": "Gut",
        "average": "Akzeptabel",
        "poor": "Mangelhaft",
        "bad": "Ungenügend",
        "rated": "Bewertet mit {value} von {scale} basierend auf {count} Bewertungen",
        "rated_one": "Bewertet mit {value} von {scale} basierend auf 1 Bewertung",
        "reviews": "{count} Bewertungen",
        "reviews_one": "1 Bewertung",
        "no_reviews": "Noch keine Bewertungen",
        "no_reviews_short": "Keine Bewertungen",
        "no_rating": "Noch nicht bewertet",
        "verified": "Verifizierter Kauf",
        "reply": "Antwort von {shop}",
        "read_reviews": "Unsere Bewertungen lesen",
        "latest": "Neueste Bewertungen",
        "stars_label": "{value} von 5 Sternen",
        "score_label": "{value} von {scale}",
        "read_more": "Weiterlesen",
        "read_less": "Weniger",
        "anonymous": "Kunde",
    },
    "fr": {
        "excellent": "Excellent",
        "great": "Bien",
        "average": "Moyen",
        "poor": "Médiocre",
        "bad": "Mauvais",
        "rated": "Noté {value} sur {scale} sur la base de {count} avis",
        "rated_one": "Noté {value} sur {scale} sur la base de 1 avis",
        "reviews": "{count} avis",
        "reviews_one": "1 avis",
        "no_reviews": "Pas encore d'avis",
        "no_reviews_short": "Aucun avis",
        "no_rating": "Pas encore noté",
        "verified": "Achat vérifié",
        "reply": "Réponse de {shop}",
        "read_reviews": "Lire nos avis",
        "latest": "Derniers avis",
        "stars_label": "{value} étoiles sur 5",
        "score_label": "{value} sur {scale}",
        "read_more": "Lire la suite",
        "read_less": "Réduire",
        "anonymous": "Client",
    },
}


def pick_locale(requested: str | None, offered: tuple[str, ...] = ()) -> str:
    """The widget language: the requested one if we speak it, else the shop's first we speak, else English."""
    for candidate in ((requested or "").lower()[:2], *[o[:2] for o in offered]):
        if candidate in WORDS:
            return candidate
    return DEFAULT_LOCALE


def word(locale: str, key: str, **values: object) -> str:
    """A translated phrase with its placeholders filled in."""
    return WORDS[locale][key].format(**values)


def number(value: float, locale: str, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5' (nl/de), '1,234.5' (en), '1 234,5' (fr)."""
    point, group = NUMBERS[locale]
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", group)


def count(value: int, locale: str) -> str:
    """A whole number with the locale's grouping: 4512 -> '4.512' / '4,512' / '4 512'."""
    return number(value, locale, decimals=0)


def band(average: float | None) -> str | None:
    """The label key for a 1-5 average ('excellent' ... 'bad'), None without reviews."""
    if average is None:
        return None
    return next(key for floor, key in BANDS if average >= floor)

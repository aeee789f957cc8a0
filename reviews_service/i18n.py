"""Every word a person reads, from gettext catalogs; numbers, dates and plurals from babel's CLDR data.

The messages are English msgids with `{name}` placeholders, written where they are used:

    gettext("nl", "Reply from {shop}", shop=name)            -> "Reactie van Flinders"
    ngettext("de", "{n} review", "{n} reviews", 4512)         -> "4.512 Bewertungen"

Catalogs are `locales/<language>/LC_MESSAGES/<area>.po` beside this module (widgets, digest, alerts, ...);
every `.po` file of a language is read, so adding a language is adding its directory of catalogs. English needs
no catalog: its msgids are the English text. Catalogs are package data, read once per process and never
changed, so they are cached per language rather than held by the app.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path
from string import Formatter
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOGS = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "en"


def _languages() -> tuple[str, ...]:
    found = {p.name for p in CATALOGS.iterdir() if (p / "LC_MESSAGES").is_dir()} if CATALOGS.is_dir() else set()
    return tuple(sorted(found | {DEFAULT_LOCALE}))


LOCALES: tuple[str, ...] = _languages()


def pick(locale: str | None) -> str:
    """'nl-BE' / 'nl_BE' / 'NL' -> 'nl'; a language without catalogs -> English."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def catalog(locale: str) -> Catalog:
    """Every message of one language, merged from its `.po` files (for checks and tools)."""
    merged = Catalog(locale=locale, domain="messages")
    for path in sorted((CATALOGS / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id:
                    merged[message.id] = message
    return merged


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale` (English: the msgids themselves)."""
    language = pick(locale)
    if language == DEFAULT_LOCALE:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled)


def N_(message: str) -> str:
    """Mark an English msgid for extraction where it is defined, to be translated later with `gettext`."""
    return message


def gettext(locale: str, message: str, **values: object) -> str:
    """`message` in `locale`, its `{placeholders}` filled from `values`."""
    text = translations(pick(locale)).gettext(message)
    return _fill(text, values) if values else text


def ngettext(locale: str, singular: str, plural: str, n: int, **values: object) -> str:
    """The plural form CLDR prescribes for `n` in `locale`; `{n}` is `n` with the locale's grouping."""
    language = pick(locale)
    text = translations(language).ngettext(singular, plural, n)
    return _fill(text, {"n": format_number(n, language, decimals=0), **values})


def _fill(text: str, values: dict[str, object]) -> str:
    # A translation naming a placeholder the code does not pass must not raise in front of a customer:
    # the test on the catalogs catches it, and here it stays visible as {name}.
    wanted = {field for _, field, _, _ in Formatter().parse(text) if field}
    return text.format_map({name: values.get(name, "{" + name + "}") for name in wanted})


def format_number(value: float, locale: str, decimals: int = 1) -> str:
    """4512.5 -> '4.512,5' (nl, de), '4,512.5' (en), '4 512,5' (fr, narrow no-break space)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=pick(locale), decimal_quantization=True)


def format_percent(value: float, locale: str, decimals: int = 0) -> str:
    """0.125 -> '12,5 %' / '12.5%' as the locale writes percentages."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return numbers.format_percent(value, format=pattern, locale=pick(locale), decimal_quantization=True)


def format_date(value: date | datetime, locale: str, format: str = "medium") -> str:
    """A calendar date as the locale writes it ('1 dec 2026', 'Dec 1, 2026', '01.12.2026')."""
    day = value.date() if isinstance(value, datetime) else value
    return dates.format_date(day, format=format, locale=pick(locale))


def format_datetime(value: datetime, locale: str, tz: str = "UTC", format: str = "medium") -> str:
    """A moment in the time zone `tz`, as the locale writes it."""
    return dates.format_datetime(value, format=format, tzinfo=ZoneInfo(tz), locale=pick(locale))


def language_name(language: str, locale: str) -> str:
    """'nl' named in `locale`: 'Nederlands', 'Dutch', 'Niederländisch', 'néerlandais'."""
    name: str = Locale.parse(pick(locale)).languages.get(language, language)
    return name

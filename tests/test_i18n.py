"""Every word a person reads comes from a complete catalog; plurals, numbers and dates follow CLDR.

The catalog tests extract the msgids from the code itself (babel, as `scripts/i18n check` does) and hold each
language's `.po` files against them, so a new catalog (digest.po, alerts.po, ...) is checked as soon as it lands.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reviews_service import catalog_check, i18n
from widgets import i18n as widget_i18n

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("nl", "de", "fr")


def _report(problems: list[catalog_check.Problem]) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.fixture(scope="module")
def used() -> dict[str, catalog_check.Used]:
    return catalog_check.extract()


def test_the_extraction_finds_the_words_of_the_widgets_seo_and_demo(used: dict[str, catalog_check.Used]) -> None:
    assert used["{n} review"].plural == "{n} reviews"
    assert "Verified buyer" in used  # said inside markup, moved out of the f-string so babel sees it
    assert "Excellent" in used  # a band label, marked with N_() where the bands are defined
    assert any(loc.startswith("seo/jsonld.py:") for loc in used["Customer"].locations)
    assert "On back order" in used  # demo shop
    assert "Read our reviews" in used  # loader.js's fallback, filled by widgets/service.py


@pytest.mark.parametrize("language", SHIPPED)
def test_every_msgid_has_a_complete_translation_and_the_catalogs_nothing_stale(language: str) -> None:
    assert language in catalog_check.languages()
    problems = [p for p in catalog_check.check() if p.language in (language, "*")]
    assert problems == [], _report(problems)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    """A copy of the shipped catalogs to break on purpose."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.CATALOGS, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_check_names_a_missing_a_fuzzy_and_a_stale_entry_with_their_files(locales: Path) -> None:
    widgets_nl = locales / "nl" / "LC_MESSAGES" / "widgets.po"
    _edit(widgets_nl, 'msgid "Verified buyer"\nmsgstr "Geverifieerde koper"\n', "")
    _edit(widgets_nl, 'msgid "Show less"', '#, fuzzy\nmsgid "Show less"')
    demo_de = locales / "de" / "LC_MESSAGES" / "demo.po"
    demo_de.write_text(demo_de.read_text(encoding="utf-8") + '\nmsgid "Free delivery"\nmsgstr "Gratis Lieferung"\n')
    found = {(p.language, p.where.split(":")[0], p.kind, p.msgid) for p in catalog_check.check(locales=locales)}
    assert found == {
        ("nl", "reviews_service/review_page.py", "missing", "Verified buyer"),  # the first file that says it
        ("nl", str(widgets_nl), "fuzzy", "Show less"),
        ("de", str(demo_de), "stale", "Free delivery"),
    }


def test_the_check_wants_the_msgids_placeholders_and_every_plural_form(locales: Path) -> None:
    fr = locales / "fr" / "LC_MESSAGES" / "widgets.po"
    _edit(fr, 'msgstr "Réponse de {shop}"', 'msgstr "Réponse de {boutique}"')
    _edit(fr, 'msgid_plural "{n} reviews"\nmsgstr[0] "{n} avis"\nmsgstr[1] "{n} avis"', 'msgstr "{n} avis"')
    _edit(locales / "de" / "LC_MESSAGES" / "widgets.po", 'msgstr[1] "{n} Bewertungen"', 'msgstr[1] "Bewertungen"')
    problems = {(p.language, p.kind, p.msgid) for p in catalog_check.check(locales=locales)}
    assert problems == {
        ("fr", "placeholders", "Reply from {shop}"),
        ("fr", "plural forms", "{n} review"),
        ("de", "placeholders", "{n} review"),
    }


def test_scripts_i18n_check_passes_on_the_shipped_catalogs_and_fails_on_a_broken_one(locales: Path) -> None:
    ok = subprocess.run([ROOT / "scripts" / "i18n", "check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    _edit(locales / "fr" / "LC_MESSAGES" / "demo.po", 'msgstr "Épuisé"', 'msgstr ""')
    bad = subprocess.run(
        [ROOT / "scripts" / "i18n", "--locales", locales, "check"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1
    assert f"fr {locales}/fr/LC_MESSAGES/demo.po: untranslated: 'Sold out'" in bad.stdout


def test_scripts_i18n_new_starts_a_language_with_every_msgid_untranslated(
    locales: Path, used: dict[str, catalog_check.Used]
) -> None:
    made = subprocess.run(
        [ROOT / "scripts" / "i18n", "--locales", locales, "new", "es"], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    areas = {p.name for language in SHIPPED for p in (locales / language / "LC_MESSAGES").glob("*.po")}
    assert {p.name for p in (locales / "es" / "LC_MESSAGES").iterdir()} == areas  # each msgid in its area's file
    problems = catalog_check.check(locales=locales)
    assert {p.msgid for p in problems if p.language == "es" and p.kind == "untranslated"} == set(used)
    assert [p for p in problems if p.language != "es"] == []
    again = subprocess.run(
        [ROOT / "scripts" / "i18n", "--locales", locales, "new", "es"], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    for bad in ("ES", "xx", "es-ES"):
        assert catalog_check.main(["--locales", str(locales), "new", bad]) == 2


# --- reviews_service.i18n itself


def test_plurals_follow_cldr_per_language() -> None:
    assert [i18n.ngettext("fr", "{n} review", "{n} reviews", n) for n in (0, 1, 2)] == ["0 avis", "1 avis", "2 avis"]
    assert [i18n.ngettext("nl", "{n} review", "{n} reviews", n) for n in (0, 1, 2)] == [
        "0 beoordelingen",
        "1 beoordeling",
        "2 beoordelingen",
    ]
    assert i18n.ngettext("de", "{n} review", "{n} reviews", 4512) == "4.512 Bewertungen"
    assert i18n.ngettext("en", "{n} review", "{n} reviews", 1) == "1 review"


def test_numbers_and_dates_as_each_language_writes_them() -> None:
    assert [i18n.format_number(4512.5, loc) for loc in ("nl", "en", "de", "fr")] == [
        "4.512,5",
        "4,512.5",
        "4.512,5",
        "4\u202f512,5",
    ]
    assert i18n.format_number(8.84, "nl") == "8,8"
    assert i18n.format_number(4512, "en", decimals=0) == "4,512"
    day = date(2026, 12, 1)
    assert [i18n.format_date(day, loc) for loc in ("nl", "en", "de", "fr")] == [
        "1 dec 2026",
        "Dec 1, 2026",
        "01.12.2026",
        "1 déc. 2026",
    ]
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already the next day in Amsterdam
    assert i18n.format_datetime(late, "nl", "Europe/Amsterdam") == "2 dec 2026, 00:30:00"


def test_an_unknown_locale_is_english() -> None:
    assert i18n.gettext("es", "Verified buyer") == "Verified buyer"
    assert i18n.ngettext("xx-YY", "{n} review", "{n} reviews", 4512) == "4,512 reviews"
    assert i18n.format_number(4512.5, "zz") == "4,512.5"
    assert i18n.pick("nl-BE") == i18n.pick("NL_be") == "nl"
    assert widget_i18n.pick_locale("es", ("pt", "de-DE")) == "de"


def test_the_widget_languages_keep_their_order() -> None:
    assert widget_i18n.LOCALES == ("nl", "en", "de", "fr")


@pytest.fixture
def own_catalogs(tmp_path: Path) -> Iterator[Path]:
    """reviews_service.i18n reading catalogs written by the test (the cache cleared before and after)."""
    saved = i18n.CATALOGS
    i18n.CATALOGS = tmp_path
    i18n.translations.cache_clear()
    yield tmp_path
    i18n.CATALOGS = saved
    i18n.translations.cache_clear()


def _write(root: Path, language: str, entries: str) -> None:
    folder = root / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = f'msgid ""\nmsgstr ""\n"Language: {language}\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    (folder / "test.po").write_text(header + entries, encoding="utf-8")


def test_a_translation_naming_a_missing_placeholder_stays_visible(own_catalogs: Path) -> None:
    _write(own_catalogs, "nl", 'msgid "Reply from {shop}"\nmsgstr "Reactie van {winkel}"\n')
    assert i18n.gettext("nl", "Reply from {shop}", shop="Flinders") == "Reactie van {winkel}"


def test_fr_treats_zero_as_singular_where_the_forms_differ(own_catalogs: Path) -> None:
    plural = 'msgid "{n} new review"\nmsgid_plural "{n} new reviews"\n'
    _write(own_catalogs, "fr", plural + 'msgstr[0] "{n} nouvel avis"\nmsgstr[1] "{n} nouveaux avis"\n')
    _write(own_catalogs, "nl", plural + 'msgstr[0] "{n} nieuwe beoordeling"\nmsgstr[1] "{n} nieuwe beoordelingen"\n')
    fr = [i18n.ngettext("fr", "{n} new review", "{n} new reviews", n) for n in (0, 1, 2)]
    assert fr == ["0 nouvel avis", "1 nouvel avis", "2 nouveaux avis"]
    assert i18n.ngettext("nl", "{n} new review", "{n} new reviews", 0) == "0 nieuwe beoordelingen"


def test_an_untranslated_entry_shows_the_english_text_not_nothing(own_catalogs: Path) -> None:
    # what `scripts/i18n new` writes: every msgstr empty, the plural ones too
    plural = 'msgid "{n} review"\nmsgid_plural "{n} reviews"\nmsgstr[0] ""\nmsgstr[1] ""\n\n'
    _write(own_catalogs, "nl", plural + 'msgid "Verified buyer"\nmsgstr ""\n')
    assert i18n.ngettext("nl", "{n} review", "{n} reviews", 2) == "2 reviews"
    assert i18n.gettext("nl", "Verified buyer") == "Verified buyer"

"""The validation and clean-up every record goes through, whatever its source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviews_service import domain
from reviews_service import normalize as normalize_module
from reviews_service.normalize import (
    RecordRejected,
    clean_text,
    fingerprint,
    ignored_fields,
    normalize,
    parse_rating,
    parse_time,
)
from tests.conftest import NOW

UNIT = domain.BusinessUnit(slug="s", name="S", locales=("nl", "en"))


def _normalize(unit: domain.BusinessUnit = UNIT, **fields: object) -> domain.Review:
    record: dict[str, object] = {"external_id": "1", "rating": 4, "created_at": "2026-01-01T00:00:00Z"}
    record.update(fields)
    return normalize(record, business_unit=unit, skus={"oak-chair": object()}, now=NOW, max_text=20_000)


@pytest.mark.parametrize(("value", "stars"), [(1, 1), (5, 5), ("3", 3), (" 4 ", 4), (5.0, 5), (1.0, 1), ("5.0", 5)])
def test_whole_star_ratings_are_accepted(value: object, stars: int) -> None:
    assert parse_rating(value) == stars


@pytest.mark.parametrize(
    "value", [0, 6, 4.5, 5.5, 0.0, 6.0, float("nan"), float("inf"), "4.5", "5.", "five", True, None, "", "٣", [5]]
)
def test_anything_but_a_whole_star_rating_is_rejected(value: object) -> None:
    with pytest.raises(RecordRejected, match="rating must be a whole number from 1 to 5"):
        parse_rating(value)


@pytest.mark.parametrize(
    "written",
    [
        "the site showed <script> errors and I could not pay",
        "a<b and c>d",
        "<b>kapot</b>",
        '<p>Great <b>chair</b></p><img src=x onerror="alert(2)">ok',
        "Fijn &amp; snel &lt;3 &#x1F44D;",
        "AT&T and R&D stay as they are",
    ],
)
def test_what_the_customer_wrote_is_stored_as_written(written: str) -> None:
    assert clean_text(written, "text", 500) == written
    review = _normalize(title=written, text=written, author=written)
    assert (review.title, review.text, review.author) == (written, written, written[:99])


def test_text_that_only_looks_like_markup_is_kept() -> None:
    assert clean_text("5 < 6 and 7 > 3 & more", "text", 100) == "5 < 6 and 7 > 3 & more"


def test_control_bidi_and_unnormalised_characters_are_cleaned() -> None:
    dirty = "Cafe\u0301\x00 \u202eevil\u202c  chair\x07 👍🏽 椅子\r\nnext"
    assert clean_text(dirty, "text", 100) == "Café evil chair 👍🏽 椅子\nnext"


def test_lone_surrogates_are_removed_not_stored() -> None:
    assert clean_text("bad \ud800 half", "text", 100) == "bad half"


def test_too_long_text_is_rejected_with_the_limit() -> None:
    with pytest.raises(RecordRejected, match="20,000"):
        _normalize(text="x" * 1_048_576)


def test_times_are_utc_millisecond_precision_and_not_in_the_future() -> None:
    moment = parse_time("2026-03-01T10:00:00.123456+02:00", "created_at", NOW)
    assert moment.isoformat() == "2026-03-01T08:00:00.123000+00:00"
    with pytest.raises(RecordRejected, match="in the future"):
        parse_time((NOW + timedelta(days=3)).isoformat(), "created_at", NOW)
    with pytest.raises(RecordRejected, match="ISO 8601"):
        parse_time("yesterday", "created_at", NOW)


def test_unknown_product_is_rejected_with_how_to_fix() -> None:
    with pytest.raises(RecordRejected, match=r"unknown product 'sofa'.*products"):
        _normalize(product="sofa")


def test_author_e_mail_is_cut_to_a_display_name() -> None:
    assert _normalize(author="sanne.devries@example.com").author == "Sanne D."
    assert _normalize(author="jan@example.nl").author == "Jan"


def test_language_is_guessed_when_missing() -> None:
    assert _normalize(text="De stoel is mooi en het was heel snel geleverd, maar de doos was kapot.").language == "nl"
    assert _normalize(text="Der Tisch ist sehr schön und die Lieferung war schnell.").language == "de"
    assert _normalize(text="ok").language is None
    german_shop = domain.BusinessUnit(slug="de", name="DE", locales=("de",))
    assert _normalize(german_shop, text="Sehr schön!").language == "de"  # a one-language shop's reviews


def test_fingerprint_changes_with_content_but_not_with_arrival_time() -> None:
    a = _normalize(text="Nice")
    assert fingerprint(a) == fingerprint(_normalize(text="Nice"))
    assert fingerprint(a) != fingerprint(_normalize(text="Nice!"))
    assert fingerprint(a) != fingerprint(_normalize(text="Nice", rating=1))


def test_control_characters_in_escaped_form_are_text_not_control_characters() -> None:
    # "&#x202e;" is eight printable characters as typed; only a real U+202E would be removed.
    assert clean_text("&#x202e;kept\u202egone", "text", 100) == "&#x202e;keptgone"


@pytest.mark.parametrize("status", [{}, 0, [], False, "", "bogus", "Published"])
def test_a_status_that_is_not_one_of_ours_is_rejected_even_when_falsy(status: object) -> None:
    with pytest.raises(RecordRejected, match="status must be 'published', 'pending' or 'hidden'"):
        _normalize(status=status)


def test_only_an_absent_status_means_published() -> None:
    assert _normalize().status == "published"
    assert _normalize(status=None).status == "published"
    assert _normalize(status="hidden").status == "hidden"


@pytest.mark.parametrize(
    ("given", "stored"), [("nl", "nl"), ("EN", "en"), (" de ", "de"), ("fr-BE", "fr"), ("nl_NL", "nl")]
)
def test_supported_languages_are_stored_as_their_iso_code(given: str, stored: str) -> None:
    assert _normalize(language=given).language == stored


@pytest.mark.parametrize("language", ["klingon", "kl", "es", "english", "e", "nl-", 7, ["nl"], {"nl": 1}])
def test_other_languages_are_rejected_with_the_supported_list(language: object) -> None:
    with pytest.raises(RecordRejected, match="nl, en, de, fr"):
        _normalize(language=language)


def test_fields_ingest_does_not_know_are_named() -> None:
    assert ignored_fields({"external_id": "1", "colour": "red", "stars": 5}) == ["colour", "stars"]
    assert ignored_fields({"external_id": "1", "rating": 4}) == []


@given(st.text(max_size=60))
def test_the_fast_path_keeps_exactly_what_the_character_by_character_check_keeps(text: str) -> None:
    """Control, surrogate, private-use and unassigned characters go whichever path a text takes; nothing else does."""
    import unicodedata

    cleaned = normalize_module.clean_text(text, "text", 1000)
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in cleaned if ch not in "\n\t")
    slow = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(
            normalize_module._BIDI
        )
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    assert cleaned == normalize_module.clean_text(slow, "text", 1000)

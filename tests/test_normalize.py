"""The validation and clean-up every record goes through, whatever its source."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviews_service import domain
from reviews_service.normalize import RecordRejected, clean_text, fingerprint, normalize, parse_rating, parse_time
from tests.conftest import NOW

UNIT = domain.BusinessUnit(slug="s", name="S", locales=("nl", "en"))


def _normalize(unit: domain.BusinessUnit = UNIT, **fields: object) -> domain.Review:
    record: dict[str, object] = {"external_id": "1", "rating": 4, "created_at": "2026-01-01T00:00:00Z"}
    record.update(fields)
    return normalize(record, business_unit=unit, skus={"oak-chair": object()}, now=NOW, max_text=20_000)


@pytest.mark.parametrize("value", [1, 5, "3", " 4 "])
def test_whole_star_ratings_are_accepted(value: object) -> None:
    assert parse_rating(value) == int(str(value).strip())


@pytest.mark.parametrize("value", [0, 6, 4.5, "4.5", "five", True, None, "", "٣", [5]])
def test_anything_but_a_whole_star_rating_is_rejected(value: object) -> None:
    with pytest.raises(RecordRejected, match="rating must be a whole number from 1 to 5"):
        parse_rating(value)


def test_html_is_reduced_to_its_text_and_scripts_are_dropped() -> None:
    text = clean_text('<p>Great <b>chair</b></p><script>alert(1)</script><img src=x onerror="alert(2)">ok', "text", 500)
    assert text == "Great chair\nok"


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


def test_escaped_text_from_a_feed_is_unescaped_once() -> None:
    assert clean_text("Fijn &amp; snel &lt;3 &#x1F44D;", "text", 100) == "Fijn & snel <3 👍"
    assert clean_text("AT&T and R&D stay as they are", "text", 100) == "AT&T and R&D stay as they are"
    assert clean_text("&#x202e;gone&#x7;", "text", 100) == "gone"  # bidi and control characters still go

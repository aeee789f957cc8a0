"""The complaint taxonomy: matching in nl/en/de/fr (own sentences), inflections, accents, overrides, bounds."""

from __future__ import annotations

import pytest

from sentiment.taxonomy import Taxonomy, default_taxonomy, find_aspects


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "nl",
            "Onze eettafel is nog steeds niet geleverd, en de klantenservice is niet bereikbaar.",
            {"delivery", "customer_service"},
        ),
        ("nl", "Het dressoir kwam met een flinke deuk en twee beschadigde pootjes.", {"damage"}),
        ("nl", "Ik wil gewoon mijn geld terug, retourneren lukt niet.", {"refunds_returns"}),
        ("nl", "De stoel wiebelt en de schroeven pasten niet.", {"quality", "assembly"}),
        (
            "en",
            "Still waiting for the sideboard after six weeks, nobody wants to help me.",
            {"delivery", "customer_service"},
        ),
        ("en", "The armchair arrived broken and the leg was badly scratched.", {"damage"}),
        ("en", "They sent the wrong colour and refused a refund.", {"wrong_item", "refunds_returns"}),
        ("en", "Way overpriced for such flimsy cushions.", {"price", "quality"}),
        (
            "de",
            "Die Kommode wurde beschädigt geliefert, der Kundendienst ist nicht erreichbar.",
            {"damage", "customer_service"},
        ),
        (
            "de",
            "Die Lieferzeit war viel zu lang und die Aufbauanleitung fehlt.",
            {"delivery", "assembly", "wrong_item"},
        ),
        ("de", "Überteuerte Lampe mit schlechter Qualität.", {"price", "quality"}),
        ("fr", "Livraison en retard et canapé abîmé à l'arrivée.", {"delivery", "damage"}),
        (
            "fr",
            "Aucune réponse du service client, je demande un remboursement.",
            {"customer_service", "refunds_returns"},
        ),
        ("fr", "Table bancale, des vis manquantes, notice illisible.", {"quality", "assembly", "wrong_item"}),
    ],
)
def test_phrases_are_found_in_each_language(language: str, text: str, expected: set[str]) -> None:
    assert set(find_aspects(text, language)) == expected


def test_matching_ignores_case_and_accents_and_takes_simple_inflections() -> None:
    assert find_aspects("BESCHADIGDE kast", "nl") == ("damage",)
    assert find_aspects("beschadigt angekommen", "de") == ("damage",)  # written without the umlaut
    assert find_aspects("la livraison était très en RETARD", "fr") == ("delivery",)
    assert find_aspects("Delays every single time", "en") == ("delivery",)


def test_whole_words_only() -> None:
    # "duur" (expensive) must not be found in "duurde" (lasted) or "duurzaam" (sustainable)
    assert find_aspects("Het duurde even, maar alles is duurzaam hout.", "nl") == ()
    assert find_aspects("Je vis à Lyon depuis longtemps.", "fr") == ()
    assert find_aspects("A lovely sofa, we are very happy with it.", "en") == ()


def test_a_gap_allows_words_in_between() -> None:
    assert find_aspects("De bank is na drie weken niet op tijd geleverd", "nl") == ("delivery",)


def test_no_language_uses_every_language() -> None:
    assert find_aspects("kapot aangekomen", None) == ("damage",)
    assert find_aspects("arrived damaged", "xx") == ("damage",)


def test_results_follow_the_taxonomy_order() -> None:
    ids = [a.id for a in default_taxonomy().aspects]
    found = find_aspects("Refund refused, item damaged, delivery late", "en")
    assert list(found) == sorted(found, key=ids.index)


def test_an_override_extends_relabels_disables_and_adds() -> None:
    override = {
        "aspects": {
            "delivery": {"phrases": {"nl": ["pakketdienst zoek"]}, "labels": {"nl": "Bezorging"}},
            "payment": {"enabled": False},
            "sustainability": {"label": "Sustainability", "phrases": {"en": ["plastic packaging"]}},
        }
    }
    tax = default_taxonomy().merged(override)
    assert find_aspects("de pakketdienst zoek geraakt", "nl", tax) == ("delivery",)
    assert find_aspects("niet geleverd", "nl", tax) == ("delivery",)  # the default phrases stay
    assert find_aspects("charged twice", "en", tax) == ()
    assert find_aspects("far too much plastic packaging", "en", tax) == ("sustainability",)
    assert tax.label("delivery", "nl") == "Bezorging"
    assert tax.label("delivery", "de") == "Delivery"
    # the default itself is untouched
    assert find_aspects("charged twice", "en") == ("payment",)


def test_replace_drops_the_default_phrases() -> None:
    tax = default_taxonomy().merged({"aspects": {"delivery": {"replace": True, "phrases": {"en": ["van never came"]}}}})
    assert find_aspects("still waiting", "en", tax) == ()
    assert find_aspects("the van never came", "en", tax) == ("delivery",)
    only = default_taxonomy().merged({"replace": True, "aspects": {"smell": {"phrases": {"en": ["smells"]}}}})
    assert [a.id for a in only.aspects] == ["smell"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"aspects": {"Bad Id": {}}}, "is not an id"),
        ({"aspects": {"x": {"phrases": {"english": ["a"]}}}}, "language code"),
        ({"aspects": {"x": {"phrases": {"en": ["... late"]}}}}, "between two words"),
        ({"aspects": {"x": {"phrases": {"en": ["!!!"]}}}}, "letter or digit"),
        ({"aspects": {"x": {"phrases": {"en": ["a" * 81]}}}}, "at most 80"),
        ({"aspects": {"x": {"phrases": {"en": [f"w{i}" for i in range(301)]}}}}, "at most 300"),
        ({"aspects": {"x": {"colour": "red"}}}, "unknown field"),
        ({"aspects": {"x": {"enabled": "no"}}}, "true or false"),
        ({"aspects": {f"a{i}": {} for i in range(61)}}, "at most 60"),
    ],
)
def test_bad_overrides_are_refused_with_the_place(override: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        default_taxonomy().merged(override)


def test_a_taxonomy_round_trips_through_json() -> None:
    tax = default_taxonomy()
    assert Taxonomy.from_dict(tax.to_dict()) == tax


def test_every_default_label_is_translated_in_every_catalog() -> None:
    from reviews_service import i18n

    for locale in (lang for lang in i18n.LOCALES if lang != "en"):
        catalog = i18n.catalog(locale)
        for aspect in default_taxonomy().aspects:
            message = catalog.get(aspect.label)
            assert message is not None and message.string, (locale, aspect.label)

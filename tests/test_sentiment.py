"""The analyser on sentences of our own, in en/nl/de/fr: negation, but-clauses and review phrases.

Every case here is one that raw TextBlob (or textblob-nl/-fr; textblob-de does not import) gets wrong,
checked by test_raw_textblob_gets_these_wrong, so the cases prove what our rules add.
"""

from __future__ import annotations

import sys

import pytest

from sentiment import VERSION, Analysis, analyze, analyze_review, detect_language, guess_language, lexicon

NEGATIVE = [
    ("en", "Still waiting for my refund after six weeks."),
    ("en", "Never again. The sofa arrived with a tear."),
    ("en", "The colour is nice but the delivery was a nightmare."),
    ("en", "They denied my return without any reason."),
    ("en", "I would not recommend this shop to anyone."),
    ("en", "Looks great on the website, but in reality it is cheap and flimsy."),
    ("nl", "Nog steeds niet geleverd na drie weken."),
    ("nl", "Nooit meer bestellen bij deze winkel."),
    ("nl", "Mooie kleur, maar de levering was een drama."),
    ("nl", "Mijn retour is afgewezen zonder uitleg."),
    ("nl", "Niet aan te raden, klantenservice reageert niet."),
    ("nl", "De bank ziet er mooi uit, maar hij zit echt niet lekker."),
    ("nl", "De bank bevalt ons niet."),
    ("nl", "De lamp werkt niet."),
    ("de", "Nicht gut, der Tisch wackelt."),
    ("de", "Der Tisch gefällt mir nicht."),
    ("de", "Immer noch nicht geliefert."),
    ("de", "Schöne Farbe, aber die Lieferung war eine Katastrophe."),
    ("fr", "Toujours pas livré après trois semaines."),
    ("fr", "Plus jamais chez eux."),
    ("fr", "Belle couleur, mais la livraison était catastrophique."),
]
POSITIVE = [
    ("en", "No problems at all, delivered on time."),
    ("en", "I can't recommend them enough!"),
    ("de", "Keine Probleme, pünktlich geliefert."),
    ("de", "Etwas teuer, aber die Qualität ist hervorragend."),
    ("fr", "Aucun problème, livré à temps."),
]


def _raw_polarity(language: str, text: str) -> float:
    """What TextBlob and its plug-ins say out of the box (German: nothing, its plug-in does not import)."""
    if language == "nl":
        from textblob_nl import PatternAnalyzer as DutchAnalyzer

        return float(DutchAnalyzer().analyze(text)[0])
    if language == "fr":
        from textblob_fr import PatternAnalyzer as FrenchAnalyzer

        return float(FrenchAnalyzer().analyze(text)[0])
    if language == "de":
        return 0.0
    from textblob import TextBlob

    return float(TextBlob(text).sentiment.polarity)


@pytest.mark.parametrize(("language", "text"), NEGATIVE)
def test_negative_reviews_are_negative(language: str, text: str) -> None:
    result = analyze(text)
    assert (result.label, result.language) == ("negative", language)
    assert result.polarity < 0


@pytest.mark.parametrize(("language", "text"), POSITIVE)
def test_positive_reviews_are_positive(language: str, text: str) -> None:
    result = analyze(text)
    assert (result.label, result.language) == ("positive", language)
    assert result.polarity > 0


@pytest.mark.parametrize(
    ("language", "text", "expected"), [(*c, "negative") for c in NEGATIVE] + [(*c, "positive") for c in POSITIVE]
)
def test_raw_textblob_gets_these_wrong(language: str, text: str, expected: str) -> None:
    raw = _raw_polarity(language, text)
    assert (raw < 0) != (expected == "negative") or raw == 0


def test_negation_turns_a_word_around_within_its_scope() -> None:
    assert analyze("The table is good.").label == "positive"
    assert analyze("The table is not good.").label == "negative"
    assert analyze("De tafel is goed.", "nl").label == "positive"
    assert analyze("De tafel is niet goed.", "nl").label == "negative"


def test_what_follows_but_weighs_more() -> None:
    assert analyze("Slow delivery, but a beautiful and comfortable chair.").label == "positive"
    assert analyze("A beautiful chair, but the delivery was slow and the driver was rude.").label == "negative"
    assert analyze("Trage levering, maar een prachtige en comfortabele stoel.", "nl").label == "positive"
    assert (
        analyze("Een prachtige stoel, maar de levering was traag en de bezorger onbeschoft.", "nl").label == "negative"
    )


def test_title_and_text_both_count() -> None:
    assert analyze_review("Never again", "I ordered a cupboard in May.", None).label == "negative"
    assert analyze_review("Top!", "Ik heb in mei een kast besteld.", "nl").label == "positive"
    # a title that is only the text's first words cut off counts once, not twice
    text = "Terrible service and a broken leg on the chair, but the delivery man was kind and helpful"
    assert analyze_review("Terrible service and a broken leg on…", text, "en") == analyze_review("", text, "en")


def test_the_analysis_has_the_contract_shape() -> None:
    result = analyze("Snel geleverd en goed verpakt.")
    assert isinstance(result, Analysis)
    assert -1.0 <= result.polarity <= 1.0
    assert result.label in ("negative", "neutral", "positive")
    assert result.language == "nl"
    assert isinstance(result.aspects, tuple)
    assert result.version == VERSION


def test_a_language_we_do_not_analyse_says_so() -> None:
    result = analyze("Muy mal servicio, nunca llegó el pedido y nadie contesta los correos.")
    assert result.language == "es"
    assert not result.analysed
    assert result.label == "neutral"


def test_languages_are_told_apart_on_short_texts() -> None:
    assert detect_language("Niet goed.") == "nl"
    assert detect_language("Nie wieder!") == "de"
    assert detect_language("Plus jamais !") == "fr"
    assert detect_language("Never again!") == "en"
    assert detect_language("ok") is None
    assert detect_language("ok", hint="de") == "de"


def test_guess_language_only_answers_the_languages_we_store() -> None:
    assert guess_language("Muy mal servicio, nunca llegó el pedido y nadie contesta los correos.") is None
    # plainly Spanish: a Dutch shop's hint does not make it Dutch (it would be scored with the Dutch lexicon)
    assert guess_language("Muy mal servicio, nunca llegó el pedido y nadie contesta los correos.", hint="nl") is None
    assert guess_language("Top!", hint="nl") == "nl"  # too short to tell: the shop's language
    assert guess_language("Der Tisch ist sehr schön und die Lieferung war schnell.") == "de"


def test_german_lexicon_loads_without_importing_textblob_de() -> None:
    lexicon.load.cache_clear()
    german = lexicon.load("de")
    assert german.words["schlecht"] < 0 < german.words["schön"]
    assert "textblob_de" not in sys.modules

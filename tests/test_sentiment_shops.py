"""A furniture shop's reviews in English and Dutch, written for these tests: the analyser was built on
pet-insurance reviews and must carry over to other shops (delivery, damage, returns, quality)."""

from __future__ import annotations

import pytest

from sentiment import analyze

NEGATIVE = [
    (
        "en",
        "Ordered a dining table in March, it is now June and still no delivery date. Customer service "
        "keeps promising a call back that never comes.",
    ),
    (
        "en",
        "The sofa looked lovely in the showroom but the one delivered has a big stain on the cushion and"
        " they refuse to replace it.",
    ),
    (
        "en",
        "Two of the four chairs wobble and one leg was scratched. Returning them was a hassle and I am "
        "still waiting for my refund.",
    ),
    (
        "en",
        "Terrible experience. The wardrobe arrived in pieces, the instructions were missing and nobody "
        "answers the phone.",
    ),
    ("en", "Expensive for what you get. The fabric started pilling after a month and the frame creaks."),
    (
        "en",
        "Delivery men were friendly, but the bed frame was the wrong size and they would not take it back.",
    ),
    (
        "en",
        "I wanted to like this company. Sadly the cabinet doors do not close properly and support stopped replying.",
    ),
    ("en", "Cancelled my order after three delays. Took five weeks to get my money back."),
    (
        "nl",
        "Bank besteld in januari, na drie keer uitstel nog steeds niet geleverd. Klantenservice belooft "
        "terug te bellen maar doet het nooit.",
    ),
    ("nl", "De tafel kwam beschadigd aan en er zat een flinke kras in het blad. Retourneren was een drama."),
    ("nl", "Mooie stoelen op de foto, maar in het echt wiebelen ze en de stof laat los. Niet aan te raden."),
    ("nl", "Geen reactie op mijn mails, geen excuses, niks. Ik wacht al zes weken op mijn geld."),
    ("nl", "Veel te duur voor deze kwaliteit. Na twee maanden zit de bank al doorgezakt."),
    (
        "nl",
        "De bezorgers waren vriendelijk, maar de kast was de verkeerde kleur en omruilen kan pas over een maand.",
    ),
    ("nl", "Helaas erg teleurgesteld. Het bed piept bij elke beweging en de lades klemmen."),
    ("nl", "Bestelling geannuleerd na drie keer uitstel. Nooit meer."),
]
POSITIVE = [
    ("en", "Beautiful oak table, delivered on time and the two men carried it upstairs. Very happy."),
    ("en", "The sofa is even more comfortable than in the store. Ordering was easy and delivery was quick."),
    (
        "en",
        "Had a small scratch on one chair, they sent a replacement within a week without any fuss. Great service.",
    ),
    ("en", "Solid, well made bookcase. Assembly took an hour with clear instructions."),
    ("en", "Not cheap, but worth every penny. Five years on the chairs still look new."),
    ("en", "Lovely colours and the quality is excellent. Would order again."),
    (
        "nl",
        "Prachtige eikenhouten tafel, keurig op tijd geleverd en netjes naar boven gedragen. Zeer tevreden!",
    ),
    ("nl", "De bank zit heerlijk en de stof voelt stevig aan. Bestellen ging makkelijk."),
    (
        "nl",
        "Er zat een klein krasje op een stoel, binnen een week kreeg ik zonder gedoe een nieuwe. Top service.",
    ),
    ("nl", "Stevige kast, goed verpakt en de handleiding was duidelijk. Een aanrader."),
    ("nl", "Niet goedkoop, maar elke euro waard. De stoelen zien er na jaren nog als nieuw uit."),
    ("nl", "Snelle levering, vriendelijke bezorgers en een prachtig bed. Wij komen zeker terug."),
    ("nl", "Alles prima verlopen, precies zoals beschreven."),
]


@pytest.mark.parametrize(("language", "text"), NEGATIVE)
def test_complaints_of_another_shop_are_negative(language: str, text: str) -> None:
    assert (analyze(text).label, analyze(text).language) == ("negative", language)


@pytest.mark.parametrize(("language", "text"), POSITIVE)
def test_praise_of_another_shop_is_positive(language: str, text: str) -> None:
    assert (analyze(text).label, analyze(text).language) == ("positive", language)

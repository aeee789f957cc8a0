"""The review form's submissions as review records for the one ingest path (reviews_service.ingest).

Pure: an invitation and the buyer's checked answers in, loose records out. One record for the shop and one per
product rated, each keyed by the invitation's id (`{id}` and `{id}.{sku}`), so that a second submission of the
same form replaces the first instead of adding to it. Nothing personal goes in: no e-mail address, no order
reference, and of the buyer's name only the display name ("Anna B.").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviews_service import domain
from sentiment.language import SUPPORTED, guess_language

SOURCE = "form"
COLLECTION_METHOD = "post_fulfillment"  # asked after the order was delivered (Google's product reviews feed)
MAX_NAME = 60  # characters of the given name kept in a display name
# Words before a surname that are not the surname ("Anna van den Berg" is "Anna B.", not "Anna v.")
PARTICLES = {
    "van", "von", "der", "den", "de", "het", "ter", "ten", "te", "la", "le", "du", "des", "di", "da", "del",
    "dos", "zu", "op", "in", "'t", "d'",
}  # fmt: skip
# Titles written before a name in NL, BE, DE, AT, FR and English orders: never a given name
TITLES = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dhr", "mevr", "mw", "mej", "ir", "ing", "drs", "herr",
    "frau", "hr", "fr", "m", "mme", "mlle", "mag", "dipl",
}  # fmt: skip
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Answer:
    """What the buyer said about the shop (`sku` None) or one product, checked already.

    `photos`: the ids of the photos uploaded with this submission; None keeps the earlier submission's."""

    sku: str | None
    rating: int | None
    title: str = ""
    text: str = ""
    photos: tuple[str, ...] | None = None


def display_name(name: str) -> str:
    """The name a review is signed with: the given name and the surname's initial ("Anna Bakker" -> "Anna B.").

    Order systems write names in many shapes. "Bakker, Anna" is the surname first; "Mr." or "Dhr." is a title,
    not a name; "BAKKER A." or "A. Bakker" has only an initial where the given name would be, so which word is
    the surname cannot be told: then only initials are shown ("A. B."), never a surname in full.
    """
    cleaned = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if "@" in cleaned:  # never derived from an e-mail address
        return ""
    surname_first, comma, given_part = cleaned.partition(",")
    if comma and given_part.strip(" ,"):  # "Bakker, Anna" (a second comma is a suffix: "Bakker, Anna, Jr.")
        cleaned = f"{given_part.strip(' ,').split(',')[0].strip()} {surname_first.strip()}"
    elif comma:  # "Bakker,": the surname, its given name left out
        return f"{_initial(surname_first)}." if _initial(surname_first) else ""
    spoken = [w for w in cleaned.replace(",", " ").split(" ") if w]
    words = [w for w in spoken if _bare(w) not in TITLES]
    if not words:
        return ""
    if len(words) == 1 and len(spoken) > 1:  # "Dhr. Bakker": after a title, a lone word is the surname
        return f"{_initial(words[0])}."
    surnames = [w for w in words[1:] if w.lower() not in PARTICLES]
    first, last = words[0], (surnames[-1] if surnames else None)
    if _is_initial(first) or (last is not None and _is_initial(last)):
        letters = [_initial(w) for w in (first, last) if w is not None]
        return " ".join(f"{letter}." for letter in letters if letter)
    given = _cased(first[:MAX_NAME])
    if last is None:
        return given
    return f"{given} {_initial(last)}."


def _bare(word: str) -> str:
    return word.strip(".").lower()


def _is_initial(word: str) -> bool:
    """'A', 'A.', 'A.B.' or 'J.-P.': letters that stand for names rather than a name."""
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) <= 1 or ("." in word and all(len(part) <= 1 for part in re.split(r"[.\-]", word)))


def _initial(word: str) -> str:
    letters = [ch for ch in word if ch.isalpha()]
    return letters[0].upper() if letters else ""


def _cased(word: str) -> str:
    """'ANNA' (an order system's capitals) -> 'Anna'; 'anna' -> 'Anna'; 'McKenzie' stays."""
    if word.isupper() and len(word) > 1:
        return "-".join(part.capitalize() for part in word.split("-"))
    return word[0].upper() + word[1:]


def external_id(invitation_id: str, sku: str | None) -> str:
    """The review's id at its source: the invitation's id, and for a product `.{sku}` (never the order's ref)."""
    return invitation_id if sku is None else f"{invitation_id}.{sku}"


def review_id(invitation: domain.Invitation, sku: str | None) -> str:
    """The stored id of the review the form makes for the shop (`sku` None) or a product."""
    return domain.review_id(invitation.business_unit, SOURCE, external_id(invitation.id, sku))


def review_ids(invitation: domain.Invitation, skus: Iterable[str]) -> dict[str | None, str]:
    """The stored ids of the shop's review and of these products' reviews, by sku (None: the shop)."""
    return {sku: review_id(invitation, sku) for sku in (None, *skus)}


def language(invitation: domain.Invitation, title: str, text: str) -> str | None:
    """The review's language: what the words say, the invitation's language when they are too few to tell."""
    hint = invitation.locale.split("-")[0].lower()
    return guess_language(f"{title}\n{text}", hint=hint if hint in SUPPORTED else None)


def records(
    invitation: domain.Invitation,
    answers: Iterable[Answer],
    *,
    earlier: Mapping[str, domain.Review],
    now: datetime,
) -> list[dict[str, Any]]:
    """The ingest records of one submission: the shop's review and each rated product's (unrated ones: none).

    `earlier`: the reviews of an earlier submission by id; their photos stay where no new ones came. Every
    review is dated at the first submission (an edit does not make it newer)."""
    created_at = invitation.reviewed_at or now
    author = display_name(invitation.name)
    out: list[dict[str, Any]] = []
    for answer in answers:
        if answer.rating is None:
            continue
        before = earlier.get(review_id(invitation, answer.sku))
        photos = answer.photos if answer.photos is not None else (before.photos if before else ())
        record: dict[str, Any] = {
            "source": SOURCE,
            "external_id": external_id(invitation.id, answer.sku),
            "rating": answer.rating,
            "title": answer.title,
            "text": answer.text,
            "author": author,
            "language": language(invitation, answer.title, answer.text),
            "created_at": created_at,
            "verified": True,
            "collection_method": COLLECTION_METHOD,
            "photos": list(photos),
        }
        if answer.sku is not None:
            record["product"] = answer.sku
        out.append(record)
    return out

"""Kiyoh / Klantenvertellen publication API answers -> review records. Pure: decoded JSON in, records out.

One answer of `GET /v1/publication/review/external` is `{"locationId", "locationName", "averageRating",
"numberReviews", ..., "reviews": [...]}`; each review has `reviewId, reviewAuthor, city, rating, dateSince,
updatedSince, reviewLanguage, referenceCode, reviewComments` and `reviewContent`, a list of answers
`{questionGroup, questionType, rating, questionTranslation}` whose `rating` is always a string:
DEFAULT_OVERALL (the score, 1-10), DEFAULT_ONELINER (the title), DEFAULT_OPINION (the text),
DEFAULT_RECOMMEND ("true"/"false"), the shop's own questions, and IMAGE answers (photo URLs).

Rules (the README says the same):
- the score is DEFAULT_OVERALL's answer when it is a number from 1 to 10, else the top-level `rating`: the
  answer is what the reviewer gave; the top-level figure is Kiyoh's own, which for some accounts is worked
  out from several questions. It is kept as `source_rating` on scale 10; the stars for the summaries are
  normalize.stars_on_scale's ceil(score / 2).
- `reviewAuthor` is a display name; `referenceCode` is the shop's order reference: private (`order_ref`,
  admin side only), and a review carrying one is `verified` (Kiyoh tied it to an order).
- `reviewComments` is the shop's public reply.
- a language we do not support is left out (the text's language is then guessed), never a rejected review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reviews_service.errors import SourceError
from reviews_service.normalize import RecordRejected, parse_language

SCALE = 10
SOURCE = "kiyoh"


@dataclass(frozen=True)
class KiyohReview:
    """One parsed review: the record for the ingest path, its update time, and what the ingest has no field for."""

    record: dict[str, Any]
    review_id: str
    updated: datetime | None
    recommend: bool | None = None
    answers: list[dict[str, str]] = field(default_factory=list)  # the shop's own questions
    images: list[str] = field(default_factory=list)


def _score(value: Any) -> float | None:
    """A Kiyoh score 1-10 from a number or a numeric string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and 1 <= number <= SCALE else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


def _language(value: Any) -> str | None:
    try:
        return parse_language(value)
    except RecordRejected:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def parse_review(raw: Any) -> KiyohReview | None:
    """One review of an answer; None for an entry that is not an object with a reviewId."""
    if not isinstance(raw, dict) or raw.get("reviewId") in (None, ""):
        return None
    review_id = str(raw["reviewId"])
    title = text = ""
    overall: float | None = None
    recommend: bool | None = None
    answers: list[dict[str, str]] = []
    images: list[str] = []
    content = raw.get("reviewContent")
    for answer in content if isinstance(content, list) else []:
        if not isinstance(answer, dict):
            continue
        group, kind, value = (
            str(answer.get("questionGroup") or ""),
            str(answer.get("questionType") or ""),
            answer.get("rating"),
        )
        if kind.upper() == "IMAGE":
            images += [u for u in _text(value).split(",") if u.strip()] if value else []
        elif group == "DEFAULT_OVERALL":
            overall = _score(value)
        elif group == "DEFAULT_ONELINER":
            title = _text(value)
        elif group == "DEFAULT_OPINION":
            text = _text(value)
        elif group == "DEFAULT_RECOMMEND":
            recommend = _text(value).strip().lower() == "true" if value is not None else None
        else:
            answers.append(
                {
                    "group": group,
                    "type": kind,
                    "question": _text(answer.get("questionTranslation")),
                    "answer": _text(value),
                }
            )
    score = overall if overall is not None else _score(raw.get("rating"))
    reference = _text(raw.get("referenceCode")).strip() or None
    record: dict[str, Any] = {
        "source": SOURCE,
        "external_id": review_id,
        # an unusable score goes on as it came, so that the ingest rejects the review saying why
        "source_rating": score if score is not None else raw.get("rating"),
        "source_scale": SCALE,
        "title": title,
        "text": text,
        "author": _text(raw.get("reviewAuthor")),
        "created_at": raw.get("dateSince") or raw.get("updatedSince"),
        "language": _language(raw.get("reviewLanguage")),
        "order_ref": reference,
        "verified": reference is not None,
        "reply": _text(raw.get("reviewComments")).strip() or None,
    }
    updated = _time(raw.get("updatedSince")) or _time(raw.get("dateSince"))
    return KiyohReview(record, review_id, updated, recommend, answers, images)


def parse(payload: Any) -> list[KiyohReview]:
    """Every review of one answer, in the order given (UPDATE_DATE ascending)."""
    reviews = payload.get("reviews") if isinstance(payload, dict) else None
    if not isinstance(reviews, list):
        raise SourceError("Kiyoh answered without a `reviews` list; is KIYOH_API_URL the publication API's host?")
    return [parsed for parsed in map(parse_review, reviews) if parsed is not None]

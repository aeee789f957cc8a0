"""Normalise and validate one incoming review record: pure functions, no I/O.

Every source (API, CSV, JSONL, collectors, forms) hands us loose mappings; this turns each into
a clean `domain.Review` or raises `RecordRejected` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, cast

from reviews_service import domain
from sentiment.language import guess_language
from widgets.i18n import LOCALES as LANGUAGES

MAX_TITLE = 300
MAX_AUTHOR = 99  # Google: author names under 100 characters
MAX_EXTERNAL_ID = 200
MAX_FIELD = 500
MAX_REPLY = 5000
MAX_SCALE = 100
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# A language tag: an ISO 639-1 code, optionally with a region or script ("nl", "nl-BE", "pt_BR", "zh-Hant").
_LANGUAGE_TAG_RE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")
_WHOLE_RE = re.compile(r"^[0-9]{1,3}(\.0{1,6})?$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_SPACES_RE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NEWLINES_RE = re.compile(r"\n{3,}")
# Bidirectional overrides/isolates can make a review display as something else than it says.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))
KNOWN_FIELDS = {
    "source", "external_id", "rating", "title", "text", "author", "created_at", "language", "product",
    "verified", "email", "order_ref", "status", "reply", "replied_at", "source_rating", "source_scale",
    "collection_method", "photos",
}  # fmt: skip
# Google's product reviews feed's words for how a review was asked for (schema 2.4 `collection_method`).
COLLECTION_METHODS = ("unsolicited", "post_fulfillment", "campaign_driven")
MAX_PHOTOS = 3
_PHOTO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# What a record's `status` may say; "removed", only from a collector, is a review the platform no longer has
# (kept, out of the summaries).
RECORD_STATUSES = ("published", "pending", "hidden", "removed")


class RecordRejected(ValueError):
    """This record cannot be stored; the message says why."""


def json_type(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words (null, not NoneType)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    names = {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a value of another kind")


def clean_text(value: Any, field: str, limit: int) -> str:
    """The customer's text as written: NFC, no control characters, lone surrogates or bidi overrides."""
    # Markup-looking text ("a<b and c>d", "the site showed <script> errors") is what the customer typed:
    # it is kept as it is and every output escapes it. A source that delivers HTML turns it into text in
    # its own parser (collectors.text.html_to_text), never here in the path every source shares.
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordRejected(f"{field} must be a string, not {json_type(value)}")
    text = value
    if len(text) > limit * 4 + 1000:  # far over the limit: refuse before doing any work on it
        raise RecordRejected(f"{field} is {len(text):,} characters; the limit is {limit:,}")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_BIDI)
    # Every character this drops is one str.isprintable() refuses: most texts are checked at C speed
    if not text.replace("\n", "").replace("\t", "").isprintable():
        text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn"))
    text = _SPACES_RE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _NEWLINES_RE.sub("\n\n", text).strip()
    if len(text) > limit:
        raise RecordRejected(f"{field} is {len(text):,} characters; the limit is {limit:,}")
    return text


MAX_REASON = 500  # characters of a moderator's reason (a review's or a photo's)


def clean_reason(value: str | None) -> str | None:
    """A moderator's reason as stored (cleaned like review text; blank is None), or ValueError for a model field."""
    if value is None:
        return None
    try:
        return clean_text(value, "reason", MAX_REASON) or None
    except RecordRejected as exc:
        raise ValueError(str(exc)) from exc


def parse_rating(value: Any) -> int:
    """A whole star rating 1-5 (ints, whole floats like 5.0, or strings like "4" or "4.0"); else rejected."""
    if isinstance(value, bool):
        raise RecordRejected(f"rating must be a whole number from 1 to 5, not {value!r}")
    if isinstance(value, int):
        rating = value
    elif isinstance(value, float) and value.is_integer():  # JSON writers that only have doubles send 5.0
        rating = int(value)
    elif isinstance(value, str) and _WHOLE_RE.match(value.strip()):
        rating = int(value.strip().split(".")[0])
    else:
        shown = repr(value) if not isinstance(value, str) else repr(value[:20])
        raise RecordRejected(f"rating must be a whole number from 1 to 5, not {shown}")
    if not 1 <= rating <= 5:
        raise RecordRejected(f"rating must be a whole number from 1 to 5, not {rating}")
    return rating


def stars_on_scale(value: float | int | str, best: int, worst: int = 1) -> int:
    """A score on worst..best as 1-5 stars: the range cut into five equal bands, the top band 5 stars.

    Monotonic, and exact (fractions, no float rounding at the band edges): on 1-10 it is ceil(score / 2),
    so 1-2 -> 1, 3-4 -> 2, 5-6 -> 3, 7-8 -> 4, 9-10 -> 5; on 1-5 it changes nothing.
    """
    share = (Fraction(value) - worst) / (best - worst)
    return max(1, min(5, 1 + math.floor(share * 5)))


def parse_source_score(value: Any, scale: Any) -> tuple[float, int]:
    """A platform's own score and its scale's best value (1..scale, e.g. Kiyoh's 8 on 10); else rejected."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 2 <= scale <= MAX_SCALE:
        raise RecordRejected(f"source_scale must be a whole number from 2 to {MAX_SCALE}, not {scale!r}"[:120])
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    written = isinstance(value, str) and re.fullmatch(r"\s*\d{1,3}(\.\d{1,3})?\s*", value) is not None
    number = float(value) if numeric or written else None
    if number is None or not math.isfinite(number) or not 1 <= number <= scale:
        shown = repr(value[:20]) if isinstance(value, str) else repr(value)
        raise RecordRejected(f"source_rating must be a number from 1 to {scale}, not {shown}")
    return number, scale


def parse_time(value: Any, field: str, now: datetime) -> datetime:
    """An aware UTC datetime truncated to milliseconds (what MongoDB stores)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise RecordRejected(f"{field} {raw[:40]!r} is not an ISO 8601 date-time") from exc
    else:
        raise RecordRejected(f"{field} is required (an ISO 8601 date-time such as 2026-11-20T14:03:00Z)")
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        raise RecordRejected(f"{field} {str(value)[:40]!r} is out of range") from exc
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if moment > now + timedelta(days=1):
        raise RecordRejected(f"{field} {moment.isoformat()} is in the future")
    if moment.year < 1995:
        raise RecordRejected(f"{field} {moment.isoformat()} is before online reviews existed")
    return moment


def parse_bool(value: Any, field: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise RecordRejected(f"{field} must be true or false, not {value!r}"[:120])


def parse_language(value: Any) -> str | None:
    """The ISO 639-1 code of a language we support ("nl", "NL", "nl-BE" -> "nl"); None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    supported = ", ".join(LANGUAGES)
    if not isinstance(value, str):
        raise RecordRejected(f"language must be a language code, one of: {supported}")
    match = _LANGUAGE_TAG_RE.match(value.strip().lower())
    if match is None or match.group(1) not in LANGUAGES:
        raise RecordRejected(f"language {value.strip()[:40]!r} is not supported; use one of: {supported}")
    return match.group(1)


def ignored_fields(record: Any) -> list[str]:
    """The fields of a record that ingest does not know (and so does not store)."""
    return [key for key in record if key not in KNOWN_FIELDS] if isinstance(record, Mapping) else []


def _identifier(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordRejected(f"{field} is required")
    ident: str = value.strip()
    if len(ident) > MAX_EXTERNAL_ID or any(unicodedata.category(c).startswith("C") for c in ident):
        raise RecordRejected(f"{field} must be up to {MAX_EXTERNAL_ID} printable characters")
    return ident


def display_name(value: Any) -> str:
    """An author's public display name; an e-mail address becomes "Sanne V." style, never the address."""
    name = clean_text(value, "author", MAX_AUTHOR * 4).replace("\n", " ")
    if "@" in name:
        parts = [p for p in re.split(r"[._+\-\d]+", name.split("@", 1)[0]) if p]
        name = " ".join([parts[0].capitalize(), *(f"{p[0].upper()}." for p in parts[1:2])]) if parts else ""
    return name[:MAX_AUTHOR].strip()


def normalize(
    record: Mapping[str, Any],
    *,
    business_unit: domain.BusinessUnit,
    skus: Mapping[str, Any],
    now: datetime,
    max_text: int,
    default_source: str = "api",
    collector: bool = False,
) -> domain.Review:
    """One loose record -> a valid Review (not yet merged with what is stored); only a collector may say "removed"."""
    if not isinstance(record, Mapping):
        raise RecordRejected(f"each review must be a JSON object, not {json_type(record)}")
    source = record.get("source") or default_source
    if not isinstance(source, str) or not SOURCE_RE.match(source):
        raise RecordRejected("source must be 1-40 lowercase letters, digits, '-' or '_' (e.g. 'trustpilot')")
    external_id = _identifier(record.get("external_id"), "external_id")
    source_rating: float | None = None
    source_scale: int | None = None
    if record.get("source_rating") is not None or record.get("source_scale") is not None:
        # a score on the platform's own scale: kept as given, and the stars derived from it (stars_on_scale)
        source_rating, source_scale = parse_source_score(record.get("source_rating"), record.get("source_scale"))
        rating = stars_on_scale(source_rating, source_scale)
    else:
        rating = parse_rating(record.get("rating"))
    title = clean_text(record.get("title"), "title", MAX_TITLE).replace("\n", " ")
    text = clean_text(record.get("text"), "text", max_text)
    created_at = parse_time(record.get("created_at"), "created_at", now)
    product = record.get("product") or None
    if product is not None and (not isinstance(product, str) or product not in skus):
        raise RecordRejected(
            f"unknown product {str(product)[:60]!r}; add it first with "
            f"POST /v1/admin/business-units/{business_unit.slug}/products"
        )
    language = parse_language(record.get("language"))
    if language is None:
        only_locale = business_unit.locales[0][:2] if len(business_unit.locales) == 1 else None
        language = guess_language(f"{title}\n{text}", hint=only_locale)
    email = record.get("email") or None
    if email is not None:
        if (
            not isinstance(email, str)
            or not EMAIL_RE.match(email.strip())
            or any(unicodedata.category(c).startswith("C") for c in email)
        ):
            raise RecordRejected("email is not an e-mail address")
        email = normal_email(email)
    order_ref = clean_text(record.get("order_ref"), "order_ref", MAX_FIELD) or None
    status = record.get("status")
    if status is None:  # only an absent status means published: {}, 0, "" or false are mistakes, not defaults
        status = "published"
    if not isinstance(status, str) or status not in RECORD_STATUSES[: 4 if collector else 3]:
        raise RecordRejected("status must be 'published', 'pending' or 'hidden'")
    status = cast(domain.Status, status)
    reply = clean_text(record.get("reply"), "reply", MAX_REPLY) or None  # the shop's answer, as the source has it
    replied_at = parse_time(record["replied_at"], "replied_at", now) if record.get("replied_at") else None
    method = record.get("collection_method")
    if method is not None and method not in COLLECTION_METHODS:
        raise RecordRejected("collection_method must be one of " + ", ".join(COLLECTION_METHODS))
    photos = record.get("photos") or []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise RecordRejected(f"photos must be a list of at most {MAX_PHOTOS} photo ids")
    if not all(isinstance(p, str) and _PHOTO_ID_RE.match(p) for p in photos):
        raise RecordRejected("photos must be photo ids (letters, digits, - and _)")
    review = domain.Review(
        id=domain.review_id(business_unit.slug, source, external_id),
        business_unit=business_unit.slug,
        source=source,
        external_id=external_id,
        rating=rating,
        title=title,
        text=text,
        created_at=created_at,
        updated_at=now,
        product=product,
        language=language,
        author=display_name(record.get("author")),
        verified=parse_bool(record.get("verified"), "verified"),
        email=email,
        order_ref=order_ref,
        status=status,
        reply=reply,
        replied_at=replied_at or (now if reply else None),
        source_rating=source_rating,
        source_scale=source_scale,
        collection_method=method,
        photos=tuple(photos),
    )
    return review


def fingerprint(review: domain.Review) -> str:
    """A hash of everything the source controls: equal fingerprints mean 'unchanged'."""
    material = [
        review.rating, review.title, review.text, review.author, review.language, review.product,
        review.verified, review.email, review.order_ref, review.status,
        int(review.created_at.timestamp() * 1000),
    ]  # fmt: skip
    if review.source_scale is not None or review.reply is not None:  # only then: older fingerprints stay valid
        material += [review.source_rating, review.source_scale, review.reply]
    if review.collection_method is not None or review.photos:
        material += [review.collection_method, list(review.photos)]
    return hashlib.sha1(json.dumps(material, ensure_ascii=False).encode(), usedforsecurity=False).hexdigest()


def normal_email(email: str) -> str:
    """An address as every collection stores and every lookup compares it: trimmed, lower-cased, in Unicode NFC
    (an "é" typed as one character or as "e" and a combining accent is the same address)."""
    return unicodedata.normalize("NFC", email.strip().lower())

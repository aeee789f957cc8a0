"""A business unit's recurring complaints: its taxonomy, its reviews over the windows, the report (for the API
and the digest). The counting is `sentiment.complaints`; this module only reads the store and bounds the work."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reviews_service import domain, i18n, repository, storable
from reviews_service.errors import InvalidInput
from reviews_service.i18n import N_
from sentiment.analyzer import default_analyzer
from sentiment.complaints import RECURRING_IN, WINDOWS, ComplaintReport, Topic, report
from sentiment.taxonomy import Taxonomy, default_taxonomy

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

# Reviews one report reads at most (newest first): a few seconds of work on a loaded embedded store, tens of MB.
MAX_REVIEWS = 10_000
MAX_DAYS = 365
# The default taxonomy's labels (sentiment/data/taxonomy.json) marked for the catalogs (complaints.po), since the
# catalog check extracts msgids from code; tests/test_taxonomy.py holds the two equal.
DEFAULT_LABELS = (
    N_("Delivery"),
    N_("Damage"),
    N_("Customer service"),
    N_("Refunds and returns"),
    N_("Price"),
    N_("Quality"),
    N_("Assembly"),
    N_("Communication"),
    N_("Wrong or incomplete order"),
    N_("Payment and invoices"),
)
RECURRING_TEXT = f"{RECURRING_IN} of the last {WINDOWS} windows of `days` (the current one included)"


@dataclass(frozen=True)
class ComplaintTopics:
    """A report and how it was read: reviews read, and whether the cap cut off older ones (from `oldest` on)."""

    report: ComplaintReport
    locale: str
    reviews_read: int
    capped: bool
    oldest: datetime | None  # the oldest review read when capped: windows before it are undercounted


def unit_taxonomy(unit: domain.BusinessUnit, state: ServiceState | None = None) -> Taxonomy:
    """The default taxonomy with the unit's override applied (the default itself when it has none); compiled
    ones are kept on `state` when given."""
    if not unit.taxonomy:
        return default_taxonomy()
    key = json.dumps(unit.taxonomy, sort_keys=True, ensure_ascii=False)
    cached = state.taxonomies.get(key) if state is not None else None
    if cached is not None:
        return cached
    try:
        taxonomy = default_taxonomy().merged(unit.taxonomy)
    except ValueError as exc:  # stored before a bound was tightened: say so instead of failing
        raise InvalidInput(f"The stored taxonomy of '{unit.slug}' is no longer valid: {exc}") from exc
    return state.taxonomies.put(key, taxonomy, state.taxonomies.ticket()) if state is not None else taxonomy


def checked_taxonomy(override: Any) -> Taxonomy:
    """The taxonomy an override would give, or ValueError saying what is wrong with it (a 422 at the API)."""
    problem = storable.unstorable(override, "taxonomy")
    if problem:
        raise ValueError(problem)
    return default_taxonomy().merged(override)


def negative_sentence(sentence: str, language: str | None) -> bool:
    """The sentence judge: `sentiment.analyze` calls it negative."""
    return default_analyzer().analyze_review("", sentence, language, aspects=False).label == "negative"


def label(taxonomy: Taxonomy, aspect_id: str, locale: str) -> str:
    """An aspect's label: the unit's own for `locale` if it set one, else the catalog's translation."""
    aspect = taxonomy.get(aspect_id)
    if aspect is None:
        return aspect_id
    return aspect.labels.get(locale) or i18n.gettext(locale, aspect.label)


def _stop_words(unit: domain.BusinessUnit) -> list[str]:
    """The shop's own name and slug: in many complaints, never a theme."""
    return re.findall(r"[a-z]+", f"{unit.name} {unit.slug} {unit.domain}".lower())


def complaint_topics(
    state: ServiceState,
    business_unit: str,
    *,
    now: datetime,
    days: int = 30,
    locale: str | None = None,
    max_reviews: int = MAX_REVIEWS,
) -> ComplaintTopics:
    """Complaint topics of a unit over `days`-long windows ending at `now` (NotFound for an unknown unit)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}; got {days}.")
    unit = repository.get_business_unit(state, business_unit)
    taxonomy = unit_taxonomy(unit, state)
    language = i18n.pick(locale or (unit.locales[0] if unit.locales else None))
    reviews = repository.reviews_between(business_unit, now - timedelta(days=days * WINDOWS), now, max_reviews + 1)
    capped = len(reviews) > max_reviews
    reviews = reviews[:max_reviews]
    result = report(
        business_unit,
        reviews,
        now=now,
        days=days,
        taxonomy=taxonomy,
        judge=negative_sentence,
        stop_words=_stop_words(unit),
    )
    labelled = tuple(
        _relabel(t, label(taxonomy, t.id, language)) if t.source == "taxonomy" else t for t in result.topics
    )
    return ComplaintTopics(
        report=ComplaintReport(**{**vars(result), "topics": labelled}),
        locale=language,
        reviews_read=len(reviews),
        capped=capped,
        oldest=reviews[-1].created_at if capped and reviews else None,
    )


def _relabel(topic: Topic, text: str) -> Topic:
    return Topic(**{**vars(topic), "label": text})


def as_json(topics: ComplaintTopics, examples: int) -> dict[str, Any]:
    """The API's answer (also what the digest can show): windows, counts, topics."""
    result = topics.report
    return {
        "business_unit": result.business_unit,
        "days": result.days,
        "window": {"start": result.start.isoformat(), "end": result.end.isoformat()},
        "previous_window": {"start": (result.start - timedelta(days=result.days)).isoformat()},
        "locale": topics.locale,
        "complaints": result.complaints,
        "previous_complaints": result.previous_complaints,
        "reviews_read": topics.reviews_read,
        "capped": topics.capped,
        "capped_before": topics.oldest.isoformat() if topics.oldest else None,
        "recurring_rule": f"at least one complaint in {RECURRING_TEXT}",
        "topics": [
            {
                "id": t.id,
                "source": t.source,
                "label": t.label,
                "count": t.count,
                "previous_count": t.previous_count,
                "change": t.change,
                "trend": t.trend,
                "recurring": t.recurring,
                "windows": list(t.windows),
                "examples": list(t.examples[:examples]),
                **({"terms": list(t.terms)} if t.terms else {}),
            }
            for t in result.topics
        ],
    }

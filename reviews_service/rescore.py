"""Recompute stored analyses after the analyser changed (`reviews rescore`), in batches.

Only the analysis fields are written (repository.save_analyses), so a review edited meanwhile keeps its
new text; ingest analyses that text itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reviews_service import repository
from sentiment.analyzer import VERSION
from sentiment.reviews import RATING_FALLBACK, analysed

BATCH = 500


@dataclass
class RescoreReport:
    """What a rescore did."""

    rescored: int = 0
    label_changed: int = 0
    from_rating: int = 0  # in a language we do not analyse: labelled by the stars
    labels: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {
            "version": VERSION,
            "rescored": self.rescored,
            "label_changed": self.label_changed,
            "from_rating": self.from_rating,
            "labels": dict(sorted(self.labels.items())),
        }


def to_do(business_unit: str | None, everything: bool) -> int:
    """How many reviews a rescore would recompute."""
    if everything:
        return repository.count_reviews(business_unit)
    return repository.count_stale_analyses(business_unit, (VERSION, RATING_FALLBACK))


def rescore(
    business_unit: str | None, *, everything: bool = False, progress: Callable[[int], object] = lambda n: None
) -> RescoreReport:
    """Recompute the analyses an older analyser wrote (or every one), `progress(n)` after each batch."""
    report = RescoreReport()
    after: str | None = None
    while True:
        if everything:
            batch = repository.reviews_after(business_unit, after, BATCH)
            after = batch[-1].id if batch else after
        else:
            batch = repository.stale_analyses(business_unit, (VERSION, RATING_FALLBACK), BATCH)
        if not batch:
            return report
        fresh = [analysed(review) for review in batch]
        repository.save_analyses(fresh)
        for old, new in zip(batch, fresh, strict=True):
            report.rescored += 1
            report.label_changed += old.sentiment_label != new.sentiment_label
            report.from_rating += new.sentiment_version == RATING_FALLBACK
            label = new.sentiment_label or "none"
            report.labels[label] = report.labels.get(label, 0) + 1
        progress(len(batch))

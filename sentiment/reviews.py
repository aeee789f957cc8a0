"""A stored review's analysis: what ingest and `reviews rescore` write on every review.

A review in a language we do not analyse (or with no words to go on) gets its label from its stars, no
polarity, and a version ending in "+rating", so anyone reading it can tell the text was not understood.
"""

from __future__ import annotations

from dataclasses import replace

from reviews_service import domain
from sentiment.analyzer import VERSION, Analyzer, default_analyzer

RATING_FALLBACK = f"{VERSION}+rating"


def label_from_rating(rating: int) -> str:
    """The label the stars give: 1-2 negative, 3 neutral, 4-5 positive."""
    return "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"


def analysed(review: domain.Review, analyzer: Analyzer | None = None) -> domain.Review:
    """`review` with sentiment, label, version and aspects of its title and text (always recomputed)."""
    result = (analyzer or default_analyzer()).analyze_review(review.title, review.text, review.language)
    if not result.analysed:
        return replace(
            review,
            sentiment=None,
            sentiment_label=label_from_rating(review.rating),
            sentiment_version=RATING_FALLBACK,
            aspects=result.aspects,
        )
    return replace(
        review,
        sentiment=result.polarity,
        sentiment_label=result.label,
        sentiment_version=VERSION,
        aspects=result.aspects,
    )


def ensure_analysed(review: domain.Review) -> domain.Review:
    """`review` as it is when it carries an analysis already (its text unchanged), else analysed."""
    return review if review.sentiment_version is not None else analysed(review)


def is_current(version: str | None) -> bool:
    """Whether an analysis written by `version` is what this analyser would write."""
    return version in (VERSION, RATING_FALLBACK)

"""`analyze`: polarity, label, language and complaint aspects of a review, the same way in every language.

The pipeline: detect the language (sentiment/language.py), score the title and the text against that language's
lexicon (sentiment/scoring.py), and let the shipped model (sentiment/model.py) weigh the scores. A language we
have no lexicon for gets no polarity and the neutral label; the ingest step then falls back to the rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from sentiment import lexicon, model, scoring
from sentiment.language import detect_language
from sentiment.taxonomy import find_aspects

Label = Literal["negative", "neutral", "positive"]

# Bumped whenever the lexicons, rules or model change, so `reviews rescore` knows what is stale.
VERSION = "2026.12.1"
_NEUTRAL_BAND = 0.05  # |polarity| below this is "neutral" (the model puts its decision threshold at 0)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analyser says about one text."""

    polarity: float  # -1 (negative) .. 1 (positive)
    label: Label
    language: str | None  # ISO 639-1, None when it could not be told
    aspects: tuple[str, ...]
    version: str
    analysed: bool = True  # False: a language we do not analyse (the label says nothing)


class Analyzer:
    """Holds what analysing needs (lexicons, model, detector); build one and reuse it."""

    def __init__(self, weights: model.Model | None = None) -> None:
        self.model = model.load() if weights is None else weights

    def analyze_review(self, title: str, text: str, language: str | None = None, *, aspects: bool = True) -> Analysis:
        """Analyse a review whose title and text both count; `language` is used when given.

        `aspects=False` skips the taxonomy scan (the complaints' sentence judge needs only the label)."""
        both = f"{title}\n{text}"
        lang = language if language in lexicon.LANGUAGES else None
        if lang is None:
            lang = detect_language(both, hint=language)
        if lang not in lexicon.LANGUAGES:
            return Analysis(0.0, "neutral", lang, _aspects(both, lang, aspects), VERSION, analysed=False)
        lex = lexicon.load(lang)
        head = scoring.score(scoring.own_title(title, text), lex)
        body = scoring.score(text, lex)
        weights = self.model.for_language(lang)
        polarity = weights.polarity(scoring.features(head, body), head.tokens + body.tokens)
        return Analysis(round(polarity, 4), label_of(polarity), lang, _aspects(both, lang, aspects), VERSION)

    def analyze(self, text: str, language: str | None = None) -> Analysis:
        """Analyse one text (no title)."""
        return self.analyze_review("", text, language)


def label_of(polarity: float) -> Label:
    """The label a polarity gets."""
    if polarity <= -_NEUTRAL_BAND:
        return "negative"
    if polarity >= _NEUTRAL_BAND:
        return "positive"
    return "neutral"


def _aspects(text: str, language: str | None, wanted: bool) -> tuple[str, ...]:
    return tuple(find_aspects(text, language)) if wanted else ()


@cache
def default_analyzer() -> Analyzer:
    """The analyser of the shipped lexicons and model (immutable package data, loaded once)."""
    return Analyzer()


def analyze(text: str, language: str | None = None) -> Analysis:
    """Polarity, label, language and aspects of `text` (API.md's Python contract)."""
    return default_analyzer().analyze(text, language)


def analyze_review(title: str, text: str, language: str | None = None) -> Analysis:
    """Like `analyze`, for a review's title and text together."""
    return default_analyzer().analyze_review(title, text, language)

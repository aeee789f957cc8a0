"""The shipped model: logistic regressions kept as one small JSON file of numbers (sentiment/model.json).

Two parts: `generic` weighs scoring.features only (lexicon sums that mean the same in every language, so it
serves nl, de and fr, for which we have no training reviews), and `en` adds TF-IDF weights of English words
and word pairs. Its vocabulary is closed: opinion words of the lexicon and function words ("not", "but",
"still"); every other word is "_", so "the vet denied" and "the courier denied" look alike to it and what
it learns from one shop's reviews carries over to another's. JSON, not a pickle: it loads without
scikit-learn and cannot run code. `python -m sentiment.train` rebuilds it.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("model.json")
OTHER = "_"  # a word outside the vocabulary


@dataclass(frozen=True)
class Weights:
    """One logistic regression of "positive"; without coefficients, the rule-only polarity."""

    coefficients: tuple[float, ...] = ()
    intercept: float = 0.0
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    vocabulary: frozenset[str] = frozenset()
    terms: dict[str, tuple[float, float]] = field(default_factory=dict)  # term -> (idf, coefficient)

    def polarity(self, features: Sequence[float], words: Sequence[str] = ()) -> float:
        """-1..1: twice the probability of "positive", minus one."""
        if not self.coefficients:
            return features[-1]
        z = self.intercept
        for x, w, m, s in zip(features, self.coefficients, self.mean, self.scale, strict=True):
            z += w * (x - m) / s
        if self.terms and words:
            z += self._words(words)
        z = max(-30.0, min(30.0, z))
        return 2.0 / (1.0 + math.exp(-z)) - 1.0

    def _words(self, words: Sequence[str]) -> float:
        """The TF-IDF part: sublinear term counts times idf, l2-normalised, dotted with the coefficients."""
        terms = self.terms
        counts: dict[str, int] = {}
        for term in bag(words, self.vocabulary):
            if term in terms:
                counts[term] = counts.get(term, 0) + 1
        total = norm = 0.0
        for term, count in counts.items():
            known = terms[term]
            value = (1.0 + math.log(count)) * known[0] if count > 1 else known[0]
            norm += value * value
            total += value * known[1]
        return total / math.sqrt(norm) if norm else 0.0


def bag(words: Sequence[str], vocabulary: frozenset[str]) -> list[str]:
    """The terms of `words`: the known words, and pairs of neighbours (unknown ones as "_", not both)."""
    mapped = [w if w in vocabulary else OTHER for w in words]
    terms = [w for w in mapped if w != OTHER]
    terms.extend(f"{a} {b}" for a, b in itertools.pairwise(mapped) if a != OTHER or b != OTHER)
    return terms


def _weights(raw: dict[str, object]) -> Weights:
    terms = raw.get("terms") or {}
    assert isinstance(terms, dict)
    vocabulary = raw.get("vocabulary") or []
    assert isinstance(vocabulary, list)
    return Weights(
        coefficients=tuple(raw["coefficients"]),  # type: ignore[arg-type]
        intercept=float(raw["intercept"]),  # type: ignore[arg-type]
        mean=tuple(raw["mean"]),  # type: ignore[arg-type]
        scale=tuple(raw["scale"]),  # type: ignore[arg-type]
        vocabulary=frozenset(vocabulary),
        terms={k: (float(v[0]), float(v[1])) for k, v in terms.items()},
    )


@dataclass(frozen=True)
class Model:
    """The per-language weights: `by_language` where trained, else `generic`."""

    generic: Weights
    by_language: dict[str, Weights]

    def for_language(self, language: str) -> Weights:
        """The weights to use for `language`."""
        return self.by_language.get(language, self.generic)


@cache
def load(path: Path = MODEL_FILE) -> Model:
    """The model in `path` (the shipped one by default); rule-only weights when there is none."""
    if not path.exists():
        return Model(Weights(), {})
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Model(_weights(raw["generic"]), {k: _weights(v) for k, v in raw.get("languages", {}).items()})

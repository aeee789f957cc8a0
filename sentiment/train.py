"""Rebuild the shipped model: `python -m sentiment.train [CSV_DIR ...]` (needs scikit-learn, a dev dependency).

Reads Trustpilot CSV exports (title, text, rating), labels 1-2 stars negative and 4-5 positive (3 is left out),
fits the two logistic regressions of sentiment/model.py and writes sentiment/model.json. The decision threshold
is chosen by cross-validation with one company left out at a time, then folded into the intercept, so that
polarity 0 is where "negative" begins.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment import lexicon, scoring
from sentiment.language import detect_language
from sentiment.model import MODEL_FILE, Model, Weights, bag

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "trustpilot-pet-insurance"
_C = 3.0  # scikit-learn's inverse regularisation strength
# The word part is shrunk (a stronger penalty on its weights) so that words only refine what the lexicon
# features say: unshrunk, it learned pet-insurance habits ("slow" and "but" as positive signs).
WORD_SCALE = 0.5
_MIN_DF = 3  # a term must appear in this many training reviews
_BETA = 1.5  # a director would rather read a false alarm than miss a one-star review
_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


@dataclass(frozen=True)
class Example:
    """One labelled review, with what the analyser sees of it (the rating is kept only as the label)."""

    group: str  # the company (the CSV file's name): the unit left out in cross-validation
    negative: bool
    features: list[float]
    tokens: tuple[str, ...]


def read_examples(paths: Iterable[Path]) -> list[Example]:
    """Labelled, scored reviews of every CSV in `paths` (directories are searched for *.csv); 3 stars left out."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.csv")) if path.is_dir() else [path])
    examples = []
    for file in files:
        with file.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                stars = int(float(row["rating"]))
                if stars == 3:
                    continue
                title, text = row.get("title") or "", row.get("text") or ""
                lang = detect_language(f"{title}\n{text}")
                lex = lexicon.load(lang if lang in lexicon.LANGUAGES else "en")
                head = scoring.score(scoring.own_title(title, text), lex)
                body = scoring.score(text, lex)
                examples.append(Example(file.stem, stars <= 2, scoring.features(head, body), head.tokens + body.tokens))
    return examples


def vocabulary(language: str = "en") -> frozenset[str]:
    """The closed vocabulary of the word part: the lexicon's words and English function words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    lex = lexicon.load(language)
    words = set(lex.words) | set(lex.intensifiers) | set(lex.negators) | set(lex.contrasts) | set(ENGLISH_STOP_WORDS)
    for first, rests in lex.phrases.items():
        words.add(first)
        for rest, _ in rests:
            words.update(rest)
    return frozenset(words)


def fit(examples: Sequence[Example], vocab: frozenset[str] | None, threshold: float = 0.5) -> Weights:
    """A logistic regression of "positive" on standardised features (and TF-IDF terms when `vocab` is given)."""
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([ex.features for ex in examples], dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    matrix: Any = (x - mean) / scale
    vectorizer = None
    if vocab is not None:
        vectorizer = TfidfVectorizer(analyzer=lambda words: bag(words, vocab), min_df=_MIN_DF, sublinear_tf=True)
        words = vectorizer.fit_transform([ex.tokens for ex in examples]) * WORD_SCALE
        matrix = sparse.hstack([matrix, words]).tocsr()
    clf = LogisticRegression(C=_C, max_iter=3000)
    clf.fit(matrix, np.asarray([not ex.negative for ex in examples]))
    coef = clf.coef_[0]
    n = x.shape[1]
    terms: dict[str, tuple[float, float]] = {}
    if vectorizer is not None:
        for term, column in vectorizer.vocabulary_.items():
            terms[term] = (float(vectorizer.idf_[column]), float(coef[n + column]) * WORD_SCALE)
    return Weights(
        coefficients=tuple(float(c) for c in coef[:n]),
        # p(positive) = threshold becomes polarity 0
        intercept=float(clf.intercept_[0]) + math.log((1 - threshold) / threshold),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        vocabulary=vocab or frozenset(),
        terms=terms,
    )


def predict_negative(weights: Weights, example: Example) -> bool:
    """Whether `weights` label `example` negative."""
    from sentiment.analyzer import label_of

    return label_of(weights.polarity(example.features, example.tokens)) == "negative"


def macro_f1(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Mean F1 of the negative and the positive class."""
    scores = []
    for cls in (True, False):
        tp = sum(g == cls and p == cls for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != cls and p == cls for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == cls and p != cls for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / max(1, 2 * tp + fp + fn))
    return sum(scores) / 2


def f_beta(gold: Sequence[bool], predicted: Sequence[bool], beta: float = _BETA) -> float:
    """F-beta of the negative class: beta > 1 weighs a missed negative review more than a false alarm."""
    tp = sum(g and p for g, p in zip(gold, predicted, strict=True))
    fp = sum(p and not g for g, p in zip(gold, predicted, strict=True))
    fn = sum(g and not p for g, p in zip(gold, predicted, strict=True))
    b2 = beta * beta
    return (1 + b2) * tp / max(1.0, (1 + b2) * tp + b2 * fn + fp)


def choose_threshold(examples: Sequence[Example], vocab: frozenset[str] | None) -> float:
    """The threshold with the best F-beta when each company is scored by a model trained on the others."""
    groups = sorted({ex.group for ex in examples})
    if len(groups) < 2:
        return 0.5
    probabilities: list[tuple[bool, float]] = []
    for group in groups:
        weights = fit([ex for ex in examples if ex.group != group], vocab)
        for ex in examples:
            if ex.group == group:
                probabilities.append((ex.negative, (weights.polarity(ex.features, ex.tokens) + 1) / 2))
    gold = [g for g, _ in probabilities]
    return max(_THRESHOLDS, key=lambda t: f_beta(gold, [p < t for _, p in probabilities]))


def train(examples: Sequence[Example]) -> Model:
    """Both parts of the model, each with its cross-validated threshold."""
    vocab = vocabulary("en")
    generic = fit(examples, None, choose_threshold(examples, None))
    english = fit(examples, vocab, choose_threshold(examples, vocab))
    return Model(generic, {"en": english})


def _raw(weights: Weights) -> dict[str, object]:
    return {
        "coefficients": [round(c, 6) for c in weights.coefficients],
        "intercept": round(weights.intercept, 6),
        "mean": [round(m, 6) for m in weights.mean],
        "scale": [round(s, 6) for s in weights.scale],
        "vocabulary": sorted(weights.vocabulary),
        "terms": {k: [round(v[0], 4), round(v[1], 4)] for k, v in sorted(weights.terms.items())},
    }


def save(model: Model, path: Path = MODEL_FILE) -> None:
    """Write `model` as the JSON file model.load reads."""
    raw = {
        "about": "logistic regressions over sentiment.scoring.features (+ English terms); python -m sentiment.train",
        "generic": _raw(model.generic),
        "languages": {k: _raw(v) for k, v in model.by_language.items()},
    }
    path.write_text(json.dumps(raw, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: train on the given CSVs (the shared pet-insurance reviews by default)."""
    parser = argparse.ArgumentParser(prog="python -m sentiment.train", description=__doc__)
    parser.add_argument("data", nargs="*", type=Path, default=[DEFAULT_DATA], help="CSV files or directories")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write the model")
    args = parser.parse_args(argv)
    examples = read_examples(args.data)
    save(train(examples), args.out)
    print(f"{len(examples)} reviews -> {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()

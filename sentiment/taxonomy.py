"""The complaint taxonomy: aspect -> label and phrases per language, and a fast matcher over review texts.

The default taxonomy is data (`sentiment/data/taxonomy.json`, seeded for a design-furniture shop); a business
unit may extend or override it (`Taxonomy.merged`). Phrases match case- and accent-insensitively on word
boundaries, with the language's simple inflections ("beschadigd" finds "beschadigde"); `word*` matches any
ending and `...` between words allows up to three words in between ("niet ... geleverd"). Each language's
phrases compile into one regular expression shaped as a character trie, so a text is scanned once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from sentiment.taxonomy_data import merge, parse_taxonomy, validate_override

# Endings a phrase word may take without being listed (plural, adjective and participle forms). Short words
# (<= 3 letters) match exactly: "sav" must not find "save".
_SUFFIXES: dict[str, str] = {
    "en": r"(?:s|es|ed|d|ing)?",
    "nl": r"(?:e|en|s|n)?",
    "de": r"(?:e|en|er|es|em|n|s)?",
    "fr": r"(?:e|s|es)?",
}
_ANY_SUFFIX = r"(?:s|es|e|en|ed|d|er|em|n|ing)?"  # languages the table above does not know
_SEP = r"[\s-]+"
_GAP = r"(?:[\s-]+[\w']+){0,3}?[\s-]+"
_END = "\x00"  # trie key that marks where a phrase ends (never a character of normalised text)
_COMBINING = re.compile(r"[\u0300-\u036f]+")
_FOLD = str.maketrans({"’": "'", "‘": "'", "`": "'", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
ALL_LANGUAGES = "*"
MAX_ALIASES = 32


def normalize(text: str) -> str:
    """Casefolded, accents removed, other non-ASCII characters as '?' (a word boundary): what phrases match."""
    folded = text.casefold().translate(_FOLD)
    if folded.isascii():
        return folded
    stripped = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return stripped.encode("ascii", "replace").decode("ascii")


@dataclass(frozen=True)
class Aspect:
    """One complaint aspect: a stable English slug, its English label, labels and phrases per language."""

    id: str
    label: str
    labels: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Taxonomy:
    """Aspects in display order; compiles one matcher per language on first use and keeps it."""

    aspects: tuple[Aspect, ...]
    _compiled: dict[str | None, tuple[re.Pattern[str], tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Taxonomy:
        """A taxonomy from its JSON shape (`{"aspects": {id: {label, labels, phrases}}}`); ValueError if bad."""
        return cls(tuple(Aspect(**fields) for fields in parse_taxonomy(data)))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `from_dict` reads."""
        return {
            "aspects": {
                a.id: {
                    "label": a.label,
                    "labels": dict(a.labels),
                    "phrases": {k: list(v) for k, v in a.phrases.items()},
                }
                for a in self.aspects
            }
        }

    def merged(self, override: Mapping[str, Any]) -> Taxonomy:
        """This taxonomy with a business unit's override applied (extend, relabel, replace, disable)."""
        return Taxonomy.from_dict(merge(self.to_dict(), validate_override(override)))

    def get(self, aspect_id: str) -> Aspect | None:
        """The aspect with that id, or None."""
        return next((a for a in self.aspects if a.id == aspect_id), None)

    def label(self, aspect_id: str, locale: str | None) -> str:
        """The aspect's label in `locale` (its own label there if set, else the English one)."""
        aspect = self.get(aspect_id)
        if aspect is None:
            return aspect_id
        return aspect.labels.get(locale or "", aspect.label)

    def languages(self) -> tuple[str, ...]:
        """Every language some aspect has phrases in."""
        return tuple(sorted({lang for a in self.aspects for lang in a.phrases}))

    def matcher(self, language: str | None) -> tuple[re.Pattern[str], tuple[str, ...]]:
        """The compiled pattern for `language` (every language when None/unknown) and its group -> aspect map."""
        found = self._compiled.get(language)
        if found is None:
            key = language if language in self.languages() else ALL_LANGUAGES
            found = self._compiled.get(key)
            if found is None:
                found = self._compiled[key] = _compile(self.aspects, None if key == ALL_LANGUAGES else key)
            if len(self._compiled) < MAX_ALIASES:  # languages are whatever reviews say: keep a few, not all
                self._compiled[language] = found
        return found


def _word_atoms(word: str, language: str) -> list[str]:
    """Regex atoms of one phrase word: its characters, then its ending rule."""
    if word.endswith("*"):
        return [re.escape(c) for c in word[:-1]] + [r"[\w']*"]
    atoms = [r"[-\s]?" if c == "-" else re.escape(c) for c in word]
    if sum(c.isalpha() for c in word) > 3:
        atoms.append(_SUFFIXES.get(language, _ANY_SUFFIX))
    return atoms


def _phrase_atoms(phrase: str, language: str) -> list[str]:
    """Regex atoms of a whole phrase, separators and gaps included."""
    atoms: list[str] = []
    for word in normalize(phrase).split():
        if word == "...":
            atoms[-1:] = [_GAP]  # replaces the separator before it
            continue
        atoms.extend(_word_atoms(word, language))
        atoms.append(_SEP)
    return atoms[:-1]


def _compile(aspects: tuple[Aspect, ...], language: str | None) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One trie-shaped pattern over every phrase; an empty named group at each leaf tells which phrase ended."""
    trie: dict[str, Any] = {}
    owners: list[str] = []
    for aspect in aspects:
        for lang, phrases in aspect.phrases.items():
            if language is not None and lang != language:
                continue
            for phrase in phrases:
                node = trie
                for atom in _phrase_atoms(phrase, lang):
                    node = node.setdefault(atom, {})
                if _END not in node:  # the same phrase twice (two aspects): the first aspect keeps it
                    node[_END] = len(owners)
                    owners.append(aspect.id)
    if not owners:
        return re.compile(r"(?!x)x"), ()
    return re.compile(r"\b" + _emit(trie)), tuple(owners)


def _emit(node: dict[str, Any]) -> str:
    """The regex of a trie node: longer continuations tried before the phrase that ends here."""
    branches = [atom + _emit(child) for atom, child in node.items() if atom != _END]
    if _END in node:
        branches.append(rf"(?!\w)(?P<p{node[_END]}>)")
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy (a constant: read from the package once)."""
    text = resources.files("sentiment").joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.from_dict(json.loads(text))


def find_aspects(text: str, language: str | None, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """Ids of the aspects whose phrases occur in `text`, in the taxonomy's order (default taxonomy if None)."""
    tax = taxonomy if taxonomy is not None else default_taxonomy()
    pattern, owners = tax.matcher(language)
    if not owners:
        return ()
    hits = {owners[int(m.lastgroup[1:])] for m in pattern.finditer(normalize(text)) if m.lastgroup}
    if not hits:
        return ()
    return tuple(a.id for a in tax.aspects if a.id in hits)

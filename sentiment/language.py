"""A cheap stop-word language guess for the languages the service speaks (nl, en, de, fr).

Good enough to route a review to the right sentiment backend and to filter lists by language;
it answers None rather than guess when the text is too short or too mixed to tell.
"""

from __future__ import annotations

import re

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """the and is was it to of for my with this that they were very not but have has had you are be on
        in at so we our would will great good service""".split()
    ),
    "nl": frozenset(
        """de het een en is was niet met voor van ik wij we zijn heel erg goed maar ook dat die op naar al
        nog geen mijn onze werd wel zeer bij dan te""".split()
    ),
    "de": frozenset(
        """der die das und ist war nicht mit für von ich wir sind sehr gut aber auch dass ein eine auf zu
        noch kein mein unsere wurde bei den dem des es""".split()
    ),
    "fr": frozenset(
        """le la les et est était pas avec pour de je nous sont très bien mais aussi que un une sur au aux
        du des mon notre été ne il elle ce qui""".split()
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of the likeliest language among nl/en/de/fr, or `hint`/None when unsure."""
    words = [w.lower() for w in _WORD.findall(text[:2000])]
    if len(words) < 3:
        return hint
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 2 or top < second * 1.3:
        return hint
    return best

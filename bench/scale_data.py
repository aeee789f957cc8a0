"""Generated review data for bench/scale.py, shaped like the shared Trustpilot reviews but none of their words.

The shape (rating mix, text and title lengths, languages) is measured from `../shared/data/trustpilot-pet-insurance`
at run time when it is there; without it, a few numbers measured from it on 2026-12-01 stand in. The texts come
from the small word lists below, so nothing a customer wrote ends up in the project.
"""

from __future__ import annotations

import bisect
import csv
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.ingest import DEFAULT_DATA
from sentiment.language import guess_language

BIG = "big"  # the one business unit with many reviews
SHOP_SHARE = 0.3  # reviews about the shop itself; the rest are about a product
REVIEWS_PER_PRODUCT = 20  # on average; the Zipf mix below gives a few products thousands and many one or two
ZIPF = 1.1
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WORDS = {
    "en": "good fast friendly claim paid vet cover price service helpful easy quick slow refund policy dog cat "
    "premium support staff answer waited month happy again would recommend never always team process simple".split(),
    "nl": "goed snel vriendelijk schade betaald dierenarts dekking prijs service handig makkelijk traag "
    "terugbetaling polis hond kat premie hulp wachten maand blij weer aanraden nooit altijd eenvoudig".split(),
}
# Measured from the five shared files (6,990 reviews): stars 1-5, deciles of text and title length, languages.
FALLBACK_RATINGS = {1: 819, 2: 201, 3: 222, 4: 423, 5: 5325}
FALLBACK_TEXT_DECILES = [10, 43, 69, 98, 130, 174, 226, 297, 395, 609, 4891]
FALLBACK_TITLE_DECILES = [4, 14, 18, 22, 26, 30, 34, 37, 38, 40, 200]
FALLBACK_LANGUAGES: dict[str | None, int] = {"en": 6797, None: 193}  # None: too short to tell


@dataclass(frozen=True)
class Profile:
    """What the generated reviews imitate: how often each rating, length and language occurs."""

    ratings: dict[int, int]
    text_lengths: list[int]  # sorted samples (or deciles) to draw from
    title_lengths: list[int]
    languages: dict[str | None, int]
    source: str


def profile(data: Path = DEFAULT_DATA) -> Profile:
    """The shape of the shared reviews, measured now; the recorded numbers when the files are absent."""
    rows: list[dict[str, str]] = []
    for path in sorted(data.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    if not rows:
        return Profile(
            FALLBACK_RATINGS, FALLBACK_TEXT_DECILES, FALLBACK_TITLE_DECILES, FALLBACK_LANGUAGES, "recorded figures"
        )
    languages = Counter(guess_language(f"{r['title']}\n{r['text']}") for r in rows)
    return Profile(
        ratings=dict(Counter(int(r["rating"]) for r in rows)),
        text_lengths=sorted(len(r["text"]) for r in rows),
        title_lengths=sorted(len(r["title"]) for r in rows),
        languages=dict(languages),
        source=f"{len(rows):,} reviews in {data}",
    )


@dataclass(frozen=True)
class Layout:
    """Which business units hold how many reviews and products."""

    units: dict[str, int]  # slug -> reviews
    products: dict[str, int]  # slug -> products

    @property
    def total(self) -> int:
        """Reviews in every unit."""
        return sum(self.units.values())


def layout(size: int, big: int = 100_000, small_units: int = 200) -> Layout:
    """`big` reviews (at most `size`) in one unit, the rest spread evenly over `small_units` units."""
    big = min(big, size)
    units = {BIG: big}
    rest = size - big
    for i in range(small_units if rest else 0):
        share = rest // small_units + (1 if i < rest % small_units else 0)
        if share:
            units[f"shop-{i:03d}"] = share
    return Layout(units, {slug: max(5, n // REVIEWS_PER_PRODUCT) for slug, n in units.items()})


def sku(index: int) -> str:
    """The sku of a unit's product number `index` (0 is its most reviewed)."""
    return f"sku-{index:05d}"


class Generator:
    """Deterministic reviews: record `i` of a unit is always the same, so an edit can be made of it later."""

    def __init__(self, shape: Profile, seed: int = 9) -> None:
        self.shape = shape
        self.seed = seed
        self._ratings = list(shape.ratings), list(shape.ratings.values())
        self._languages = list(shape.languages), list(shape.languages.values())
        self._zipf: dict[int, list[float]] = {}

    def _product(self, rng: random.Random, products: int) -> str | None:
        if rng.random() < SHOP_SHARE:
            return None
        if products not in self._zipf:  # cumulative weights 1/rank^s: a long tail of rarely reviewed products
            total, cumulative = 0.0, []
            for rank in range(1, products + 1):
                total += rank**-ZIPF
                cumulative.append(total)
            self._zipf[products] = cumulative
        cumulative = self._zipf[products]
        return sku(bisect.bisect(cumulative, rng.random() * cumulative[-1]))

    @staticmethod
    def _words(rng: random.Random, words: list[str], length: int) -> str:
        parts: list[str] = []
        size = 0
        while size < length:
            word = rng.choice(words)
            parts.append(word)
            size += len(word) + 1
        return " ".join(parts)[: max(length, 1)].strip().capitalize() or words[0]

    def record(self, unit: str, index: int, products: int, edit: int = 0) -> dict[str, Any]:
        """Review `index` of `unit` as an ingest record; `edit` > 0 gives another rating and text for it."""
        rng = random.Random(f"{self.seed}:{unit}:{index}")
        language = rng.choices(*self._languages)[0]
        words = WORDS.get(language or "en", WORDS["en"])
        rating = rng.choices(*self._ratings)[0]
        text = self._words(rng, words, rng.choice(self.shape.text_lengths))
        record: dict[str, Any] = {
            "external_id": f"{unit}-{index}",
            "source": "bench",
            "rating": rating if not edit else 1 + (rating + edit) % 5,
            "title": self._words(rng, words, rng.choice(self.shape.title_lengths)),
            "text": text if not edit else f"{text} ({edit}x edited)",
            "author": f"Customer {index % 997}",
            "created_at": (NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))).isoformat(),
            "product": self._product(rng, products),
        }
        if language is not None:  # too short to tell in the shared data: the service guesses, as it would
            record["language"] = language
        return record

    def batches(self, unit: str, count: int, products: int, size: int = 2000) -> Iterator[list[dict[str, Any]]]:
        """Every review of a unit, `size` at a time."""
        for start in range(0, count, size):
            yield [self.record(unit, i, products) for i in range(start, min(start + size, count))]

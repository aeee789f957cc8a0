"""Complaint-topic benchmark: themes discovered in the real one- and two-star reviews, per company and overall.

    python -m bench.complaints [--data ../shared/data/trustpilot-pet-insurance] [--themes 12]

Discovery runs with an empty taxonomy, so every theme below comes out of the texts by themselves (the shipped
taxonomy is a furniture shop's and names no insurance word). Then: how much of the same reviews the furniture
taxonomy's phrases cover, and the whole report (taxonomy + discovery, 30-day windows) over every review.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import SHARED_REVIEWS, shared_csvs
from collectors.csv_import import parse_trustpilot_csv
from reviews_service import domain, repository, store
from reviews_service.complaints import complaint_topics
from reviews_service.config import Settings
from reviews_service.normalize import RecordRejected, normalize
from reviews_service.state import ServiceState
from sentiment.complaints import report
from sentiment.discovery import discover
from sentiment.taxonomy import Taxonomy, default_taxonomy, find_aspects
from sentiment.taxonomy import normalize as fold

DEFAULT_DATA = SHARED_REVIEWS
# What the one-star reviews of pet insurers are known to be about (the issue), as patterns over theme labels.
EXPECTED = {
    "denied claims": r"\bden(y|ied|ial)",
    "pre-existing conditions": r"pre ?existing",
    "cancellations": r"\bcancel",
    "price increases": r"increase|premium|\brate\b|price",
    "slow reimbursement": r"reimburs|\bdays\b|\bweeks\b|\bmonths\b|\bwait",
}


def load(path: Path) -> list[domain.Review]:
    """One company's export as Review values (what the import endpoint would store)."""
    unit = domain.BusinessUnit(slug=path.stem, name=path.stem)
    now = datetime.now(UTC)
    out = []
    for _, record in parse_trustpilot_csv(path.read_text(encoding="utf-8")):
        if isinstance(record, str):
            continue
        try:
            out.append(normalize(record, business_unit=unit, skus={}, now=now, max_text=20_000))
        except RecordRejected:
            continue
    return out


def _text(review: domain.Review) -> str:
    return fold(f"{review.title}. {review.text}")


def _themes(name: str, negative: list[domain.Review], themes: int, stop: list[str]) -> list[str]:
    start = time.perf_counter()
    found = discover([(r.id, _text(r)) for r in negative], max_themes=themes, extra_stop_words=stop)
    elapsed = time.perf_counter() - start
    print(f"\n## {name}: {len(negative):,} one/two-star reviews, {len(found)} themes in {elapsed * 1000:.0f} ms")
    print(f"{'reviews':>8}  theme")
    for theme in found:
        print(f"{len(theme.members):>8}  {theme.label}")
    return [t.label for t in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--themes", type=int, default=12, help="at most this many themes overall (8 per company)")
    args = parser.parse_args(argv)
    files = shared_csvs(args.data)
    if not files:
        return 2
    companies = {f.stem: load(f) for f in files}
    names = list(companies)  # a company's own name is never a theme
    print("# Themes discovered with an empty taxonomy (TF-IDF 1-3-grams + NMF)")
    for name, reviews in companies.items():
        _themes(name, [r for r in reviews if r.rating <= 2], 8, names)
    everyone = [r for reviews in companies.values() for r in reviews]
    negative = [r for r in everyone if r.rating <= 2]
    labels = _themes("all five", negative, args.themes, names)
    print("\n## The known themes among the overall labels")
    for theme, pattern in EXPECTED.items():
        hits = [label for label in labels if re.search(pattern, label)]
        print(f"  {'found' if hits else 'MISSING':<8} {theme:<24} {' | '.join(hits)}")

    start = time.perf_counter()
    covered: Counter[str] = Counter()
    any_aspect = 0
    for review in negative:
        aspects = find_aspects(f"{review.title}. {review.text}", review.language)
        covered.update(aspects)
        any_aspect += bool(aspects)
    elapsed = time.perf_counter() - start
    print(f"\n# The furniture taxonomy's phrases on the same {len(negative):,} reviews ({elapsed * 1000:.0f} ms)")
    print(f"  at least one aspect: {any_aspect:,} ({any_aspect / len(negative):.0%})")
    tax = default_taxonomy()
    for aspect, n in covered.most_common():
        print(f"  {n:>6}  {tax.label(aspect, 'en')}")

    texts = [(f"{r.title}. {r.text}", r.language) for r in everyone]
    find_aspects(*texts[0])  # compile the matchers first: a taxonomy compiles once per language
    start = time.perf_counter()
    for text, language in texts:
        find_aspects(text, language)
    elapsed = time.perf_counter() - start
    print(f"\n# find_aspects on all {len(texts):,} reviews (what ingest runs): {len(texts) / elapsed:,.0f} texts/s")

    now = max(r.created_at for r in everyone) + timedelta(seconds=1)
    for taxonomy, what in ((tax, "furniture taxonomy"), (Taxonomy(()), "empty taxonomy")):
        start = time.perf_counter()
        result = report("all", everyone, now=now, days=90, taxonomy=taxonomy, stop_words=names)
        elapsed = time.perf_counter() - start
        print(
            f"\n# report() over all {len(everyone):,} reviews, 90-day windows, {what}: {elapsed * 1000:.0f} ms, "
            f"{result.complaints} complaints now, {result.previous_complaints} before"
        )
        print(f"{'now':>5} {'before':>6} {'trend':<5} {'recurring':<9} topic")
        for topic in result.topics[:12]:
            print(f"{topic.count:>5} {topic.previous_count:>6} {topic.trend:<5} {topic.recurring!s:<9} {topic.label}")
    _through_the_store(everyone, now)
    return 0


def _through_the_store(reviews: list[domain.Review], now: datetime) -> None:
    """complaint_topics as the endpoint runs it: every review in one unit of the embedded store (in memory)."""
    settings = Settings(REVIEWS_ENV="test", REVIEWS_DATA_DIR=":memory:", MONGODB_URL=None)  # type: ignore[call-arg]
    store.connect(settings)
    state = ServiceState()
    repository.save_business_unit(state, domain.BusinessUnit(slug="pets", name="Pet insurers", locales=("en",)))
    moved = [
        replace(r, business_unit="pets", id=domain.review_id("pets", r.source, f"{r.business_unit}-{r.external_id}"))
        for r in reviews
    ]
    repository.write_reviews(moved, [])
    print(
        f"\n# complaint_topics() through the embedded store, {len(moved):,} reviews of one unit (the endpoint's path)"
    )
    print(f"{'days':>5} {'read':>6} {'capped':<6} {'complaints':>10} {'topics':>6} {'ms':>6}")
    for days in (30, 90, 365):
        start = time.perf_counter()
        found = complaint_topics(state, "pets", now=now, days=days)
        elapsed = time.perf_counter() - start
        print(
            f"{days:>5} {found.reviews_read:>6} {found.capped!s:<6} {found.report.complaints:>10} "
            f"{len(found.report.topics):>6} {elapsed * 1000:>6.0f}"
        )
    store.disconnect()


if __name__ == "__main__":
    sys.exit(main())

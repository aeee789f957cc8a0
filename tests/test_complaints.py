"""Complaint topics: what counts as a complaint, discovery of a planted theme, windows, trend and recurrence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from reviews_service import domain
from sentiment.complaints import Complaint, extract, negative_part, report, topics, trend, window_of
from sentiment.discovery import discover
from sentiment.taxonomy import Taxonomy, default_taxonomy

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FILLER = (
    "we ordered a new table for the living room and it was a big disappointment",
    "my partner and I were looking forward to this purchase for months",
    "honestly I expected much more from a shop with such a nice website",
    "the showroom staff seemed friendly when we visited last spring",
    "we have bought furniture online before and never had this experience",
    "the whole family was looking forward to the new dining set",
    "it is a shame because the design itself is beautiful",
    "I would think twice before ordering here again",
)
PLANTED = (
    "after a week the velvet fabric is pilling",
    "the velvet fabric is pilling on every cushion",
    "sadly the velvet fabric is pilling already",
)


def review(n: int, rating: int, text: str, days_ago: float, **extra: object) -> domain.Review:
    created = NOW - timedelta(days=days_ago)
    fields: dict[str, object] = {"language": "en", **extra}
    return domain.Review(
        id=f"shop:api:{n}", business_unit="shop", source="api", external_id=str(n), rating=rating, title="",
        text=text, created_at=created, updated_at=created, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def generated(count: int, planted_every: int, seed: int = 7) -> tuple[list[tuple[str, str]], set[str]]:
    """Random negative texts of filler sentences; every `planted_every`-th also says the planted theme."""
    rng = random.Random(seed)
    texts, planted = [], set()
    for n in range(count):
        parts = rng.sample(FILLER, 3)
        if n % planted_every == 0:
            parts.insert(rng.randrange(4), rng.choice(PLANTED))
            planted.add(str(n))
        texts.append((str(n), ". ".join(parts)))
    return texts, planted


def test_discovery_finds_a_planted_theme() -> None:
    texts, planted = generated(160, 4)
    themes = discover(texts)
    theme = next(t for t in themes if "velvet" in t.label or "pilling" in t.label)
    members = set(theme.members)
    assert len(members & planted) >= 0.9 * len(planted)
    assert len(members & planted) >= 0.8 * len(members)
    # the same texts in another order give the same themes (NNDSVD start, no random draw)
    assert discover(list(reversed(texts))) == themes


def test_discovery_needs_enough_texts() -> None:
    texts, _ = generated(10, 2)
    assert discover(texts) == []


def test_what_counts_as_a_complaint() -> None:
    tax = default_taxonomy()
    assert negative_part(review(1, 1, "Terrible.", 1), tax, None) == "Terrible."
    assert negative_part(review(2, 5, "Great!", 1, sentiment_label="negative"), tax, None) == "Great!"
    assert negative_part(review(3, 3, "Fine chair. Delivery was late.", 1), tax, None) is not None
    assert negative_part(review(4, 5, "Love it. Delivery was late.", 1), tax, None) is None  # no judge: rating only

    def judge(sentence: str, language: str | None) -> bool:
        return "late" in sentence

    # with a judge, a happy review gives its negative sentence that names an aspect, and nothing else
    assert negative_part(review(5, 5, "Love it. Delivery was late. So late!", 1), tax, judge) == "Delivery was late."
    assert negative_part(review(6, 3, "Nice colour. Arrived late!", 1), tax, judge) == "Arrived late!"


def test_windows_count_back_from_now() -> None:
    assert window_of(NOW - timedelta(days=1), now=NOW, days=30) == 0
    assert window_of(NOW - timedelta(days=30), now=NOW, days=30) == 1
    assert window_of(NOW - timedelta(days=119), now=NOW, days=30) == 3
    assert window_of(NOW - timedelta(days=121), now=NOW, days=30) is None
    assert window_of(NOW, now=NOW, days=30) is None  # the future (and now itself) is not counted


@pytest.mark.parametrize(
    ("count", "previous", "expected"),
    [(10, 5, "up"), (5, 10, "down"), (11, 10, "flat"), (3, 1, "up"), (1, 0, "flat"), (50, 45, "flat")],
)
def test_trend_rule(count: int, previous: int, expected: str) -> None:
    assert trend(count, previous) == expected


def test_topics_count_windows_and_recurrence() -> None:
    late = "Delivered late again"
    reviews = [
        *(review(n, 1, late, 2 + n) for n in range(6)),  # 6 in the current window
        *(review(10 + n, 2, late, 35 + n) for n in range(2)),  # 2 in the previous
        review(20, 1, late, 95),  # 1 three windows back: in 3 of the last 4 windows
        review(30, 1, "The drawer arrived scratched", 3),  # damage, only now
        review(40, 5, "Delivered late but fine", 1),  # a happy review: no complaint without a judge
    ]
    result = report("shop", reviews, now=NOW, days=30)
    by_id = {t.id: t for t in result.topics}
    delivery = by_id["delivery"]
    assert (delivery.count, delivery.previous_count, delivery.change, delivery.trend) == (6, 2, 4, "up")
    assert delivery.windows == (6, 2, 0, 1)
    assert delivery.recurring
    assert delivery.examples == tuple(f"shop:api:{n}" for n in range(5))  # newest first, at most 5
    assert delivery.excerpts == (late,) * 5  # what of each example is the complaint (the digest quotes it)
    assert not by_id["damage"].recurring
    assert (result.complaints, result.previous_complaints) == (7, 2)
    assert [t.id for t in result.topics][:2] == ["delivery", "damage"]


def test_an_old_topic_is_not_news() -> None:
    complaint = Complaint("shop:api:1", NOW - timedelta(days=70), "en", "arrived scratched", ("damage",))
    assert topics([complaint], now=NOW, days=30) == []


def test_discovered_topics_skip_what_the_taxonomy_names() -> None:
    texts, _ = generated(120, 3)
    reviews = [review(int(i), 1, text + ". Still waiting for the delivery.", int(i) % 50 + 1) for i, text in texts]
    complaints = extract(reviews, default_taxonomy())
    found = topics(complaints, now=NOW, days=60)
    discovered = [t for t in found if t.source == "discovered"]
    assert any("velvet" in t.label or "pilling" in t.label for t in discovered)
    assert not any("delivery" in t.label or "waiting" in t.label for t in discovered)
    assert next(t for t in found if t.id == "delivery").count == sum(
        1 for r in reviews if r.created_at > NOW - timedelta(days=60)
    )
    # with no taxonomy at all, the same late deliveries are a theme of their own
    bare = topics(extract(reviews, Taxonomy(())), now=NOW, days=60, taxonomy=Taxonomy(()))
    assert any("waiting" in t.label or "delivery" in t.label for t in bare)

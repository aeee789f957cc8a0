"""Each detector on generated data (time passed in), alone and through the store: ingest and the periodic job."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reviews_service import domain, flag_store, flagging, ingest, jobs, source_store
from reviews_service.flag_reasons import reason
from reviews_service.state import ServiceState
from sentiment import flags as rules
from tests.conftest import NOW, make_settings, review

BU = "test-shop"
ANGRY = "Kapot aangekomen en nog steeds geen geld terug. Nooit meer!"  # a text that agrees with a low rating


def _review(rating: int, **fields: object) -> domain.Review:
    values: dict[str, object] = {
        "id": f"{BU}:api:{random.random()}",
        "business_unit": BU,
        "source": "api",
        "external_id": "x",
        "rating": rating,
        "title": "",
        "text": "",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return domain.Review(**values)  # type: ignore[arg-type]


def _hist(rng: random.Random, n: int, weights: list[float]) -> dict[int, int]:
    ratings = rng.choices(range(1, 6), weights=weights, k=n)
    return {r: ratings.count(r) for r in range(1, 6)}


GOOD = [2, 2, 5, 25, 66]  # a well-liked shop: mean about 4.5
BAD = [30, 15, 15, 20, 20]  # a bad week: mean about 2.9


def kinds(flags: list[domain.Flag]) -> list[str]:
    return sorted(f.kind for f in flags)


# --- pure rules ---------------------------------------------------------------------------------


def test_every_one_star_review_is_flagged_with_its_norm() -> None:
    product = {1: 1, 2: 0, 3: 1, 4: 10, 5: 30}  # counts the review itself
    [flag] = rules.review_flags(_review(1, product="oak-chair"), product, None, now=NOW)
    assert flag.kind == "one-star" and flag.id == f"{BU}:one-star:{flag.review_id}"
    others = [3] + [4] * 10 + [5] * 30  # the product's other reviews
    expected = {"mean": round(statistics.mean(others), 2), "sd": round(statistics.stdev(others), 2), "count": 41}
    assert flag.details == {"rating": 1, "scope": "product", **expected}
    [alone] = rules.review_flags(_review(1), None, None, now=NOW)  # a new shop: no norm, still flagged
    assert alone.kind == "one-star" and alone.details == {"rating": 1}
    assert rules.review_flags(_review(2), None, None, now=NOW) == []


def test_an_outlier_is_far_below_its_norm_and_needs_enough_reviews() -> None:
    rng = random.Random(1)
    norm = _hist(rng, 60, GOOD)
    assert kinds(rules.review_flags(_review(2, product="p"), norm, None, now=NOW)) == ["outlier"]
    assert rules.review_flags(_review(4, product="p"), norm, None, now=NOW) == []
    few = {5: 10, 4: 2}  # too few reviews of the product: the shop's own reviews are the norm
    [flag] = rules.review_flags(_review(2, product="p"), few, norm, now=NOW)
    assert flag.details["scope"] == "shop"
    assert rules.review_flags(_review(2, product="p"), few, {5: 5}, now=NOW) == []  # no norm at all
    tight = {5: 50}  # sd 0: a 4 is not far below, a 3 is (the 1.5-star minimum gap)
    assert rules.review_flags(_review(4), None, {**tight, 4: 1}, now=NOW) == []
    assert kinds(rules.review_flags(_review(3), None, {**tight, 3: 1}, now=NOW)) == ["outlier"]


def test_mismatch_needs_a_clear_stored_analysis() -> None:
    furious = _review(5, sentiment=-0.8, sentiment_label="negative")
    [flag] = rules.review_flags(furious, None, None, now=NOW)
    assert flag.kind == "mismatch" and flag.details == {"rating": 5, "polarity": -0.8, "label": "negative"}
    glowing = _review(2, sentiment=0.7, sentiment_label="positive")
    assert kinds(rules.review_flags(glowing, None, None, now=NOW)) == ["mismatch"]
    assert rules.review_flags(_review(5, sentiment=-0.3, sentiment_label="negative"), None, None, now=NOW) == []
    assert rules.review_flags(_review(3, sentiment=-0.9, sentiment_label="negative"), None, None, now=NOW) == []
    assert rules.review_flags(_review(5), None, None, now=NOW) == []  # not analysed: not judged
    assert rules.review_flags(replace(furious, status="hidden"), None, None, now=NOW) == []


def test_a_clear_drop_is_flagged_and_noise_is_not() -> None:
    rng = random.Random(7)
    flag = rules.score_drop(BU, _hist(rng, 40, BAD), _hist(rng, 400, GOOD), now=NOW)
    assert flag is not None and flag.id == f"{BU}:score-drop:2026-11-20"
    assert flag.details["test"] == "mann-whitney-u" and flag.details["p_value"] < 1e-6
    # the same shop, an ordinary week: at most the 1 % the test's level allows over 100 weeks
    noise = [rules.score_drop(BU, _hist(rng, 40, GOOD), _hist(rng, 400, GOOD), now=NOW) for _ in range(100)]
    assert sum(f is not None for f in noise) <= 1
    assert rules.score_drop(BU, _hist(rng, 5, [1, 0, 0, 0, 0]), _hist(rng, 400, GOOD), now=NOW) is None  # too few


def test_a_burst_is_improbable_at_the_usual_rate() -> None:
    assert rules.burst(BU, 40, 140, now=NOW) is not None  # 5 a day usual, 40 today
    flag = rules.burst(BU, 40, 140, now=NOW)
    assert flag is not None and flag.details["expected"] == 5.0 and flag.id == f"{BU}:burst:2026-11-19T12:00Z"
    assert rules.burst(BU, 9, 0 + 20, now=NOW) is None  # under ten reviews is never a burst
    assert rules.burst(BU, 12, 280, now=NOW) is None  # 10 a day usual: 12 is an ordinary day
    assert rules.burst(BU, 50, 10, now=NOW) is None  # no baseline yet (a new shop): cannot tell
    rng = random.Random(3)
    ordinary = [rules.burst(BU, sum(rng.random() < 5 / 50 for _ in range(50)), 140, now=NOW) for _ in range(200)]
    assert not any(ordinary)


# --- through the store --------------------------------------------------------------------------


@pytest.fixture
def with_norm(shop: domain.BusinessUnit, state: ServiceState) -> None:
    """Forty good reviews of oak-chair and of the shop itself, a month old."""
    old = (NOW - timedelta(days=30)).isoformat()
    records = [review(f"n{i}", rating=5 if i % 4 else 4, product="oak-chair", created_at=old) for i in range(40)]
    records += [review(f"s{i}", rating=5 if i % 3 else 4, created_at=old) for i in range(40)]
    ingest.ingest(state, BU, records, now=NOW)


def test_ingest_flags_each_review_once(with_norm: None, state: ServiceState) -> None:
    recent = (NOW - timedelta(hours=1)).isoformat()
    batch = [
        review("bad", rating=1, text=ANGRY, product="oak-chair", created_at=recent),
        review("meh", rating=2, text=ANGRY, created_at=recent),
        review("fine", rating=5, created_at=recent),
    ]
    ingest.ingest(state, BU, batch, now=NOW)
    ingest.ingest(state, BU, batch, now=NOW + timedelta(minutes=5))  # the same again: nothing new
    flags = sorted(flag_store.open_flags(BU), key=lambda f: f.kind)
    assert [(f.kind, f.review_id) for f in flags] == [("one-star", f"{BU}:api:bad"), ("outlier", f"{BU}:api:meh")]
    one_star = flags[0]
    assert one_star.alert == "pending" and one_star.details["count"] == 40 and one_star.details["mean"] == 4.75
    # an edit into one star flags it then, once
    ingest.ingest(state, BU, [review("fine", rating=1, text="Toch kapot. " + ANGRY, created_at=recent)], now=NOW)
    ingest.ingest(state, BU, [review("fine", rating=1, text="Toch kapot! " + ANGRY, created_at=recent)], now=NOW)
    assert kinds(flag_store.open_flags(BU)) == ["one-star", "one-star", "outlier"]


def test_an_old_one_star_arriving_late_is_flagged_without_an_alert(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    ingest.ingest(state, BU, [review("old", rating=1, text=ANGRY, created_at="2025-01-05T10:00:00Z")], now=NOW)
    [flag] = flag_store.open_flags(BU)
    assert flag.kind == "one-star" and flag.alert == "skipped"


def test_ingest_flags_a_rating_its_own_text_contradicts(shop: domain.BusinessUnit, state: ServiceState) -> None:
    """The analysis sentiment stores at ingest, read by the mismatch rule: five furious stars, one glowing one."""
    records = [
        review("furious", rating=5, title="Oplichters", text="Nooit meer! Stoel kwam kapot aan en geen geld terug."),
        review("glowing", rating=1, title="Prachtig", text="Prachtige stoel, supersnel geleverd. Echt een aanrader!"),
        review("agrees", rating=5, title="Prachtig", text="Prachtige stoel, supersnel geleverd. Echt een aanrader!"),
    ]
    ingest.ingest(state, BU, records, now=NOW)
    mismatches = {f.review_id: f for f in flag_store.open_flags(BU, kind="mismatch")}
    assert set(mismatches) == {f"{BU}:api:furious", f"{BU}:api:glowing"}
    furious = mismatches[f"{BU}:api:furious"]
    assert furious.details["label"] == "negative" and furious.details["polarity"] <= -0.5
    assert reason(furious, "en").startswith("5 stars, but the text reads as clearly negative (polarity -")


def _spread(prefix: str, count: int, weights: list[float], start: timedelta, end: timedelta, seed: int) -> list[dict]:
    """`count` records with ratings drawn from `weights`, created between NOW - start and NOW - end."""
    rng = random.Random(seed)
    span = (start - end).total_seconds()
    return [
        review(
            f"{prefix}{i}",
            rating=rng.choices(range(1, 6), weights=weights)[0],
            created_at=(NOW - start + timedelta(seconds=rng.random() * span)).isoformat(),
        )
        for i in range(count)
    ]


def test_the_periodic_job_flags_a_drop_once(shop: domain.BusinessUnit, state: ServiceState) -> None:
    records = _spread("p", 300, GOOD, timedelta(days=97), timedelta(days=7), seed=1)
    ingest.ingest(state, BU, records, now=NOW)
    assert [f.kind for f in flagging.detect_patterns(BU, now=NOW)] == []  # a normal week so far
    ingest.ingest(state, BU, _spread("r", 40, BAD, timedelta(days=6), timedelta(hours=30), seed=2), now=NOW)
    [drop] = flagging.detect_patterns(BU, now=NOW)
    assert drop.kind == "score-drop" and drop.details["recent_count"] == 40
    assert flagging.detect_patterns(BU, now=NOW) == []  # run again (another scheduler): the same id
    assert flagging.detect_patterns(BU, now=NOW + timedelta(days=1)) == []  # the same drop, a day on
    assert [f.kind for f in flag_store.open_flags(BU)].count("score-drop") == 1


def test_the_periodic_job_flags_a_burst(shop: domain.BusinessUnit, state: ServiceState) -> None:
    ingest.ingest(state, BU, _spread("b", 140, GOOD, timedelta(days=29), timedelta(days=1), seed=3), now=NOW)
    assert flagging.detect_patterns(BU, now=NOW) == []
    ingest.ingest(state, BU, _spread("f", 45, [0, 0, 0, 0, 1], timedelta(hours=5), timedelta(0), seed=4), now=NOW)
    [burst] = flagging.detect_patterns(BU, now=NOW)
    assert burst.kind == "burst" and burst.details["count"] == 45 and burst.details["test"] == "poisson-tail"
    assert flagging.detect_patterns(BU, now=NOW + timedelta(hours=2)) == []  # within its window: once


def test_the_periodic_job_runs_in_one_process_at_a_time(shop: domain.BusinessUnit, state: ServiceState) -> None:
    ingest.ingest(state, BU, _spread("b", 140, GOOD, timedelta(days=29), timedelta(days=1), seed=3), now=NOW)
    ingest.ingest(state, BU, _spread("f", 45, [0, 0, 0, 0, 1], timedelta(hours=5), timedelta(0), seed=4), now=NOW)
    scheduler = jobs.build_scheduler(make_settings(), state)
    try:
        assert source_store.take_lease("flags/patterns", "another-process", now=datetime.now(UTC), seconds=60)
        assert jobs.detect_flags(scheduler, now=NOW) is None  # the other process is at it
        assert flag_store.open_flags(BU, kind="burst") == []
        source_store.release_lease("flags/patterns", "another-process")
        assert jobs.detect_flags(scheduler, now=NOW) == {BU: 1}
    finally:
        scheduler.close()

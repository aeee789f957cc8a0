"""The statistical tests behind the periodic flags, checked against brute force and exact enumeration."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from sentiment.flag_stats import histogram_mean, histogram_sd, mann_whitney_less, poisson_tail


def _hist(ratings: list[int]) -> dict[int, int]:
    return {r: ratings.count(r) for r in range(1, 6)}


def _pairwise_u(first: list[int], second: list[int]) -> float:
    """U of the first sample by definition: pairs where it is higher, ties counting a half."""
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in first for b in second)


@pytest.mark.parametrize("seed", range(5))
def test_u_is_the_pairwise_count(seed: int) -> None:
    rng = random.Random(seed)
    first = [rng.randint(1, 5) for _ in range(rng.randint(3, 40))]
    second = [rng.randint(1, 5) for _ in range(rng.randint(3, 40))]
    assert mann_whitney_less(_hist(first), _hist(second)).u == pytest.approx(_pairwise_u(first, second))


def test_p_value_is_close_to_the_exact_permutation_test() -> None:
    # every way of splitting the 14 ratings into groups of 6 and 8: the exact one-sided p-value of U
    first, second = [1, 2, 2, 3, 4, 3], [4, 5, 5, 3, 4, 5, 2, 5]
    pooled = first + second
    observed = _pairwise_u(first, second)
    splits = list(itertools.combinations(range(len(pooled)), len(first)))
    at_most = 0
    for chosen in splits:
        a = [pooled[i] for i in chosen]
        b = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        at_most += _pairwise_u(a, b) <= observed
    exact = at_most / len(splits)
    approx = mann_whitney_less(_hist(first), _hist(second)).p_value
    assert exact < 0.05 and approx == pytest.approx(exact, abs=0.01)


def test_the_same_ratings_tell_nothing_apart() -> None:
    assert mann_whitney_less({5: 10}, {5: 40}).p_value == 1.0
    assert mann_whitney_less({4: 10, 5: 10}, {4: 20, 5: 20}).p_value > 0.4


def test_higher_recent_ratings_are_not_a_drop() -> None:
    assert mann_whitney_less({5: 30}, {1: 20, 3: 20}).p_value > 0.99


def test_poisson_tail_matches_exact_sums() -> None:
    for k, lam in [(0, 3.0), (1, 0.5), (3, 2.0), (10, 2.5), (25, 4.0)]:
        exact = 1 - sum(Fraction(math.exp(-lam)) * Fraction(lam) ** i / math.factorial(i) for i in range(k))
        assert poisson_tail(k, lam) == pytest.approx(float(exact), rel=1e-9, abs=1e-15)


def test_poisson_tail_of_large_counts_neither_overflows_nor_vanishes() -> None:
    p = poisson_tail(2000, 1500.0)
    assert 0 < p < 1e-30
    assert poisson_tail(1400, 1500.0) > 0.99


def test_histogram_figures() -> None:
    assert histogram_mean({1: 1, 5: 3}) == 4.0
    assert histogram_sd({1: 1, 5: 3}) == pytest.approx(2.0)
    assert histogram_mean({}) is None and histogram_sd({5: 1}) is None

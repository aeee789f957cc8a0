"""The two statistical tests behind the periodic flags, computed exactly here (no scipy at run time). Pure.

- `mann_whitney_less`: the one-sided Mann-Whitney U test ("are the recent ratings stochastically lower than the
  earlier ones?") with the normal approximation, corrected for ties and for continuity, as
  `scipy.stats.mannwhitneyu(recent, earlier, alternative="less", method="asymptotic")` computes it. Ratings are
  1-5, so both samples are histograms and the test costs five steps whatever the number of reviews.
- `poisson_tail`: P(X >= k) for X ~ Poisson(expected), summed in log space so large counts neither overflow nor
  lose the tail to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

RATINGS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class MannWhitney:
    """The U statistic of the first sample, its z score and the one-sided p-value."""

    u: float
    z: float
    p_value: float


def histogram_mean(histogram: Mapping[int, int]) -> float | None:
    """The mean rating of a 1-5 histogram (None when empty)."""
    n = sum(histogram.values())
    return None if n == 0 else sum(r * c for r, c in histogram.items()) / n


def histogram_sd(histogram: Mapping[int, int]) -> float | None:
    """The sample standard deviation of a 1-5 histogram (None under two ratings)."""
    n = sum(histogram.values())
    mean = histogram_mean(histogram)
    if mean is None or n < 2:
        return None
    return math.sqrt(sum(c * (r - mean) ** 2 for r, c in histogram.items()) / (n - 1))


def mann_whitney_less(first: Mapping[int, int], second: Mapping[int, int]) -> MannWhitney:
    """One-sided Mann-Whitney U: is `first` (a histogram of ratings) lower than `second`? Both must be non-empty."""
    n1, n2 = sum(first.values()), sum(second.values())
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one rating")
    total = n1 + n2
    rank_sum, below, ties = 0.0, 0, 0.0
    for rating in sorted(set(first) | set(second)):
        a, b = first.get(rating, 0), second.get(rating, 0)
        tied = a + b
        if tied == 0:
            continue
        midrank = below + (tied + 1) / 2  # every tied rating gets the mean of the ranks it spans
        rank_sum += a * midrank
        below += tied
        ties += tied**3 - tied
    u1 = rank_sum - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((total + 1) - ties / (total * (total - 1))) if total > 1 else 0.0
    if variance <= 0:  # every rating the same: nothing can be told apart
        return MannWhitney(u1, 0.0, 1.0)
    z = (u1 - mean + 0.5) / math.sqrt(variance)  # +0.5: the continuity correction toward "not lower"
    return MannWhitney(u1, z, 0.5 * math.erfc(-z / math.sqrt(2)))


def poisson_tail(k: int, expected: float) -> float:
    """P(X >= k) for X ~ Poisson(expected)."""
    if k <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    log_lambda = math.log(expected)

    def log_pmf(i: int) -> float:
        return i * log_lambda - expected - math.lgamma(i + 1)

    if k <= expected:  # the tail is most of the mass: one minus the (short) head is exact enough
        head = sum(math.exp(log_pmf(i)) for i in range(k))
        return max(0.0, 1.0 - head)
    # past the mode every term is smaller than the one before: sum until they no longer count
    first = log_pmf(k)
    total, i = 0.0, k
    while True:
        term = math.exp(log_pmf(i) - first)
        total += term
        if term < 1e-17 * total or i > k + 100_000:
            break
        i += 1
    return min(1.0, math.exp(first) * total)

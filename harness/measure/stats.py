"""Statistics of raw samples and of per-round ratios (pure functions, no numpy needed).

Confidence intervals of a median are *distribution-free order statistics*: for n sorted values
x(1) ≤ … ≤ x(n), the interval [x(l), x(n−l+1)] covers the true median with probability
1 − 2·P(B ≤ l−1), B ~ Binomial(n, ½), whatever the distribution. `median_ci` picks the largest l
whose coverage is still ≥ the requested level; with fewer than 6 values 95% is not reachable and
the interval is [min, max] (coverage 1 − 2^(1−n)). No resampling, so no seed is involved.
"""

from __future__ import annotations

import bisect
import functools
import math
import statistics
from collections.abc import Sequence

from harness.core.measurement import Stats


def quantile(sorted_xs: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted values (numpy's default method)."""
    if not sorted_xs:
        return math.nan
    pos = (len(sorted_xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def summarize(samples: Sequence[float]) -> Stats:
    """Median, IQR, mean, stdev (sample, n−1), min and rel_noise = stdev/mean."""
    xs = sorted(float(s) for s in samples)
    if not xs:
        raise ValueError("no samples")
    mean = statistics.fmean(xs)
    stdev = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return Stats(n=len(xs), median=quantile(xs, 0.5),
                 iqr=quantile(xs, 0.75) - quantile(xs, 0.25), mean=mean, stdev=stdev,
                 min=xs[0], rel_noise=stdev / mean if mean > 0 else math.inf)


@functools.lru_cache(maxsize=4096)
def median_ci_ranks(n: int, level: float = 0.95) -> tuple[int, int]:
    """0-based ranks (lo, hi) of the order-statistics CI of the median of n values.

    The largest l with P(B ≤ l−1) ≤ (1 − level)/2, B ~ Binomial(n, ½), from scipy's binomial
    quantile (no big binomial sums: any n works, and the answer is cached per n)."""
    if n <= 0:
        raise ValueError("no values")
    from scipy.stats import binom

    alpha = (1.0 - level) / 2.0
    k = int(binom.ppf(alpha, n, 0.5))  # smallest k with P(B ≤ k) ≥ alpha
    while k >= 0 and binom.cdf(k, n, 0.5) > alpha * (1 + 1e-12):
        k -= 1  # now P(B ≤ k) ≤ alpha: l − 1 = k
    best = max(1, min(k + 1, n // 2)) if n > 1 else 1
    return best - 1, n - best


def median_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    xs = sorted(values)
    lo, hi = median_ci_ranks(len(xs), level)
    return xs[lo], xs[hi]


def rel_noise(samples: Sequence[float], metric: str = "stdev") -> float:
    """Relative noise for the stopping rule.

    'stdev'     stdev / mean (nvbench's criterion)
    'median_ci' half-width of the 95% order-statistics CI of the median, over the median; robust
                to the rare long outliers of a shared CPU, which would keep stdev/mean high
    """
    if len(samples) < 2:
        return math.inf
    if metric == "stdev":
        return summarize(samples).rel_noise
    if metric == "median_ci":
        xs = sorted(samples)
        lo, hi = median_ci(xs)
        med = quantile(xs, 0.5)
        return (hi - lo) / 2.0 / med if med > 0 else math.inf
    raise ValueError(f"unknown noise metric {metric!r}; valid: median_ci, stdev")


def ratio_summary(numerators: Sequence[float], denominators: Sequence[float],
                  level: float = 0.95) -> tuple[float, tuple[float, float], list[float]]:
    """Per-pair ratios num/den → (median ratio, order-statistics CI, ratios)."""
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError("ratio pairs must be non-empty and of equal length")
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    xs = sorted(ratios)
    return quantile(xs, 0.5), median_ci(xs, level), ratios


class RunningSamples:
    """Samples kept sorted as they arrive, with running sums: the stopping rule's noise check
    costs O(1) per round after O(log n) bisection per sample (and a C-level insert), instead of
    re-sorting every sample at every check."""

    __slots__ = ("_m2", "_mean", "sorted", "total")

    def __init__(self) -> None:
        self.sorted: list[float] = []
        self.total = 0.0
        self._mean = 0.0
        self._m2 = 0.0  # Welford's sum of squared deviations (no cancellation for tight samples)

    def add(self, x: float) -> None:
        bisect.insort(self.sorted, x)
        self.total += x
        delta = x - self._mean
        self._mean += delta / len(self.sorted)
        self._m2 += delta * (x - self._mean)

    def __len__(self) -> int:
        return len(self.sorted)

    def rel_noise(self, metric: str = "stdev") -> float:
        """The same values as `rel_noise(samples, metric)`, from the running state."""
        xs, n = self.sorted, len(self.sorted)
        if n < 2:
            return math.inf
        if metric == "stdev":
            mean = self._mean
            return math.sqrt(self._m2 / (n - 1)) / mean if mean > 0 else math.inf
        if metric == "median_ci":
            lo, hi = median_ci_ranks(n)
            med = quantile(xs, 0.5)
            return (xs[hi] - xs[lo]) / 2.0 / med if med > 0 else math.inf
        raise ValueError(f"unknown noise metric {metric!r}; valid: median_ci, stdev")

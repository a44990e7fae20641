"""Statistics: summaries, quantiles, order-statistics CI of the median, noise metrics."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.measure.stats import (
    median_ci,
    median_ci_ranks,
    quantile,
    ratio_summary,
    rel_noise,
    summarize,
)


def test_summarize_known_values():
    s = summarize([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (s.n, s.median, s.min, s.mean) == (5, 3.0, 1.0, 3.0)
    assert s.iqr == pytest.approx(2.0)  # 4 − 2 (linear interpolation)
    assert s.stdev == pytest.approx(statistics.stdev([1, 2, 3, 4, 5]))
    assert s.rel_noise == pytest.approx(s.stdev / 3.0)
    assert summarize([2.0]).stdev == 0.0
    with pytest.raises(ValueError, match="no samples"):
        summarize([])


def test_quantile_matches_numpy_linear():
    import numpy as np

    xs = sorted([0.3, 1.7, 2.2, 9.0, 4.4, 5.5])
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert quantile(xs, q) == pytest.approx(float(np.quantile(xs, q)))


def test_median_ci_ranks_known_tables():
    assert median_ci_ranks(10) == (1, 8)  # x(2)..x(9), coverage 97.9 %
    assert median_ci_ranks(5) == (0, 4)  # 95 % unreachable: [min, max]
    assert median_ci_ranks(20) == (5, 14)  # x(6)..x(15), coverage 95.9 %
    assert median_ci_ranks(1) == (0, 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.1, 100.0), min_size=1, max_size=60))
def test_median_ci_brackets_the_median(xs):
    lo, hi = median_ci(xs)
    med = quantile(sorted(xs), 0.5)
    assert lo <= med <= hi


def test_rel_noise_metrics():
    assert rel_noise([1.0]) == math.inf
    assert rel_noise([2.0, 2.0, 2.0]) == 0.0
    xs = [1.0] * 19 + [100.0]  # one long outlier: stdev explodes, the median CI does not
    assert rel_noise(xs, "stdev") > 1.0
    assert rel_noise(xs, "median_ci") == 0.0
    with pytest.raises(ValueError, match="unknown noise metric 'nope'"):
        rel_noise(xs, "nope")


def test_ratio_summary_pairs():
    med, ci, ratios = ratio_summary([2.0, 4.0, 9.0], [1.0, 1.0, 3.0])
    assert ratios == [2.0, 4.0, 3.0] and med == 3.0 and ci == (2.0, 4.0)
    with pytest.raises(ValueError, match="equal length"):
        ratio_summary([1.0], [1.0, 2.0])


def _exact_ranks(n: int, level: float = 0.95) -> tuple[int, int]:
    """The definition, with exact integer binomial sums (an oracle for small n)."""
    best = 1
    for l in range(1, n // 2 + 1):  # noqa: E741
        below = sum(math.comb(n, i) for i in range(l))  # P(B ≤ l−1) · 2^n
        if 2 ** n - 2 * below >= level * 2 ** n:
            best = l
        else:
            break
    return best - 1, n - best


@pytest.mark.parametrize("n", [*range(1, 80), 150, 301, 999, 1000, 1001])
def test_median_ci_ranks_match_the_exact_definition(n):
    assert median_ci_ranks(n) == _exact_ranks(n)


def test_median_ci_works_for_a_hundred_thousand_samples():
    import random

    rng = random.Random(1)
    xs = [rng.lognormvariate(0.0, 0.2) for _ in range(100_000)]
    lo, hi = median_ci(xs)
    med = quantile(sorted(xs), 0.5)
    assert lo < med < hi and (hi - lo) / med < 0.01  # ~ ±0.3 % at n = 1e5
    assert rel_noise(xs, "median_ci") < 0.005


def test_running_samples_agree_with_the_batch_noise():
    import random

    from harness.measure.stats import RunningSamples

    rng = random.Random(2)
    run, xs = RunningSamples(), []
    for _ in range(2000):
        x = 1e-3 + rng.gauss(0.0, 1e-6)  # tight samples: no cancellation in the running stdev
        run.add(x)
        xs.append(x)
    assert run.sorted == sorted(xs) and run.total == pytest.approx(sum(xs))
    for metric in ("stdev", "median_ci"):
        assert run.rel_noise(metric) == pytest.approx(rel_noise(xs, metric), rel=1e-6)

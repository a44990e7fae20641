"""asv's rule with injected samples: a change needs both the ratio and Mann-Whitney p < 0.002."""

from __future__ import annotations

import random

import pytest

from harness.regress.compare import MIN_SAMPLES, compare


def _samples(center: float, spread: float, n: int = 20, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_clear_20_percent_slowdown_is_a_regression():
    base, cur = _samples(1.0, 0.02, seed=1), _samples(1.2, 0.02, seed=2)
    v = compare(base, cur)
    assert v.kind == "regression" and v.regressed
    assert v.ratio == pytest.approx(1.2, rel=0.03)
    assert v.p_value < 0.002


def test_20_percent_shift_with_heavy_overlap_is_not():
    # noise of ±40 % around each level: the medians differ by 20 % but the samples overlap
    noise = _samples(1.0, 0.4, n=10, seed=3)
    base, cur = noise, [1.2 * x for x in reversed(noise)]
    v = compare(base, cur)
    assert v.ratio > 1.10  # the threshold alone would flag it …
    assert v.p_value is not None and v.p_value >= 0.002  # … the U test does not
    assert v.kind == "unchanged"


def test_5_percent_shift_is_not_even_when_significant():
    base, cur = _samples(1.0, 0.005, seed=4), _samples(1.05, 0.005, seed=5)
    v = compare(base, cur)
    assert v.p_value < 0.002  # clearly separated …
    assert v.kind == "unchanged"  # … but below the 10 % threshold


def test_improvement_is_reported_symmetrically():
    v = compare(_samples(1.0, 0.02, seed=6), _samples(0.8, 0.02, seed=7))
    assert v.kind == "improvement"


def test_too_few_samples_never_regress():
    v = compare([1.0] * (MIN_SAMPLES - 1), [2.0] * (MIN_SAMPLES - 1))
    assert v.kind == "too_few_samples" and v.ratio == pytest.approx(2.0)


def test_threshold_must_be_a_ratio_above_one():
    with pytest.raises(ValueError, match="threshold must be > 1"):
        compare([1.0] * 10, [1.0] * 10, threshold=0.9)


def test_machine_drift_widens_the_threshold_by_its_size():
    from harness.regress.run import drift_margin

    assert drift_margin(1.0) == drift_margin(1.05) == drift_margin(0.95) == 1.0
    assert drift_margin(1.38) == pytest.approx(1.38)
    assert drift_margin(0.72) == pytest.approx(1 / 0.72)

"""Step detection finds a persistent shift, not a single outlier."""

from __future__ import annotations

import random

from harness.regress.steps import detect_steps


def _noisy(levels: list[float], seed: int = 0, noise: float = 0.02) -> list[float]:
    rng = random.Random(seed)
    return [v * (1 + rng.uniform(-noise, noise)) for v in levels]


def test_persistent_shift_is_one_step_at_the_right_run():
    values = _noisy([1.0] * 10 + [1.3] * 6)
    steps = detect_steps(values)
    assert len(steps) == 1
    assert steps[0].index == 10
    assert 1.25 < steps[0].ratio < 1.35


def test_single_outlier_is_not_a_step():
    values = _noisy([1.0] * 8 + [2.0] + [1.0] * 8, seed=1)
    assert detect_steps(values) == []


def test_flat_noisy_history_has_no_step():
    for seed in range(10):
        assert detect_steps(_noisy([1.0] * 30, seed=seed, noise=0.04)) == []


def test_shift_at_the_end_needs_two_runs():
    assert detect_steps(_noisy([1.0] * 10 + [1.5], seed=2)) == []
    steps = detect_steps(_noisy([1.0] * 10 + [1.5] * 2, seed=2))
    assert [s.index for s in steps] == [10]


def test_small_shift_below_threshold_is_ignored():
    assert detect_steps(_noisy([1.0] * 10 + [1.05] * 10, noise=0.005)) == []

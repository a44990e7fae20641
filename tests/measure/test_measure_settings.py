"""One definition of the measuring rules: a suite's MeasureSettings and the timer's Policy both
derive from TimingRules, and a suite's rules reach the timer unchanged."""

from __future__ import annotations

from dataclasses import fields

import pytest

from harness.config.suite import loads_suite
from harness.measure.settings import MeasureSettings, TimingRules
from harness.measure.timer import CPU_TARGET_REL_NOISE, CUDA_TARGET_REL_NOISE, Policy

RULES = [f.name for f in fields(TimingRules)]


def test_settings_and_policy_share_the_rules_field_for_field():
    assert RULES == ["warmup", "min_samples", "min_time_s", "max_time_s", "target_rel_noise",
                     "rounds"]
    for cls in (MeasureSettings, Policy):
        assert issubclass(cls, TimingRules)
        own = [f for f in fields(cls) if f.name in RULES]
        assert own == list(fields(TimingRules)), f"{cls.__name__} redefines a rule"
    assert not {f.name for f in fields(MeasureSettings)} & (
        {f.name for f in fields(Policy)} - set(RULES))


def test_a_suites_rules_reach_the_timer_unchanged():
    suite = loads_suite("""\
name: s
space: {shape: [8, 8, 2], pruning_rate: [0.5], format: csr}
measure: {warmup: 2, min_samples: 7, min_time_s: 0.5, max_time_s: 9.0, rounds: 4,
          target_rel_noise: 0.02, mode: hot}
""")
    assert isinstance(suite.measure, MeasureSettings) and suite.measure.mode == "hot"
    for device in ("cpu", "cuda:0"):
        pol = Policy.from_settings(suite.measure, device)
        assert [getattr(pol, r) for r in RULES] == [2, 7, 0.5, 9.0, 0.02, 4]
        assert pol.target == 0.02


@pytest.mark.parametrize(("device", "samples", "target", "metric", "block"), [
    ("cpu", 10, CPU_TARGET_REL_NOISE, "median_ci", 100e-6),
    ("cuda:1", 10, CUDA_TARGET_REL_NOISE, "stdev", 0.0),
])
def test_a_suite_that_says_nothing_gets_the_documented_defaults(device, samples, target, metric,
                                                                block):
    pol = Policy.from_settings(MeasureSettings(), device)
    assert (pol.warmup, pol.min_samples, pol.min_time_s, pol.max_time_s, pol.rounds) == (
        3, samples, 0.05, 2.0, 5)
    assert (pol.target, pol.noise_metric, pol.block_min_s) == (target, metric, block)


def test_an_unset_target_is_the_cpu_default_and_bad_rules_are_refused():
    assert Policy().target == CPU_TARGET_REL_NOISE and Policy().target_rel_noise is None
    assert Policy(target_rel_noise=0.2).target == 0.2
    with pytest.raises(ValueError, match="invalid timing policy"):
        Policy(rounds=0)

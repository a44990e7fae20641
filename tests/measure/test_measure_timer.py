"""Stopping rule, interleaving order and ratio pairing of the timer, with an injected fake clock."""

from __future__ import annotations

import itertools
import math

import pytest

from harness.measure.clock import CpuSampler, make_sampler
from harness.measure.timer import Policy, run_interleaved, take_samples


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        return self.t


def ticking(clock: FakeClock, durations):
    """A callable whose i-th call lasts durations[i] fake seconds (cycled)."""
    it = itertools.cycle(durations)

    def fn() -> None:
        clock.t += next(it)

    return fn


def sampler_and_clock():
    clock = FakeClock()
    return CpuSampler(clock), clock


def test_stops_at_min_samples_when_noise_is_zero():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=7, rounds=7, target_rel_noise=0.01, max_time_s=1e9)
    xs = take_samples(ticking(clock, [0.5]), pol, sampler, clock)
    assert xs == [0.5] * 7


def test_min_time_counts_timed_seconds():
    sampler, clock = sampler_and_clock()
    pol = Policy(warmup=0, min_samples=2, rounds=2, min_time_s=1.0, target_rel_noise=0.01,
                 max_time_s=1e9)
    xs = take_samples(ticking(clock, [0.125]), pol, sampler, clock)
    assert len(xs) == 8 and sum(xs) == 1.0


def test_stops_when_noise_falls_under_target():
    # samples 1, 3, then 2 forever: stdev/mean = sqrt(2/(n-1))/2 < 0.1  ⇔  n ≥ 52
    sampler, clock = sampler_and_clock()
    seq = iter([1.0, 3.0])

    def fn() -> None:
        clock.t += next(seq, 2.0)

    pol = Policy(min_time_s=0.0, warmup=0, min_samples=2, rounds=2, target_rel_noise=0.1, max_time_s=1e9,
                 noise_metric="stdev")
    xs = take_samples(fn, pol, sampler, clock)
    assert len(xs) == 52


def test_gives_up_at_max_time():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=2, rounds=2, target_rel_noise=0.01, max_time_s=10.0,
                 noise_metric="stdev", per_round=1)
    res = run_interleaved({"a": ticking(clock, [1.0, 3.0])}, pol, sampler, clock)
    assert res.samples["a"] == [1.0, 3.0, 1.0, 3.0, 1.0, 3.0]  # 12 s ≥ 10 s after 6 samples
    assert res.stopped == "max_time"


def test_max_time_is_per_variant():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=2, rounds=2, target_rel_noise=0.01, max_time_s=5.0,
                 noise_metric="stdev", per_round=1)
    res = run_interleaved({"a": ticking(clock, [1.0, 3.0]), "b": ticking(clock, [1.0, 3.0])},
                          pol, sampler, clock)
    assert res.n_rounds == 3 and res.stopped == "max_time"  # 2 + 6 + 2 = 10 s ≥ 2 × 5 s


def test_warmup_calls_are_not_samples():
    sampler, clock = sampler_and_clock()
    calls = []

    def fn() -> None:
        calls.append(1)
        clock.t += 1.0

    pol = Policy(min_time_s=0.0, warmup=4, min_samples=3, rounds=3, target_rel_noise=0.5, max_time_s=1e9)
    res = run_interleaved({"a": fn}, pol, sampler, clock)
    assert len(calls) == 7 and res.samples["a"] == [1.0, 1.0, 1.0]
    assert res.wall_s == 7.0 and res.timed_s == 3.0 and res.stopped == "converged"


def test_variants_already_warm_skip_their_warm_up():
    sampler, clock = sampler_and_clock()
    calls = {"a": 0, "b": 0}

    def counting(name):
        def fn() -> None:
            calls[name] += 1
            clock.t += 1.0
        return fn

    pol = Policy(min_time_s=0.0, warmup=4, min_samples=3, rounds=3, target_rel_noise=0.5, max_time_s=1e9)
    res = run_interleaved({"a": counting("a"), "b": counting("b")}, pol, sampler, clock,
                          warmed={"a"})
    assert calls == {"a": 3, "b": 7}  # b warms up, a (timed before) does not
    assert res.samples["a"] == res.samples["b"] == [1.0, 1.0, 1.0]


def test_interleaving_order_and_round_count():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=4, rounds=2, target_rel_noise=0.5, max_time_s=1e9)
    fns = {n: ticking(clock, [0.1]) for n in ("dense", "A", "B")}
    res = run_interleaved(fns, pol, sampler, clock)
    assert pol.samples_per_round == 2
    assert res.schedule == ["dense", "dense", "A", "A", "B", "B"] * 2
    assert res.n_rounds == 2 and res.rounds_of["A"] == [0, 0, 1, 1]


def test_rounds_continue_until_every_variant_converged():
    sampler, clock = sampler_and_clock()
    seq = iter([1.0, 3.0, 1.0, 3.0])

    def noisy() -> None:
        clock.t += next(seq, 2.0)

    pol = Policy(min_time_s=0.0, warmup=0, min_samples=2, rounds=1, per_round=1, target_rel_noise=0.3,
                 max_time_s=1e9, noise_metric="stdev")
    res = run_interleaved({"dense": ticking(clock, [1.0]), "A": noisy}, pol, sampler, clock)
    # A = 1,3,1,3,2,2,…: mean 2, squared deviations 4, so stdev/mean = 1/sqrt(n−1) < 0.3 ⇔ n ≥ 13;
    # dense converged at once but keeps being sampled, one per round
    assert len(res.samples["A"]) == len(res.samples["dense"]) == 13


def test_speedup_pairs_ratios_within_rounds():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=3, rounds=3, per_round=1, target_rel_noise=10.0,
                 max_time_s=1e9)
    res = run_interleaved({"dense": ticking(clock, [1.0, 2.0, 3.0]),
                           "A": ticking(clock, [3.0, 1.0, 2.0])}, pol, sampler, clock)
    med, ci, ratios = res.speedup("A", "dense")
    assert ratios == pytest.approx([1 / 3, 2.0, 1.5])
    assert med == pytest.approx(1.5)  # the ratio of medians (2/2 = 1) would differ
    assert ci == (pytest.approx(1 / 3), pytest.approx(2.0))


def test_speedup_uses_round_medians():
    sampler, clock = sampler_and_clock()
    pol = Policy(min_time_s=0.0, warmup=0, min_samples=3, rounds=1, per_round=3, target_rel_noise=10.0,
                 max_time_s=1e9)
    res = run_interleaved({"dense": ticking(clock, [4.0, 4.0, 100.0]),
                           "A": ticking(clock, [1.0, 2.0, 2.0])}, pol, sampler, clock)
    assert res.speedup("A", "dense")[0] == pytest.approx(2.0)


def test_policy_from_settings_and_device_defaults():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Settings:
        warmup: int = 2
        min_samples: int = 5
        min_time_s: float = 0.2
        max_time_s: float = 3.0
        target_rel_noise: float | None = None
        rounds: int = 5

    cpu = Policy.from_settings(Settings(), "cpu")
    assert (cpu.warmup, cpu.min_samples, cpu.rounds, cpu.target_rel_noise) == (2, 5, 5, 0.05)
    gpu = Policy.from_settings(Settings(), "cuda:0")
    assert gpu.target_rel_noise == 0.005 and gpu.noise_metric == "stdev"
    assert Policy.for_device("cuda").min_samples == 10
    with pytest.raises(ValueError, match="invalid timing policy"):
        Policy(min_samples=0)


def test_real_cpu_timing_is_positive_and_finite():
    import torch

    a = torch.randn(64, 64)
    pol = Policy(min_time_s=0.0, warmup=1, min_samples=5, rounds=5, max_time_s=0.5)
    xs = take_samples(lambda: a @ a, pol, make_sampler("cpu", hot=True))
    assert len(xs) >= 5 and all(math.isfinite(x) and x > 0 for x in xs)


def test_microsecond_calls_are_timed_in_blocks():
    """A 2 µs call (fake clock) is sampled in blocks of ≥ 100 µs; samples stay per call."""
    from harness.measure.timer import BLOCK_MIN_S, block_size

    sampler, clock = sampler_and_clock()
    calls = []

    def fn() -> None:
        calls.append(1)
        clock.t += 2e-6

    pol = Policy(min_time_s=0.0, warmup=1, min_samples=10, rounds=2, target_rel_noise=0.05, max_time_s=10.0)
    res = run_interleaved({"tiny": fn}, pol, sampler, clock)
    block = res.blocks["tiny"]
    assert block == block_size(2e-6, pol) and block * 2e-6 >= BLOCK_MIN_S * 0.999
    assert all(x == pytest.approx(2e-6) for x in res.samples["tiny"])
    assert len(calls) == 1 + block * len(res.samples["tiny"])
    assert block_size(1.0, pol) == 1 and block_size(0.0, pol) > 1


def test_a_hundred_thousand_samples_stop_on_noise_without_overflow():
    sampler, clock = sampler_and_clock()
    seq = itertools.cycle([1e-3, 1.02e-3, 0.98e-3, 1.5e-3])

    def fn() -> None:
        clock.t += next(seq)

    pol = Policy(min_time_s=0.0, warmup=0, min_samples=100_000, rounds=1, per_round=1000,
                 target_rel_noise=0.05, max_time_s=1e9, block_min_s=0.0)
    res = run_interleaved({"a": fn}, pol, sampler, clock)
    assert len(res.samples["a"]) == 100_000 and res.stopped == "converged"

"""Adaptive, interleaved timing of the variants of one problem.

Method (DESIGN.md; nvbench, Kernel Tuner, torch.utils.benchmark, asv):

1. Warm-up: `warmup` untimed calls of every variant (module load, JIT, handles stay out); none
   for a variant the caller says is already warm (timed before in this process).
2. Interleaved rounds: round r takes `per_round` samples of every variant in a fixed order
   (dense, A, B, dense, A, B, …), so slow drifts of a shared machine hit all variants alike.
3. Adaptive stop, checked after each complete round (rounds stay complete, so ratios pair):
   stop when rounds ≥ `rounds` AND every variant has ≥ `min_samples` samples AND its summed
   timed time ≥ `min_time_s` AND its relative noise < `target_rel_noise`; give up (keeping what
   was taken) when the wall time since the first round reaches `max_time_s` × the number of
   variants (the limit is per variant, so interleaving more variants does not starve each).
4. Speedup of a variant: for each round the ratio median(dense samples of round r) /
   median(variant samples of round r); the speedup is the median of these per-round ratios with
   the distribution-free order-statistics CI of `harness.measure.stats.median_ci`.

Defaults per device type (`Policy.for_device`):

* CUDA, after nvbench: ≥ 10 samples, noise = stdev/mean, target 0.5 %.
* CPU: noise = half-width of the 95 % CI of the median over the median, target 5 %. Measured on
  the development machine (2 shared cores, AMD EPYC, torch 2.13 MKL, 2 threads): a dense fp32
  4096×4096 · 4096×50 matmul takes ≈ 62 ms per call; over 6 s of back-to-back samples its
  stdev/mean was 8 % after 10 samples and 15–29 % after 20–90 samples (single long outliers from
  other tenants), while the median-CI noise was 9.7 % (10 samples, 0.8 s), 7.1 % (20, 1.6 s) and
  5.1 % (40, 3.3 s). stdev/mean never converges there, and 0.5 % is out of reach, so the CPU
  default uses the robust metric at 5 %, which a 60 ms kernel reaches in ~2–3 s and a sub-ms
  kernel in well under a second; `max_time_s` bounds the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.measure.clock import Clock, PerfClock, Sampler
from harness.measure.stats import median_ci, quantile, rel_noise

CPU_TARGET_REL_NOISE = 0.05
CUDA_TARGET_REL_NOISE = 0.005
CUDA_MIN_SAMPLES = 10


@dataclass(frozen=True)
class Policy:
    """How many samples to take; built from a suite's MeasureSettings by `Policy.from_settings`."""

    warmup: int = 3
    min_samples: int = 10
    min_time_s: float = 0.0
    max_time_s: float = 10.0
    target_rel_noise: float = CPU_TARGET_REL_NOISE
    rounds: int = 1  # minimum number of interleaved rounds
    noise_metric: str = "median_ci"  # see harness.measure.stats.rel_noise
    per_round: int = 0  # samples per variant per round; 0 = ceil(min_samples / rounds)

    def __post_init__(self) -> None:
        if self.min_samples < 1 or self.rounds < 1 or self.warmup < 0 or self.per_round < 0:
            raise ValueError(f"invalid timing policy {self}")

    @property
    def samples_per_round(self) -> int:
        return self.per_round or max(1, math.ceil(self.min_samples / self.rounds))

    @staticmethod
    def for_device(device: str) -> Policy:
        if device.split(":", 1)[0] == "cuda":
            return Policy(min_samples=CUDA_MIN_SAMPLES, target_rel_noise=CUDA_TARGET_REL_NOISE,
                          noise_metric="stdev")
        return Policy()

    @staticmethod
    def from_settings(settings: Any, device: str) -> Policy:
        """From any object with MeasureSettings' fields (missing ones keep the device default)."""
        base = Policy.for_device(device)
        get = lambda name, default: (  # noqa: E731
            default if getattr(settings, name, None) is None else getattr(settings, name))
        min_samples = int(get("min_samples", base.min_samples))
        return Policy(warmup=int(get("warmup", base.warmup)), min_samples=min_samples,
                      min_time_s=float(get("min_time_s", base.min_time_s)),
                      max_time_s=float(get("max_time_s", base.max_time_s)),
                      target_rel_noise=float(get("target_rel_noise", base.target_rel_noise)),
                      rounds=int(get("rounds", base.rounds)), noise_metric=base.noise_metric)


@dataclass
class RoundsResult:
    """Raw samples of each variant, with the round each sample was taken in."""

    order: tuple[str, ...]
    samples: dict[str, list[float]]
    rounds_of: dict[str, list[int]]
    n_rounds: int
    timed_s: float  # sum of all timed samples
    wall_s: float  # warm-up + rounds, as read from the clock
    stopped: str  # 'converged' | 'max_time'
    schedule: list[str] = field(default_factory=list)  # variant name of every sample, in order

    def round_medians(self, name: str) -> list[float]:
        per: list[list[float]] = [[] for _ in range(self.n_rounds)]
        for s, r in zip(self.samples[name], self.rounds_of[name], strict=True):
            per[r].append(s)
        return [quantile(sorted(xs), 0.5) for xs in per]

    def speedup(self, name: str, baseline: str) -> tuple[float, tuple[float, float], list[float]]:
        """Median over rounds of baseline/variant (round medians), its CI and the ratios."""
        base, var = self.round_medians(baseline), self.round_medians(name)
        ratios = [b / v if v > 0 else math.inf for b, v in zip(base, var, strict=True)]
        xs = sorted(ratios)
        return quantile(xs, 0.5), median_ci(xs), ratios


def _converged(res: RoundsResult, policy: Policy) -> bool:
    if res.n_rounds < policy.rounds:
        return False
    for name in res.order:
        xs = res.samples[name]
        if (len(xs) < policy.min_samples or sum(xs) < policy.min_time_s
                or not rel_noise(xs, policy.noise_metric) < policy.target_rel_noise):
            return False
    return True


def run_interleaved(variants: Mapping[str, Callable[[], Any]], policy: Policy, sampler: Sampler,
                    clock: Clock | None = None,
                    progress: Callable[[str], None] | None = None,
                    warmed: Collection[str] = ()) -> RoundsResult:
    """Time every variant in interleaved rounds until the policy's stopping rule holds.

    Variants named in `warmed` were already warmed up and timed by this process (a repeated
    measurement of a cached, prepared variant): their warm-up calls are skipped.
    """
    if not variants:
        raise ValueError("no variants to time")
    clock = clock or getattr(sampler, "clock", None) or PerfClock()
    order = tuple(variants)
    t_start = clock.now_s()
    for name in order:
        for _ in range(0 if name in warmed else policy.warmup):
            variants[name]()
    sampler.sync()
    res = RoundsResult(order, {n: [] for n in order}, {n: [] for n in order}, 0, 0.0, 0.0, "")
    t_rounds = clock.now_s()
    k = policy.samples_per_round
    while True:
        for name in order:
            for _ in range(k):
                s = sampler.sample(variants[name])
                res.samples[name].append(s)
                res.rounds_of[name].append(res.n_rounds)
                res.schedule.append(name)
                res.timed_s += s
        res.n_rounds += 1
        now = clock.now_s()
        if _converged(res, policy):
            res.stopped = "converged"
            break
        if now - t_rounds >= policy.max_time_s * len(order):
            res.stopped = "max_time"
            break
        if progress is not None and res.n_rounds % 10 == 0:
            progress(f"round {res.n_rounds}, {now - t_rounds:.1f}s")
    res.wall_s = clock.now_s() - t_start
    return res


def take_samples(fn: Callable[[], Any], policy: Policy, sampler: Sampler,
                 clock: Clock | None = None) -> list[float]:
    """Adaptive samples of one callable (a single-variant run of the same loop)."""
    return run_interleaved({"fn": fn}, policy, sampler, clock).samples["fn"]


def merge_order(names: Sequence[str], baseline: str) -> tuple[str, ...]:
    """The interleaving order: the baseline first, then the variants as given, no duplicates."""
    out = [baseline]
    for n in names:
        if n not in out:
            out.append(n)
    return tuple(out)

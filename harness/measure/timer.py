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
5. Contention (`harness.measure.contention`): after each round a probe reads what the OS saw
   (run-queue wait of our threads, steal); a disturbed round's samples are discarded (kept in
   `RoundsResult.discarded`) and the round is re-timed within the same `max_time_s` budget.
   Only clean rounds count toward the stopping rule and the speedup; a result with too few clean
   rounds, or more than `max_disturbed_share` disturbed, is `contended` (never a speedup).
6. Blocks: a CPU call shorter than `block_min_s` (100 µs) is timed as a block of several calls
   per sample (block size calibrated from its last warm-up call, stored with the measurement);
   a sample is the block's time divided by its calls.

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
from dataclasses import dataclass, field, fields, replace
from typing import Any

from harness.measure.clock import Clock, PerfClock, Sampler
from harness.measure.contention import ContentionRule, NullProbe, Probe
from harness.measure.settings import TimingRules
from harness.measure.stats import RunningSamples, median_ci, quantile

CPU_TARGET_REL_NOISE = 0.05
CUDA_TARGET_REL_NOISE = 0.005
CUDA_MIN_SAMPLES = 10
# A CPU sample lasts at least this long: shorter calls are timed in blocks of several calls (as
# torch.utils.benchmark does), so the clock read and the smallest torch call's own overhead stay
# under 1 % of a sample (measured on the 2-core development VM with timeit: perf_counter_ns 42 ns,
# a 4×4 torch matmul 0.96 µs). CUDA event times need no blocks.
BLOCK_MIN_S = 100e-6
MAX_BLOCK = 10_000


@dataclass(frozen=True)
class Policy(TimingRules):
    """The timing rules (`TimingRules`, the suite's own) resolved for a device, plus the timer's
    mechanics; a suite's MeasureSettings become one by `Policy.from_settings`. An unset
    `target_rel_noise` is the CPU default."""

    noise_metric: str = "median_ci"  # see harness.measure.stats.rel_noise
    per_round: int = 0  # samples per variant per round; 0 = ceil(min_samples / rounds)
    block_min_s: float = BLOCK_MIN_S  # 0: one call per sample
    contention: ContentionRule = field(default_factory=ContentionRule)

    def __post_init__(self) -> None:
        if self.min_samples < 1 or self.rounds < 1 or self.warmup < 0 or self.per_round < 0:
            raise ValueError(f"invalid timing policy {self}")

    @property
    def target(self) -> float:
        """The relative noise to reach (`target_rel_noise`, else the CPU default)."""
        t = self.target_rel_noise
        return CPU_TARGET_REL_NOISE if t is None else t

    @property
    def samples_per_round(self) -> int:
        return self.per_round or max(1, math.ceil(self.min_samples / self.rounds))

    @staticmethod
    def for_device(device: str) -> Policy:
        """The suite's default rules with the device's noise target and mechanics."""
        if device.split(":", 1)[0] == "cuda":
            return Policy(min_samples=CUDA_MIN_SAMPLES, target_rel_noise=CUDA_TARGET_REL_NOISE,
                          noise_metric="stdev", block_min_s=0.0)
        return Policy(target_rel_noise=CPU_TARGET_REL_NOISE)

    @staticmethod
    def from_settings(settings: Any, device: str) -> Policy:
        """The rules of `settings` (a MeasureSettings, or any object with TimingRules' fields) on
        `device`: a rule it leaves unset (None or missing) keeps the device's default."""
        given = {f.name: getattr(settings, f.name, None) for f in fields(TimingRules)}
        return replace(Policy.for_device(device),
                       **{k: v for k, v in given.items() if v is not None})


@dataclass
class RoundsResult:
    """Raw samples of each variant (clean rounds only), with the round each was taken in.

    Rounds the contention probe judged disturbed are not in `samples`: their samples are kept in
    `discarded` and their reasons in `disturbed`, and `n_rounds` counts clean rounds only (the
    round indices in `rounds_of` number the clean rounds)."""

    order: tuple[str, ...]
    samples: dict[str, list[float]]
    rounds_of: dict[str, list[int]]
    n_rounds: int
    timed_s: float  # sum of all timed samples, discarded ones included
    wall_s: float  # warm-up + rounds, as read from the clock
    stopped: str  # 'converged' | 'max_time'
    schedule: list[str] = field(default_factory=list)  # variant name of every sample, in order
    blocks: dict[str, int] = field(default_factory=dict)  # calls per sample, per variant
    disturbed: list[str] = field(default_factory=list)  # reason of each discarded round
    discarded: dict[str, list[float]] = field(default_factory=dict)

    @property
    def total_rounds(self) -> int:
        return self.n_rounds + len(self.disturbed)

    @property
    def disturbed_share(self) -> float:
        return len(self.disturbed) / self.total_rounds if self.total_rounds else 0.0

    def contended(self, policy: Policy) -> str | None:
        """Why the clean rounds cannot be trusted (too few, or too many were disturbed)."""
        if not self.disturbed:
            return None
        share, rule = self.disturbed_share, policy.contention
        if self.n_rounds < policy.rounds or share > rule.max_disturbed_share:
            return (f"contended: {len(self.disturbed)} of {self.total_rounds} rounds disturbed "
                    f"({self.disturbed[-1]}); {self.n_rounds} clean, {policy.rounds} needed")
        return None

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


def _converged(running: Mapping[str, RunningSamples], n_rounds: int, policy: Policy) -> bool:
    if n_rounds < policy.rounds:
        return False
    for xs in running.values():
        if (len(xs) < policy.min_samples or xs.total < policy.min_time_s
                or not xs.rel_noise(policy.noise_metric) < policy.target):
            return False
    return True


def block_size(call_s: float, policy: Policy) -> int:
    """Calls per sample so that one sample lasts at least `policy.block_min_s` (1: no block)."""
    if policy.block_min_s <= 0 or call_s >= policy.block_min_s:
        return 1
    return min(MAX_BLOCK, math.ceil(policy.block_min_s / max(call_s, 1e-9)))


def _sample(sampler: Sampler, fn: Callable[[], Any], block: int) -> float:
    return sampler.sample(fn) if block == 1 else sampler.sample(fn, block)


def run_interleaved(variants: Mapping[str, Callable[[], Any]], policy: Policy, sampler: Sampler,
                    clock: Clock | None = None,
                    progress: Callable[[str], None] | None = None,
                    warmed: Collection[str] = (), probe: Probe | None = None,
                    blocks: Mapping[str, int] | None = None) -> RoundsResult:
    """Time every variant in interleaved rounds until the policy's stopping rule holds.

    Variants named in `warmed` were already warmed up and timed by this process (a repeated
    measurement of a cached, prepared variant): their warm-up calls are skipped. `blocks` gives
    known calls-per-sample; the others are calibrated from their last warm-up call (one call
    per sample without a warm-up). Each round is judged by `probe` (default: none; `Bench`
    decides which probe a device gets); disturbed rounds are discarded and re-timed.
    """
    if not variants:
        raise ValueError("no variants to time")
    clock = clock or getattr(sampler, "clock", None) or PerfClock()
    probe = probe or NullProbe()
    order = tuple(variants)
    t_start = clock.now_s()
    known = dict(blocks or {})
    calls: dict[str, float] = {}
    for name in order:
        for _ in range(0 if name in warmed else policy.warmup):
            t0 = clock.now_s()
            variants[name]()
            calls[name] = clock.now_s() - t0
    sampler.sync()
    getattr(sampler, "prepare", lambda: None)()  # e.g. the CPU's cache-flush buffer
    res = RoundsResult(order, {n: [] for n in order}, {n: [] for n in order}, 0, 0.0, 0.0, "")
    res.blocks = {n: known.get(n) or block_size(calls.get(n, math.inf), policy) for n in order}
    res.discarded = {n: [] for n in order}
    running = {n: RunningSamples() for n in order}
    cpu_ratios = RunningSamples()  # CPU time per wall second of the rounds so far
    t_rounds = clock.now_s()
    k = policy.samples_per_round
    while True:
        before = probe.snapshot()
        taken: dict[str, list[float]] = {}
        for name in order:
            xs = taken.setdefault(name, [])
            for _ in range(k):
                s = _sample(sampler, variants[name], res.blocks[name])
                xs.append(s)
                res.schedule.append(name)
                res.timed_s += s * res.blocks[name]
        load = probe.load(before, probe.snapshot())
        typical = quantile(cpu_ratios.sorted, 0.5) if len(cpu_ratios) else None
        reason = policy.contention.disturbed(load, typical)
        if load is not None and load.cpu_s is not None and load.wall_s > 0:
            cpu_ratios.add(load.cpu_s / load.wall_s)
        if reason is not None:
            res.disturbed.append(reason)
            for name, xs in taken.items():
                res.discarded[name].extend(xs)
        else:
            for name, xs in taken.items():
                for s in xs:
                    res.samples[name].append(s)
                    res.rounds_of[name].append(res.n_rounds)
                    running[name].add(s)
            res.n_rounds += 1
        now = clock.now_s()
        if _converged(running, res.n_rounds, policy):
            res.stopped = "converged"
            break
        if now - t_rounds >= policy.max_time_s * len(order):
            res.stopped = "max_time"
            break
        if progress is not None and res.total_rounds % 10 == 0:
            progress(f"round {res.total_rounds}, {now - t_rounds:.1f}s")
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

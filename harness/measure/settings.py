"""The measuring rules, defined once.

`TimingRules` says when the adaptive timer may stop (DESIGN: measurement method). A suite's
`measure:` section is `MeasureSettings` (the rules plus how a point is measured: cold or hot,
verified, which counters), and the timer's `harness.measure.timer.Policy` is the same rules
resolved for a device plus the timer's own mechanics. Both derive from this one dataclass, so a
rule added here reaches the suite, its schema's parsing and the timer together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimingRules:
    """When to stop timing; the defaults are a suite's when it says nothing."""

    warmup: int = 3  # untimed calls of every variant first (module load, JIT, handles)
    min_samples: int = 10
    min_time_s: float = 0.05  # summed timed time per variant
    max_time_s: float = 2.0  # give up (keeping what was taken) after this, per variant
    target_rel_noise: float | None = None  # None: the device's default (CPU 5 %, CUDA 0.5 %)
    rounds: int = 5  # interleaved rounds (dense, A, B, dense, A, B, …), at least


@dataclass(frozen=True)
class MeasureSettings(TimingRules):
    """How each point is measured, as written in a suite's `measure:` section."""

    mode: str = "cold"  # 'cold' (cache flushed before each sample) | 'hot'
    verify: bool = True
    counters: tuple[str, ...] = ()

"""The Measurement record: what the measurement core produces and the store keeps.

Statuses:
  ok           verified and timed
  invalid      output disagreed with the float64 reference of the pruned weight (never a speedup)
  unsupported  the combination cannot run here; `reason` says why (never a crash)
  error        anything else that went wrong; `reason` holds the one-line error
  contended    verified and timed, but the machine disturbed the timing (another process took
               our CPUs, steal, …) more than the contention rule allows: its samples are kept,
               it never gets a speedup and is never reused (harness.measure.contention)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.point import Point

STATUSES = ("ok", "invalid", "unsupported", "error", "contended")


@dataclass(frozen=True)
class Stats:
    """Summary of raw samples (seconds)."""

    n: int
    median: float
    iqr: float
    mean: float
    stdev: float
    min: float
    rel_noise: float  # stdev / mean


@dataclass(frozen=True)
class Measurement:
    point: Point
    status: str
    reason: str = ""
    samples_s: tuple[float, ...] = ()  # every raw sample, seconds per call
    stats: Stats | None = None
    verified: bool = False
    rel_error: float | None = None  # ‖out − ref‖ / ‖ref‖ against the float64 reference
    speedup: float | None = None  # median of per-round dense/variant ratios
    speedup_ci: tuple[float, float] | None = None
    baseline_key: str | None = None  # Point.key() of the dense baseline it was compared with
    bytes: Mapping[str, int] = field(default_factory=dict)  # values, indices, pointers, activations, output
    flops: int = 0
    bandwidth_gbs: float | None = None
    peak_fraction: float | None = None
    counters: Mapping[str, Any] = field(default_factory=dict)
    throttled: bool = False
    provenance: Mapping[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0  # wall time of the whole measurement (prepare + verify + timing)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status != "ok" and self.speedup is not None:
            raise ValueError("only verified ('ok') measurements carry a speedup")

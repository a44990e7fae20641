"""Step detection over a point's history: a persistent shift, not a single outlier.

A history of per-run medians y_1..y_n is fitted by a piecewise-constant function minimising

    Σ_segments Σ_{i ∈ segment} |y_i − median(segment)|  +  γ · (number of segments − 1)

(the L1 "Potts" fit asv uses for its step detection), by exact dynamic programming — O(n²·n) for
the medians, fine for nightly histories of a few hundred runs. Segments shorter than
`min_segment` (default 2) are not allowed, so one outlying run can never be a step. The penalty
is scale-free, γ = penalty_rel · median level · max(4, n/4): a step of relative size s held for L
runs saves about s·L·level of deviation, so it is kept only when s·L > penalty_rel·max(4, n/4).
A step is reported only if its relative size also exceeds `min_rel_change`.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    index: int  # first run of the new level
    before: float  # median level before
    after: float  # median level after
    ratio: float  # after / before (> 1: slower)


def _cost(seg: Sequence[float]) -> float:
    med = statistics.median(seg)
    return sum(abs(v - med) for v in seg)


def segments(values: Sequence[float], *, penalty: float, min_segment: int = 2) -> list[int]:
    """Start indices of the optimal segments (always begins with 0)."""
    n = len(values)
    if n < 2 * min_segment:
        return [0]
    best = [float("inf")] * (n + 1)
    prev = [0] * (n + 1)
    best[0] = -penalty  # the first segment costs no step
    for end in range(min_segment, n + 1):
        for start in range(0, end - min_segment + 1):
            if best[start] == float("inf"):
                continue
            c = best[start] + penalty + _cost(values[start:end])
            if c < best[end]:
                best[end], prev[end] = c, start
    starts, end = [], n
    while end > 0:
        starts.append(prev[end])
        end = prev[end]
    return sorted(starts)


def detect_steps(values: Sequence[float], *, min_rel_change: float = 0.10,
                 penalty_rel: float = 0.05, min_segment: int = 2) -> list[Step]:
    """Persistent level shifts in `values` larger than `min_rel_change` (relative)."""
    if len(values) < 2 * min_segment:
        return []
    level = statistics.median(values)
    penalty = penalty_rel * abs(level) * max(4, len(values) // 4)
    starts = segments(values, penalty=penalty, min_segment=min_segment)
    bounds = [*starts, len(values)]
    levels = [statistics.median(values[a:b]) for a, b in itertools.pairwise(bounds)]
    steps = []
    for i in range(1, len(starts)):
        before, after = levels[i - 1], levels[i]
        ratio = after / before if before else float("inf")
        if abs(ratio - 1.0) > min_rel_change:
            steps.append(Step(starts[i], before, after, ratio))
    return steps

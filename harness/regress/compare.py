"""Is a point slower than its baseline? asv's rule on the raw samples.

A change is real only if both hold (asv, `asv compare`):
  * the ratio of medians current/baseline is beyond the threshold (default 1.10, i.e. 10 %), and
  * a two-sided Mann–Whitney U test on the two sets of raw samples gives p < 0.002.
The same rule in the other direction reports an improvement.

With n samples on each side the smallest two-sided p the U test can give is 2 / C(2n, n):
n = 5 → 0.0079 (can never pass), n = 6 → 0.0022, n = 7 → 0.00058. Points with fewer than 7
samples on either side are therefore reported as "too few samples", never as a regression; the
nightly suite asks for at least 10.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.002
MIN_SAMPLES = 7
# what a ratio compares, per normalisation (`regress --normalize`): its name in every output
RATIO_KIND = {"dense": "dense-relative", "drift": "drift-corrected", "none": "raw"}


@dataclass(frozen=True)
class Verdict:
    kind: str  # regression | improvement | unchanged | too_few_samples
    ratio: float  # median(current) / median(baseline): > 1 is slower
    p_value: float | None
    n_baseline: int
    n_current: int

    @property
    def regressed(self) -> bool:
        return self.kind == "regression"


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue)


def compare(baseline: Sequence[float], current: Sequence[float], *, threshold: float = 1.10,
            alpha: float = ALPHA) -> Verdict:
    if threshold <= 1.0:
        raise ValueError(f"threshold must be > 1 (a ratio such as 1.10), got {threshold}")
    nb, nc = len(baseline), len(current)
    if nb == 0 or nc == 0:
        return Verdict("too_few_samples", math.nan, None, nb, nc)
    ratio = statistics.median(current) / statistics.median(baseline)
    if nb < MIN_SAMPLES or nc < MIN_SAMPLES:
        return Verdict("too_few_samples", ratio, None, nb, nc)
    p = mann_whitney_p(baseline, current)
    if p < alpha and ratio > threshold:
        kind = "regression"
    elif p < alpha and ratio < 1.0 / threshold:
        kind = "improvement"
    else:
        kind = "unchanged"
    return Verdict(kind, ratio, p, nb, nc)

"""Built-in group aggregations: weights (..., group_len) → scores (...); lowest scores are removed.

hartenstein-weight-pruning-gpus.md, Eq. 2 uses RMS (the default); the paper also evaluates the
arithmetic mean, the median and random selection, and reports no significant accuracy difference.
l1 / l2 / max are the usual magnitude criteria (ouyang-pruning-in-dnn-survey.md: L1 vs random).

Scores are computed in float32 (float64 stays float64): squaring fp16 weights overflows at 256.
`random` needs a seed: it carries `needs_generator = True` and takes a `generator` keyword, which
`harness.pruning.patterns.group_scores` passes (a CPU torch.Generator seeded from spec.seed, so
the same seed selects the same groups on every device).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from harness.pruning.base import AGGREGATIONS

if TYPE_CHECKING:
    import torch


def _f(x: torch.Tensor) -> torch.Tensor:
    import torch

    return x if x.dtype == torch.float64 else x.float()


# vector_norm reduces in one fused pass (no |x| or x² temporaries): pruning a 4096² weight is
# a few memory passes in all.


def _norm(x: torch.Tensor, ord: float) -> torch.Tensor:
    import torch

    return torch.linalg.vector_norm(_f(x), ord=ord, dim=-1)


@AGGREGATIONS.register("rms")
def rms(x: torch.Tensor) -> torch.Tensor:
    """Root mean square, hartenstein Eq. 2: sqrt(Σx²/n) = ‖x‖₂ / sqrt(n)."""
    return _norm(x, 2) / math.sqrt(x.shape[-1])


@AGGREGATIONS.register("mean")
def mean_abs(x: torch.Tensor) -> torch.Tensor:
    """Arithmetic mean of |w|."""
    return _norm(x, 1) / x.shape[-1]


@AGGREGATIONS.register("median")
def median_abs(x: torch.Tensor) -> torch.Tensor:
    """Median of |w| (for an even count, the lower of the two middle values, as torch.median)."""
    return _f(x).abs().median(dim=-1).values


@AGGREGATIONS.register("l1")
def l1(x: torch.Tensor) -> torch.Tensor:
    return _norm(x, 1)


@AGGREGATIONS.register("l2")
def l2(x: torch.Tensor) -> torch.Tensor:
    return _norm(x, 2)


@AGGREGATIONS.register("max")
def max_abs(x: torch.Tensor) -> torch.Tensor:
    return _norm(x, math.inf)


def random(x: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform random scores, independent of the weights (hartenstein's `random` aggregation).

    Drawn on the CPU from `generator` (seed 0 if None) and moved to x's device, so a seed gives
    the same selection on CPU and GPU.
    """
    import torch

    if generator is None:
        generator = torch.Generator().manual_seed(0)
    scores = torch.rand(x.shape[:-1], generator=generator, dtype=torch.float64)
    return scores.to(x.device)


# a marker on the function object, read by patterns._aggregate; functions declare no such attribute
random.needs_generator = True  # type: ignore[attr-defined]
AGGREGATIONS.register("random", random)

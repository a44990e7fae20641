"""The Problem of a point: seeded operands, the keep-mask, the pruned weight, the reference.

Values are generated in float32 on the CPU with a seeded `torch.Generator` and only then cast and
moved, so every device and dtype sees the same numbers. Pruning scores the float32 weight (same
mask everywhere); the reference is `W_pruned.double() @ X.double()` of the operands *as stored in
the point's dtype*, computed on the CPU in float64, so input rounding is not counted as error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.core.dtypes import to_torch

if TYPE_CHECKING:
    import torch

    from harness.core.point import Point, PruneSpec


def problem_key(point: Point) -> tuple:
    """Points with the same key share weights and activations (and the dense baseline)."""
    return (point.m, point.k, point.n, point.dtype, point.device, point.seed)


@dataclass(frozen=True)
class Problem:
    weight: torch.Tensor  # M×K, point's dtype and device, unpruned
    x: torch.Tensor  # K×N, point's dtype and device
    weight32: torch.Tensor  # M×K float32 on CPU: what the pruner scores


@dataclass(frozen=True)
class Pruned:
    mask: torch.Tensor  # M×K bool on CPU, True = kept
    weight: torch.Tensor  # M×K pruned, point's dtype and device
    reference: torch.Tensor  # M×N float64 on CPU
    nnz: int


def make_problem(point: Point) -> Problem:
    import torch

    gen = torch.Generator().manual_seed(int(point.seed))
    w32 = torch.randn(point.m, point.k, generator=gen, dtype=torch.float32)
    x32 = torch.randn(point.k, point.n, generator=gen, dtype=torch.float32)
    dt = to_torch(point.dtype)
    return Problem(weight=w32.to(dtype=dt).to(point.device), x=x32.to(dtype=dt).to(point.device),
                   weight32=w32)


def reference(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """float64 W @ X on the CPU."""
    return weight.detach().cpu().double() @ x.detach().cpu().double()


def prune(problem: Problem, spec: PruneSpec) -> Pruned:
    """Keep-mask from the pruning registry (no pruning for rate 0), pruned weight, reference."""
    import torch

    if spec.rate <= 0:
        mask = torch.ones_like(problem.weight32, dtype=torch.bool)
    else:
        from harness.pruning.base import prune_mask

        mask = prune_mask(problem.weight32, spec).to(torch.bool).cpu()
    pruned = problem.weight * mask.to(problem.weight.device)
    return Pruned(mask=mask, weight=pruned, reference=reference(pruned, problem.x),
                  nnz=int(mask.sum()))

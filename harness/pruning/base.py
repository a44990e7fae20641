"""Interfaces of the pruning role.

A *pattern* turns a weight (any tensor whose last dim is the input dim; Linear: out×in) and a
`PruneSpec` into a boolean mask, True = kept. It removes exactly round(rate × n_groups) groups,
ties broken deterministically (lower flat group index is removed first), seeded where random.

An *aggregation* scores groups: tensor (..., group_len) of weights → (...) scores; the groups with
the lowest scores are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch

    from harness.core.point import PruneSpec

Pattern = Callable[["torch.Tensor", "PruneSpec"], "torch.Tensor"]
Aggregation = Callable[["torch.Tensor"], "torch.Tensor"]

PATTERNS: Registry[Pattern] = Registry("pruning pattern")
AGGREGATIONS: Registry[Aggregation] = Registry("aggregation")


def prune_mask(weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    """Keep-mask of `weight` for `spec` (dispatches through the PATTERNS registry)."""
    from harness.pruning import patterns  # noqa: F401  (registers the built-ins)

    return PATTERNS.get(spec.pattern)(weight, spec)

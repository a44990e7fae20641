"""Structure operators for training: ADMM's Euclidean projection and group-lasso groups.

`project` is Π_S of zhang-adam-admm-structured-pruning.md, Eq. 5 (§4.1–4.4): the Euclidean
projection onto the weights with at most k non-zero groups of a structure keeps the k groups of
largest L2 (Frobenius) norm unchanged and zeroes the rest (ranking by ‖·‖² as the paper does is
the same order). Ties: the lower flat group index is zeroed first (as the pruning patterns).

`group_norms` / `group_lasso_groups` give the groups of lym-prunetrain-group-lasso.md, Eq. 2:
the input channels and the output channels of each layer (conv: W[:, c] and W[k];
Linear: columns and rows). `zero_small_groups` is its pruning step: a group whose weights are
all below the threshold (1e-4 in the paper) is zeroed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from harness.core.errors import InputError
from harness.core.point import PruneSpec, pair
from harness.pruning.patterns import (
    expand_groups,
    grouping,
    keep_lowest_removed,
    tile_reduce,
)

if TYPE_CHECKING:
    import torch

# projection structure → pruning pattern whose groups it uses
STRUCTURES = {"weights": "unstructured", "unstructured": "unstructured", "rows": "rows",
              "filter": "rows", "columns": "columns", "shape": "columns", "channel": "channel",
              "row_group": "row_group", "block": "block"}


def _spec(structure: str, group_size: int, block: tuple[int, int]) -> PruneSpec:
    if structure not in STRUCTURES:
        raise InputError(path="structure", value=structure,
                         expected=f"one of {', '.join(sorted(STRUCTURES))}")
    return PruneSpec(pattern=STRUCTURES[structure], group_size=group_size, block=pair(block),
                     aggregation="l2")


def structure_mask(weight: torch.Tensor, structure: str, keep: float | int, *,
                   group_size: int = 1, block: tuple[int, int] = (1, 1)) -> torch.Tensor:
    """Keep-mask of `project`: True on the k largest-L2-norm groups of `structure`.

    keep: an int is the number of groups k to keep; a float in [0, 1] the fraction of groups
    (k = round(keep × n_groups))."""
    import torch

    spec = _spec(structure, group_size, block)
    if weight.dim() < 2:
        raise InputError(path="weight", value=tuple(weight.shape), expected="a weight with ≥ 2 dims")
    g = grouping(tuple(weight.shape), spec)
    v = g.view(weight.detach())
    dtype = torch.float64 if v.dtype == torch.float64 else torch.float32
    norms = tile_reduce(v, g.block, lambda x: torch.linalg.vector_norm(x.to(dtype), dim=-1), dtype)
    n = norms.numel()
    if isinstance(keep, bool) or not isinstance(keep, int | float):
        raise InputError(path="keep", value=keep, expected="a group count (int) or fraction (float)")
    if isinstance(keep, float):
        if not 0.0 <= keep <= 1.0:
            raise InputError(path="keep", value=keep, expected="a fraction in [0, 1]")
        k = round(keep * n)
    else:
        if keep < 0:
            raise InputError(path="keep", value=keep, expected="a non-negative group count")
        k = min(keep, n)
    kept = keep_lowest_removed(norms.reshape(-1), n - k).reshape(norms.shape)
    return g.unview(expand_groups(kept, g.block, g.v_shape))


def project(weight: torch.Tensor, structure: str, keep: float | int, *, group_size: int = 1,
            block: tuple[int, int] = (1, 1)) -> torch.Tensor:
    """Π_S(weight): a new tensor keeping the k largest-L2-norm groups of `structure`, zeroing the
    rest (zhang Eq. 5). Structures: weights (unstructured), rows / filter, columns / shape,
    channel (conv input channels; Linear columns), row_group (1×group_size), block (r×c).
    Idempotent: project(project(w)) == project(w)."""
    import torch

    mask = structure_mask(weight, structure, keep, group_size=group_size, block=block)
    return torch.where(mask, weight, torch.zeros((), dtype=weight.dtype, device=weight.device))


Axis = Literal["in", "out"]


def _axis_view(weight: torch.Tensor, axis: Axis) -> torch.Tensor:
    """(n_groups, group_len): rows are output channels ("out") or input channels ("in")."""
    if axis == "out":
        return weight.reshape(weight.shape[0], -1)
    if axis == "in":
        return weight.transpose(0, 1).reshape(weight.shape[1], -1)
    raise InputError(path="axis", value=axis, expected="'in' or 'out'")


def group_lasso_groups(weight: torch.Tensor, axis: Axis) -> torch.Tensor:
    """Flat indices into weight.reshape(-1) of each group, shape (n_groups, group_len):
    group c of axis "in" is W[:, c] (input channel / Linear column), group k of axis "out" is
    W[k] (output channel / filter / Linear row). lym Eq. 2."""
    import torch

    idx = torch.arange(weight.numel(), device=weight.device).reshape(weight.shape)
    return _axis_view(idx, axis).contiguous()


def group_norms(weight: torch.Tensor, axis: Axis) -> torch.Tensor:
    """L2 norm of each group (differentiable): λ · Σ group_norms(W, "in") + group_norms(W, "out")
    summed over layers is lym's Eq. 2 penalty."""
    import torch

    return torch.linalg.vector_norm(_axis_view(weight, axis), dim=1)


def zero_small_groups(weight: torch.Tensor, axis: Axis, tol: float = 1e-4) -> torch.Tensor:
    """Keep-mask (weight's shape): False on the groups whose weights are all below `tol` in
    magnitude (lym: "prune those channels for which all parameters are below a threshold")."""
    small = _axis_view(weight.detach(), axis).abs().amax(dim=1) < tol
    keep = ~small
    if axis == "out":
        return keep.reshape(-1, *([1] * (weight.dim() - 1))).expand(weight.shape).clone()
    return keep.reshape(1, -1, *([1] * (weight.dim() - 2))).expand(weight.shape).clone()

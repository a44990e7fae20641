"""Built-in pruning patterns: weight + PruneSpec → keep-mask (True = kept) with the exact rate.

Every pattern except `nm` works the same way (hartenstein-weight-pruning-gpus.md, Fig. 2, Eq. 1–3):
(A) view the weight as a 2-D matrix V and tile V into r×c groups, (B) score each group with the
spec's aggregation, (C) remove exactly round(rate × n_groups) groups (Python's round, half to
even) with the lowest scores. Ties: the lower flat group index (row-major over the group grid) is
removed first, i.e. the order of a stable ascending sort. `random` is seeded from spec.seed.

Views and groups (weights are 2-D Linear out×in, or 4-D conv out×in×kh×kw; ≥2-D in general,
viewed as out × (everything else), so row-based patterns see a conv filter as one row):

  unstructured  1×1 groups of V (by |w|; every aggregation but `random` ranks by |w|)
  row_group     1×g groups at column offsets that are multiples of g (hartenstein Eq. 1). When
                K % g != 0 the last group of each row is a partial group of K % g weights, scored
                on its own elements only (no padding enters its score).
  block         r×c groups (spec.block); partial edge blocks are scored on their own elements.
  rows, filter  whole rows of V: output neurons / conv filters (zhang §4.1, filter-wise)
  columns,      whole columns of V: input features / one (c, kh, kw) position across all filters
  shape         (zhang §4.3, shape-wise)
  channel       all W[:, c] slices: the input channel c across all filters (zhang §4.2,
                channel-wise); for a 2-D weight the same as columns.
  nm            keep the N largest-|w| of every M consecutive weights along a row of V
                (spec.nm=(2, 4) is 2:4). A partial last group of t < M weights keeps min(N, t).
                The rate is implied (1 − N/M): spec.rate must be 0 (meaning "implied") or equal
                1 − N/M, anything else is an unsupported combination. The aggregation is ignored.

Everything is vectorised torch on the weight's device: the GPU path is this code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import pair
from harness.core.registry import Registry
from harness.pruning import aggregations  # noqa: F401  (registers the built-in aggregations)
from harness.pruning.base import AGGREGATIONS, PATTERNS

if TYPE_CHECKING:
    import torch

    from harness.core.point import PruneSpec

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Grouping:
    """A pattern's groups: a 2-D view V of the weight, tiled into `block` (r×c) groups."""

    view: Callable[[torch.Tensor], torch.Tensor]  # weight → V (2-D)
    unview: Callable[[torch.Tensor], torch.Tensor]  # mask of V → mask of the weight's shape
    block: tuple[int, int]
    v_shape: tuple[int, int]


GroupingBuilder = Callable[[Shape, "PruneSpec"], Grouping]
GROUPINGS: Registry[GroupingBuilder] = Registry("grouping")


def _rows_view(shape: Shape, block: tuple[int, int]) -> Grouping:
    out = shape[0]
    inner = math.prod(shape[1:])
    return Grouping(lambda w: w.reshape(out, inner), lambda m: m.reshape(shape), block,
                    (out, inner))


def _channel_view(shape: Shape) -> Grouping:
    # V's rows are the input channels: W[:, c] flattened across filters.
    out, ch = shape[0], shape[1]
    rest = shape[2:]
    inner = out * math.prod(rest)

    def view(w: torch.Tensor) -> torch.Tensor:
        return w.transpose(0, 1).reshape(ch, inner)

    def unview(m: torch.Tensor) -> torch.Tensor:
        return m.reshape(ch, out, *rest).transpose(0, 1).contiguous()

    return Grouping(view, unview, (1, inner), (ch, inner))


def _inner(shape: Shape) -> int:
    return math.prod(shape[1:])


GROUPINGS.register("unstructured", lambda s, p: _rows_view(s, (1, 1)))
GROUPINGS.register("row_group", lambda s, p: _rows_view(s, (1, p.group_size)))
GROUPINGS.register("block", lambda s, p: _rows_view(s, pair(p.block)))
GROUPINGS.register("rows", lambda s, p: _rows_view(s, (1, max(_inner(s), 1))))
GROUPINGS.register("filter", GROUPINGS.get("rows"))
GROUPINGS.register("columns", lambda s, p: _rows_view(s, (max(s[0], 1), 1)))
GROUPINGS.register("shape", GROUPINGS.get("columns"))
GROUPINGS.register("channel", lambda s, p: _channel_view(s))


# ---------------------------------------------------------------------------------------------
# validation


def _positive_pair(value: object) -> bool:
    return (isinstance(value, tuple | list) and len(value) == 2
            and all(isinstance(v, int) and v >= 1 for v in value))


def check_spec(shape: Shape, spec: PruneSpec) -> str | None:
    """None if `spec` can prune a weight of `shape`, else the reason (an unsupported combination).

    Bad values (rate outside [0, 1], group size < 1, …) raise InputError instead.
    """
    PATTERNS.get(spec.pattern)  # unknown pattern: UnknownName listing the valid ones
    if not 0.0 <= spec.rate <= 1.0:
        raise InputError(path="prune.rate", value=spec.rate, expected="a rate in [0, 1]")
    if spec.pattern == "row_group" and not (isinstance(spec.group_size, int) and spec.group_size >= 1):
        raise InputError(path="prune.group_size", value=spec.group_size,
                         expected="a positive integer")
    if spec.pattern == "block" and not _positive_pair(spec.block):
        raise InputError(path="prune.block", value=spec.block,
                         expected="two positive integers (r, c)")
    if spec.pattern == "nm":
        n, m = spec.nm if len(spec.nm) == 2 else (-1, -1)
        if not (isinstance(m, int) and isinstance(n, int) and m >= 1 and 0 <= n <= m):
            raise InputError(path="prune.nm", value=spec.nm, expected="(N, M) with 0 <= N <= M, M >= 1")
        implied = 1 - n / m
        if spec.rate != 0 and not math.isclose(spec.rate, implied, abs_tol=1e-9):
            return (f"pattern nm {n}:{m} implies rate {implied:g}; rate {spec.rate:g} cannot be "
                    f"reached (give rate 0 or {implied:g})")
    else:
        AGGREGATIONS.get(spec.aggregation)
    if len(shape) < 2:
        return f"pattern {spec.pattern} needs a weight with at least 2 dims, got shape {tuple(shape)}"
    return None


def _check(weight: torch.Tensor, spec: PruneSpec) -> None:
    reason = check_spec(tuple(weight.shape), spec)
    if reason is not None:
        raise UnsupportedError(reason)


# ---------------------------------------------------------------------------------------------
# tiling, scoring, selection


def _tiles(v: torch.Tensor, block: tuple[int, int]) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Up to four regions of V (full blocks, right edge, bottom edge, corner), each as
    (first group row, first group col, groups (n_rows, n_cols, elements))."""
    m, k = v.shape
    r, c = block
    mr, kc = m - m % r, k - k % c
    row_parts = [(a, b, s) for a, b, s in ((0, mr, r), (mr, m, m - mr)) if b > a]
    col_parts = [(a, b, s) for a, b, s in ((0, kc, c), (kc, k, k - kc)) if b > a]
    for r0, r1, br in row_parts:
        for c0, c1, bc in col_parts:
            nr, nc = (r1 - r0) // br, (c1 - c0) // bc
            sub = v[r0:r1, c0:c1].reshape(nr, br, nc, bc).permute(0, 2, 1, 3)
            yield r0 // r, c0 // c, sub.reshape(nr, nc, br * bc)


def _grid_shape(v_shape: tuple[int, int], block: tuple[int, int]) -> tuple[int, int]:
    return -(-v_shape[0] // block[0]), -(-v_shape[1] // block[1])


def tile_reduce(v: torch.Tensor, block: tuple[int, int], reduce: Callable, dtype) -> torch.Tensor:
    import torch

    out = torch.empty(_grid_shape(pair(v.shape), block), dtype=dtype, device=v.device)
    for gi, gj, groups in _tiles(v, block):
        out[gi:gi + groups.shape[0], gj:gj + groups.shape[1]] = reduce(groups)
    return out


def expand_groups(keep: torch.Tensor, block: tuple[int, int], v_shape: tuple[int, int]) -> torch.Tensor:
    """Group grid (gr, gc) → element map of V (M, K): each group's value over its r×c cells."""
    r, c = block
    m, k = v_shape
    gr, gc = keep.shape
    full = keep[:, None, :, None].expand(gr, r, gc, c).reshape(gr * r, gc * c)
    return full if (gr * r, gc * c) == (m, k) else full[:m, :k]


def _aggregate(spec: PruneSpec) -> Callable[[torch.Tensor], torch.Tensor]:
    import torch

    agg = AGGREGATIONS.get(spec.aggregation)
    if getattr(agg, "needs_generator", False):
        seeded: Callable[..., torch.Tensor] = agg  # it takes generator= (see aggregations.py)
        gen = torch.Generator().manual_seed(spec.seed)
        return lambda x: seeded(x, generator=gen)
    return agg


def keep_lowest_removed(scores: torch.Tensor, n_remove: int) -> torch.Tensor:
    """Keep-mask over flat `scores` removing the `n_remove` lowest, ties → lower index removed.

    Same result as a stable ascending sort without sorting: the n-th smallest value is the threshold;
    everything below goes, and of the values equal to it the lowest-indexed go first.
    """
    import torch

    n = scores.numel()
    if n_remove <= 0:
        return torch.ones(n, dtype=torch.bool, device=scores.device)
    if n_remove >= n:
        return torch.zeros(n, dtype=torch.bool, device=scores.device)
    t = scores.kthvalue(n_remove).values
    remove = scores < t
    need = n_remove - int(remove.sum())
    remove[(scores == t).nonzero().squeeze(1)[:need]] = True  # nonzero() is in index order
    return ~remove


def n_removed(n_groups: int, rate: float) -> int:
    """round(rate × n_groups): the exact number of groups a pattern removes."""
    return min(max(round(rate * n_groups), 0), n_groups)


def grouping(shape: Shape, spec: PruneSpec) -> Grouping:
    """The groups of `spec.pattern` on a weight of `shape` (nm: single weights)."""
    name = "unstructured" if spec.pattern == "nm" else spec.pattern
    return GROUPINGS.get(name)(tuple(shape), spec)


def n_groups(shape: Shape, spec: PruneSpec) -> int:
    g = grouping(shape, spec)
    return math.prod(_grid_shape(g.v_shape, g.block))


def group_scores(weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    """Score of every group, shape (group rows, group cols) of the pattern's grid over V; the flat
    group index is the row-major index into it. nm: |w| of V."""
    import torch

    _check(weight, spec)
    g = grouping(tuple(weight.shape), spec)
    v = g.view(weight.detach())
    dtype = torch.float64 if v.dtype == torch.float64 else torch.float32
    if spec.pattern == "nm":
        return v.abs().to(dtype)
    return tile_reduce(v, g.block, _aggregate(spec), dtype)


def achieved_rate(mask: torch.Tensor, spec: PruneSpec) -> float:
    """Fraction of the pattern's groups that `mask` removes entirely (nm: fraction of weights)."""
    import torch

    g = grouping(tuple(mask.shape), spec)
    v = g.view(mask).to(torch.uint8)
    kept = tile_reduce(v, g.block, lambda x: x.amax(dim=-1), torch.uint8)
    return float((kept == 0).sum()) / kept.numel() if kept.numel() else 0.0


# ---------------------------------------------------------------------------------------------
# patterns


def _grouped(weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    scores = group_scores(weight, spec)
    g = grouping(tuple(weight.shape), spec)
    keep = keep_lowest_removed(scores.reshape(-1), n_removed(scores.numel(), spec.rate))
    return g.unview(expand_groups(keep.reshape(scores.shape), g.block, g.v_shape))


for _name in ("unstructured", "row_group", "block", "rows", "filter", "columns", "shape",
              "channel"):
    PATTERNS.register(_name, _grouped)


def _stable_rank(x: torch.Tensor) -> torch.Tensor:
    """Position of each element of the last dim in a stable ascending sort of that dim.

    For narrow groups (N:M has M ≤ 16) counting the smaller elements slice by slice is faster
    than a stable argsort over millions of tiny rows; a tie counts the lower index as smaller."""
    import torch

    n = x.shape[-1]
    if n > 16:
        order = x.argsort(dim=-1, stable=True)
        rank = torch.empty_like(order)
        return rank.scatter_(-1, order, torch.arange(n, device=x.device).expand_as(order))
    rank = torch.zeros(x.shape, dtype=torch.uint8, device=x.device)
    for j in range(n):
        xj = x[..., j:j + 1]
        rank[..., j + 1:] += x[..., j + 1:] >= xj  # j precedes: smaller, or equal and earlier
        rank[..., :j] += x[..., :j] > xj
    return rank


@PATTERNS.register("nm")
def nm(weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    """Keep N of every M consecutive weights along a row (ties: lower index removed first)."""
    import torch

    _check(weight, spec)
    n, m = spec.nm
    g = grouping(tuple(weight.shape), spec)
    score = group_scores(weight, spec)
    rows, k = g.v_shape
    mask = torch.zeros(g.v_shape, dtype=torch.bool, device=weight.device)
    full = k - k % m
    for a, b, width in ((0, full, m), (full, k, k - full)):
        if b <= a:
            continue
        keep_n = min(n, width)
        sub = score[:, a:b].reshape(rows, -1, width)
        mask[:, a:b] = (_stable_rank(sub) >= width - keep_n).reshape(rows, b - a)
    return g.unview(mask)

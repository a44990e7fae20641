"""Pareto utilities: non-dominated sets, hypervolume and reference points (pure, numpy only).

Every function takes `values` of shape (n, d) and one direction per column ("maximize" or
"minimize"). Internally everything is turned into minimisation by negating maximised columns.

`front` is the one Pareto front of the project: the terminal's table, the training stage's
candidates and the report's filled points all call it with the objectives' directions as the
study stored them (never with directions typed in at the call site).

Conventions
- Dominance: a dominates b if a is no worse in every objective and strictly better in one.
  Equal points do not dominate each other, so *all* copies of a non-dominated point are kept.
- Rows with a NaN or infinite value are never on the front and add no hypervolume.
- Hypervolume is exact: d = 1 by difference, d = 2 by a sort-and-sweep in O(n log n), d ≥ 3 by
  slicing along the last objective (HSO) recursing down to the 2-d sweep. The recursion costs
  O(n^(d-1) log n): fine for report-sized fronts (d = 3 with n in the thousands, d = 4 with n in
  the low hundreds), not meant for many-objective problems.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike

Direction = Literal["maximize", "minimize"]
_SIGN = {"minimize": 1.0, "maximize": -1.0, "min": 1.0, "max": -1.0}
T = TypeVar("T")


def direction_name(stored: Any) -> str:
    """A stored direction as "maximize" or "minimize": a string as the run's config keeps it, or
    an enum member such as Optuna's StudyDirection.MAXIMIZE (read by its name, so this module
    needs no Optuna)."""
    name = str(getattr(stored, "name", stored)).lower()
    if _SIGN.get(name) is None:
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {stored!r}")
    return "minimize" if _SIGN[name] > 0 else "maximize"


def front(points: Sequence[T], directions: Sequence[Any],
          values: Callable[[T], Sequence[float | None] | None] | None = None, *,
          problem: Callable[[T], Hashable] | None = None) -> list[T]:
    """The points no other point dominates, under the objectives' stored `directions`.

    `values(point)` gives a point's objective values in the order of `directions` (default: the
    point is its own values); a point whose values are missing (None), NaN or infinite is never on
    the front. Equal points are all kept (none dominates the other). The front comes best first
    in the first objective, then the second, … (ties keep the input order), so every caller lists
    it the same way.

    With `problem`, points are compared only with points of the same problem (for kernels: the
    same dense baseline, the denominator of their speedups): the front of each problem, problems
    in the order they first appear.
    """
    dirs = [direction_name(d) for d in directions]
    if problem is not None:
        groups: dict[Hashable, list[T]] = {}
        for p in points:
            groups.setdefault(problem(p), []).append(p)
        return [p for members in groups.values() for p in front(members, dirs, values)]
    if not points:
        return []
    get: Callable[[T], Any] = values if values is not None else _itself
    rows = np.array([_row(get(p), len(dirs)) for p in points], dtype=float)
    keep = non_dominated(rows, dirs)
    best = _as_min(rows[keep], dirs)
    order = np.lexsort(best.T[::-1]) if len(keep) else keep
    return [points[int(keep[i])] for i in order]


def _itself(point: Any) -> Any:
    return point


def _row(vals: Sequence[float | None] | None, d: int) -> list[float]:
    if vals is None:
        return [np.nan] * d
    if len(vals) != d:
        raise ValueError(f"{len(vals)} objective values but {d} directions")
    return [np.nan if v is None else float(v) for v in vals]


def _as_min(values: ArrayLike, directions: Sequence[str]) -> np.ndarray:
    """(n, d) float array in minimisation form; validates shape and directions."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        arr = arr.reshape(0, len(directions))
    elif arr.ndim == 1 and len(directions) == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"values must be 2-d (n, d), got shape {arr.shape}")
    if arr.shape[1] != len(directions):
        raise ValueError(f"{arr.shape[1]} objectives but {len(directions)} directions")
    try:
        signs = np.array([_SIGN[d] for d in directions])
    except KeyError as exc:
        raise ValueError(
            f"direction must be 'maximize' or 'minimize', got {exc.args[0]!r}"
        ) from None
    return arr * signs


def non_dominated(values: ArrayLike, directions: Sequence[str]) -> np.ndarray:
    """Indices (ascending) of the rows of `values` that no other row dominates.

    Duplicates of a non-dominated point are all kept. Rows are visited in lexicographic order, so
    a row can only be dominated by an earlier one, and (dominance being transitive) only the front
    found so far needs checking: O(n · |front| · d).
    """
    pts = _as_min(values, directions)
    idx = np.flatnonzero(np.isfinite(pts).all(axis=1))
    cand = pts[idx]
    if len(cand) == 0:
        return idx
    order = np.lexsort(cand.T[::-1])
    if cand.shape[1] <= 2:
        return np.sort(idx[order[_front_sorted_2d(cand[order])]])
    front = np.empty_like(cand)
    kept: list[int] = []
    for i in order:
        p = cand[i]
        f = front[: len(kept)]
        if len(kept) and ((f <= p).all(axis=1) & (f < p).any(axis=1)).any():
            continue
        front[len(kept)] = p
        kept.append(i)
    return np.sort(idx[kept])


def _front_sorted_2d(pts: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows of lexicographically sorted (n, 1|2) points, vectorised:
    a row survives if its y is below every y at a smaller x and is the least y at its own x."""
    x = pts[:, 0]
    y = pts[:, 1] if pts.shape[1] == 2 else np.zeros_like(x)
    start = np.searchsorted(x, x, side="left")  # first row of each row's x group
    cummin = np.minimum.accumulate(y)
    before = np.where(start > 0, cummin[np.maximum(start - 1, 0)], np.inf)
    keep = (y < before) & (y == y[start])
    if pts.shape[1] == 1:
        keep = x == x[0]
    return keep


def reference_point(
    values: ArrayLike, directions: Sequence[str], margin: float = 0.1
) -> np.ndarray:
    """A reference point slightly worse than the worst finite value of every objective.

    Per objective: worst − margin × range for maximised, worst + margin × range for minimised
    objectives; a zero range uses max(|worst|, 1) instead so the box never collapses.
    """
    pts = _as_min(values, directions)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        raise ValueError("reference_point needs at least one finite row")
    worst, best = pts.max(axis=0), pts.min(axis=0)
    span = worst - best
    span = np.where(span > 0, span, np.maximum(np.abs(worst), 1.0))
    ref_min = worst + margin * span
    signs = np.array([_SIGN[d] for d in directions])
    return ref_min * signs


def hypervolume(values: ArrayLike, directions: Sequence[str], reference: ArrayLike) -> float:
    """Volume dominated by `values` and bounded by `reference` (exact; see module notes).

    Points that are not strictly better than the reference in every objective contribute nothing.
    """
    pts = _as_min(values, directions)
    signs = np.array([_SIGN[d] for d in directions])
    ref = np.asarray(reference, dtype=float).reshape(-1) * signs
    if ref.shape != (pts.shape[1],):
        raise ValueError(f"reference has {ref.size} values, expected {pts.shape[1]}")
    pts = pts[np.isfinite(pts).all(axis=1) & (pts < ref).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[non_dominated(pts, ["minimize"] * pts.shape[1])]
    return float(_hv(pts, ref))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    d = pts.shape[1]
    if len(pts) == 0:
        return 0.0
    if d == 1:
        return float(ref[0] - pts[:, 0].min())
    if d == 2:
        return _hv2(pts, ref)
    # Slice along the last objective: between consecutive z values the covered (d−1)-volume is
    # that of every point already reached.
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        depth = upper - pts[i, -1]
        if depth <= 0:
            continue
        slab = pts[: i + 1, :-1]
        slab = slab[non_dominated(slab, ["minimize"] * (d - 1))]
        total += depth * _hv(slab, ref[:-1])
    return total


def _hv2(pts: np.ndarray, ref: np.ndarray) -> float:
    order = np.lexsort((pts[:, 1], pts[:, 0]))  # x ascending, then y ascending
    total, best_y = 0.0, ref[1]
    for x, y in pts[order]:
        if y < best_y:
            total += (ref[0] - x) * (best_y - y)
            best_y = y
    return float(total)

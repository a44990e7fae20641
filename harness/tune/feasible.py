"""What can run here: the one feasibility rule of the search, and what follows from it.

A point is feasible when the suite's constraints accept it (`Space.violation`) and a backend on
this device runs it (`backends.resolve.unsupported_reason`: the backend's own answer, then the
format's geometry). That is the order the tuner's objective checks them in, and the reasons
carry the same prefixes its trials record ("constraint: …", "unsupported: …"). `harness check`
lists the feasible points per suite with the reasons for the rest, and `harness bench --points`
draws from them — all through `why_not`, so the three cannot disagree.

Before a study starts, a format (or backend) choice none of whose grid points can run on this
device — the bundled Triton row-group kernels on a machine without CUDA, 2:4 semi-structured on
CPU — is dropped from the space, and the reason is reported. Choices that run for some points
and not others stay: those trials are pruned with their reason, and the constrained samplers
learn to avoid them.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from harness.config.space import FloatRange
from harness.core.errors import UnsupportedError

if TYPE_CHECKING:
    from harness.config.space import Space
    from harness.core.point import Point

AXES = ("format", "backend")
CONSTRAINT = "constraint"  # the prefixes of a pruned trial's reason (tune.objective)
UNSUPPORTED = "unsupported"


def unsupported(point: Point) -> str | None:
    """Why no backend on this device runs `point` (None: one does). Does no work."""
    from harness.backends.resolve import unsupported_reason

    return unsupported_reason(point)[1]


def why_not(space: Space, point: Point) -> str | None:
    """None if `point` is feasible here, else "constraint: …" or "unsupported: …"."""
    reason = space.violation(point)
    if reason:
        return f"{CONSTRAINT}: {reason}"
    reason = unsupported(point)
    return None if reason is None else f"{UNSUPPORTED}: {reason}"


@dataclass(frozen=True)
class Feasibility:
    """The canonical grid split by `why_not`: the feasible points (grid order) and, per reason,
    how many points it excludes."""

    device: str
    feasible: tuple[Point, ...]
    excluded: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return len(self.feasible) + sum(self.excluded.values())

    def reasons(self) -> list[tuple[str, int]]:
        """(reason, points) from the most common down."""
        return sorted(self.excluded.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class FeasibleGrid:
    """The tuner's grid (each parameter's values, as `objective.search_grid` enumerates them)
    and its feasible assignments (parameter name → value, "dtype" included when several)."""

    grid: dict[str, list[Any]]
    points: list[dict[str, Any]]


def feasible_assignments(space: Space, *, device: str, dtypes: tuple[str, ...], seed: int = 0,
                         cap: int = 5000) -> FeasibleGrid | None:
    """Every feasible assignment of the tuner's parameters, so the search can offer only values
    that some feasible point completes. None when the space has no finite grid (a rate range
    without a step) or more than `cap` assignments: the search then samples the whole space
    and prunes what cannot run."""
    from harness.tune.objective import search_grid

    try:
        grid = search_grid(space, dtypes)
    except ValueError:  # a continuous range: no grid
        return None
    if math.prod(len(values) for values in grid.values()) > cap:
        return None
    out = []
    for combo in itertools.product(*grid.values()):
        a = dict(zip(grid, combo, strict=True))
        params = {k: v for k, v in a.items() if k != "dtype"}
        point = space.point(params, device=device, dtype=a.get("dtype", dtypes[0]), seed=seed)
        if why_not(space, point) is None:
            out.append(a)
    return FeasibleGrid(grid, out)


def feasibility(space: Space, *, device: str, dtypes: Iterable[str] = ("float32",),
                seed: int = 0) -> Feasibility:
    """Every canonical grid point of `space` (constraints *not* yet applied, so the points they
    exclude are counted with their reason), split by `why_not`. Raises ValueError for a
    continuous pruning_rate range, which has no grid."""
    feasible: list[Point] = []
    excluded: Counter[str] = Counter()
    # the unconstrained grid canonicalises and deduplicates exactly as space.grid does; the
    # constraints are then applied by why_not, in the objective's order
    for p in replace(space, constraints=()).grid(device=device, dtypes=tuple(dtypes), seed=seed):
        reason = why_not(space, p)
        if reason is None:
            feasible.append(p)
        else:
            excluded[reason] += 1
    return Feasibility(device, tuple(feasible), excluded)


def _probe_space(space: Space) -> Space:
    """The space with one representative rate (support never depends on the rate)."""
    r = space.pruning_rate
    rates = (r.low,) if isinstance(r, FloatRange) and not space.enumerable() else space.rates()
    return replace(space, pruning_rate=(max(rates),))


class NothingRuns(UnsupportedError):
    """No point of a suite's space can run on this device: there is nothing to search."""


def runnable_space(space: Space, *, device: str, dtypes: tuple[str, ...],
                   seed: int = 0, strict: bool = False) -> tuple[Space, list[str]]:
    """(space without unrunnable format/backend choices, notes). If nothing at all can run:
    with `strict` (tune) NothingRuns, naming each format's reason; otherwise the space is
    returned unchanged so every point reports its reason."""
    runnable: dict[str, set] = {axis: set() for axis in AXES}
    why: dict[tuple[str, object], str] = {}
    for p in itertools.islice(_probe_space(space).grid(device=device, dtypes=dtypes, seed=seed),
                              5000):
        reason = unsupported(p)
        for axis in AXES:
            value = getattr(p, axis)
            if reason is None:
                runnable[axis].add(value)
            else:
                why.setdefault((axis, value), reason)
    if not runnable["format"]:
        if strict:
            reasons = dict.fromkeys(f"{f}: {why[('format', f)]}" for f in space.format
                                    if ("format", f) in why)
            raise NothingRuns(f"no point of the space can run on {device} ("
                              + "; ".join(reasons) + "); `harness check` lists every reason")
        return space, ["no point of the space can run on this device; trials will say why"]
    notes, changes = [], {}
    for axis in AXES:
        choices = getattr(space, axis)
        kept = tuple(c for c in choices if c in runnable[axis] or (axis, c) not in why)
        if kept != choices:
            for c in choices:
                if c not in kept:
                    notes.append(f"{axis} {c!r} dropped: {why[(axis, c)]}")
            changes[axis] = kept
    return (replace(space, **changes) if changes else space), notes

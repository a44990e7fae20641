"""A suite's search space, its tuner parameters, and canonical Points.

Canonicalisation fixes the parameters that do not matter for a point, so equal configurations get
equal `Point.key()`s (and a resumed or repeated run reuses stored measurements):

  * the weight is 2-D, so the ADMM structures are aliases: filter → rows, channel and
    shape → columns;
  * pattern nm: the rate is implied, 1 − N/M (the pruning_rate axis does not apply), and the
    aggregation is ignored (→ rms);
  * pattern unstructured: every aggregation but random ranks by |w| (→ rms);
  * rate 0: nothing is pruned, so pattern → unstructured and aggregation → rms;
  * group_size only matters for pattern or format row_group (else 1) — the row_group *format*
    bundles groups of g, so it keeps g too;
  * block only for pattern block or format bsr/blocked_ell (else (1, 1));
  * nm only for pattern nm or format semi_structured (else (2, 4));
  * rate 0 with format dense on backend auto/torch is the dense baseline, `Point.baseline()`.

Tuner parameters (`Space.params()`) cover the axes with more than one choice. Optuna's categorical
choices must be plain scalars, so tuples are written as text: shape "4096x4096x50", block "16x16",
nm "2:4"; `Space.point()` accepts that text or tuples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harness.config.constraints import Constraint, violation
from harness.core import dtypes as core_dtypes
from harness.core.point import Point, PruneSpec, pair

_DIGITS = 12  # rates are rounded to this many decimals so keys do not differ by float noise


def _decimals(x: float) -> int:
    exp = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(0, -int(exp)) if isinstance(exp, int) else _DIGITS


@dataclass(frozen=True)
class FloatRange:
    """low..high (inclusive); with `step` an exact grid, else continuous (optionally log)."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def values(self) -> tuple[float, ...]:
        """The exact grid low, low+step, …, ≤ high, rounded to the inputs' decimals (so 0.8 +
        0.02·k gives 0.86, never 0.8600000000000001). Raises ValueError without a step."""
        if self.step is None:
            raise ValueError("a range without step has no finite set of values")
        digits = min(_DIGITS, max(_decimals(self.low), _decimals(self.step)))
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return tuple(round(self.low + i * self.step, digits) for i in range(count))


@dataclass(frozen=True)
class Param:
    """One tuner parameter: categorical `choices`, or a numeric range (kind 'int' / 'float')."""

    name: str
    kind: str  # 'categorical' | 'int' | 'float'
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False


AXES = ("shape", "pruning_rate", "group_size", "pattern", "block", "nm", "aggregation",
        "format", "backend")


@dataclass(frozen=True)
class Space:
    """Every axis holds its choices (pruning_rate may be a FloatRange); constraints drop points."""

    shapes: tuple[tuple[int, int, int], ...]
    pruning_rate: tuple[float, ...] | FloatRange
    group_size: tuple[int, ...] = (1,)
    pattern: tuple[str, ...] = ("unstructured",)
    block: tuple[tuple[int, int], ...] = ((1, 1),)
    nm: tuple[tuple[int, int], ...] = ((2, 4),)
    aggregation: tuple[str, ...] = ("rms",)
    format: tuple[str, ...] = ("csr",)
    backend: tuple[str, ...] = ("auto",)
    constraints: tuple[Constraint, ...] = ()

    def rates(self) -> tuple[float, ...]:
        r = self.pruning_rate
        return r.values() if isinstance(r, FloatRange) else r

    def enumerable(self) -> bool:
        """False when pruning_rate is a continuous range (no step): no grid exists."""
        return not (isinstance(self.pruning_rate, FloatRange) and self.pruning_rate.step is None)

    def _choices(self, axis: str) -> tuple[Any, ...]:
        return self.shapes if axis == "shape" else self.rates() if axis == "pruning_rate" \
            else getattr(self, axis)

    def size(self) -> int:
        """Number of raw combinations per dtype, before canonicalisation and constraints."""
        return math.prod(len(self._choices(a)) for a in AXES)

    def params(self) -> tuple[Param, ...]:
        """Tuner parameters for the axes with more than one choice (fixed axes are filled in by
        `point`). A FloatRange rate becomes a 'float' parameter."""
        out = []
        for axis in AXES:
            if axis == "pruning_rate" and isinstance(self.pruning_rate, FloatRange):
                r = self.pruning_rate
                out.append(Param(axis, "float", low=r.low, high=r.high, step=r.step, log=r.log))
                continue
            choices = self._choices(axis)
            if len(choices) > 1:
                out.append(Param(axis, "categorical", tuple(_encode(axis, c) for c in choices)))
        return tuple(out)

    def point(self, params: Mapping[str, Any], *, device: str, dtype: str = "float32",
              seed: int = 0) -> Point:
        """The canonical Point for one assignment of `params()` (names as in AXES; values as the
        tuner returns them, or tuples). Axes with one choice may be omitted."""
        unknown = set(params) - set(AXES)
        if unknown:
            raise ValueError(f"unknown space parameters {sorted(unknown)}; valid: {list(AXES)}")
        values = {}
        for axis in AXES:
            if axis in params:
                values[axis] = _decode(axis, params[axis])
            elif axis == "pruning_rate" and not self.enumerable():
                raise ValueError("pruning_rate must be given for a continuous range")
            else:
                choices = self._choices(axis)
                if len(choices) != 1:
                    raise ValueError(f"space parameter {axis!r} has {len(choices)} choices; "
                                     "give one")
                values[axis] = choices[0]
        m, k, n = values.pop("shape")
        return canonical_point(m, k, n, dtype=dtype, device=device, seed=seed,
                               rate=values.pop("pruning_rate"), **values)

    def violation(self, point: Point) -> str | None:
        """Reason the suite's constraints reject `point`, or None."""
        return violation(self.constraints, point)

    def grid(self, *, device: str, dtypes: Iterable[str] = ("float32",),
             seed: int = 0) -> Iterator[Point]:
        """Every combination, canonicalised, deduplicated (first occurrence kept, order stable),
        constraints applied. Raises ValueError for a continuous pruning_rate range."""
        if not self.enumerable():
            raise ValueError("pruning_rate is a continuous range (no step); it has no grid")
        seen: set[Point] = set()
        for (m, k, n), dtype, fmt, backend, pattern, agg, g, block, nm, rate in itertools.product(
                self.shapes, tuple(dtypes), self.format, self.backend, self.pattern,
                self.aggregation, self.group_size, self.block, self.nm, self.rates()):
            p = canonical_point(m, k, n, dtype=dtype, device=device, seed=seed, rate=rate,
                                group_size=g, pattern=pattern, block=block, nm=nm,
                                aggregation=agg, format=fmt, backend=backend)
            if p in seen:
                continue
            seen.add(p)
            if self.violation(p) is None:
                yield p


_ALIASES_2D = {"filter": "rows", "channel": "columns", "shape": "columns"}


def canonical_point(m: int, k: int, n: int, *, dtype: str, device: str, seed: int,
                    rate: float, group_size: int, pattern: str, block: tuple[int, int],
                    nm: tuple[int, int], aggregation: str, format: str,
                    backend: str) -> Point:
    """Build a Point with the irrelevant parameters fixed (rules in the module docstring)."""
    pattern = _ALIASES_2D.get(pattern, pattern)
    if pattern == "nm":
        rate = 1.0 - nm[0] / nm[1]  # exactly what the nm pattern expects, so not rounded
    else:
        rate = round(float(rate), _DIGITS)
    if rate == 0.0:
        pattern = "unstructured"
    if pattern == "nm" or (pattern == "unstructured" and aggregation != "random") or rate == 0:
        aggregation = "rms"
    prune = PruneSpec(
        pattern=pattern,
        rate=rate,
        group_size=int(group_size) if "row_group" in (pattern, format) else 1,
        block=pair(block) if pattern == "block" or format in ("bsr", "blocked_ell") else (1, 1),
        nm=pair(nm) if pattern == "nm" or format == "semi_structured" else (2, 4),
        aggregation=aggregation,
        seed=seed,
    )
    point = Point(m=int(m), k=int(k), n=int(n), dtype=core_dtypes.canonical(dtype),
                  device=device, format=format, backend=backend, prune=prune, seed=seed)
    if rate == 0.0 and format == "dense" and backend in ("auto", "torch"):
        return point.baseline()
    return point


def _encode(axis: str, value: Any) -> Any:
    if axis == "shape":
        return "x".join(map(str, value))
    if axis == "block":
        return f"{value[0]}x{value[1]}"
    if axis == "nm":
        return f"{value[0]}:{value[1]}"
    return value


def _decode(axis: str, value: Any) -> Any:
    if axis in ("shape", "block", "nm") and isinstance(value, str):
        return tuple(int(x) for x in value.replace(":", "x").split("x"))
    if axis in ("shape", "block", "nm"):
        return tuple(int(x) for x in value)
    return value

"""Declarative constraints on a suite's points — a small rule language, no `eval`.

A suite's `constraints:` is a list of rules. Each rule is a mapping with

  when:    {param: condition, …}  the rule applies only to points matching *all* of these
                                  (omitted: to every point)
  require: {param: condition, …}  a point the rule applies to must match *all* of these
  exclude: {param: condition, …}  a point the rule applies to that matches *all* of these is
                                  dropped
  reason:  text                   optional; reported instead of the generated reason

A rule needs `require` or `exclude` (or both). A *condition* matches a parameter against

  a value            format: bsr                  block: [16, 16]
  a list of values   pattern: [block, row_group]  block: [[16, 16], [32, 32]]
  a range            group_size: {max: 64}        pruning_rate: {min: 0.5, max: 0.9}
                     (bounds inclusive; only for the numeric parameters)

Parameters: m, k, n, dtype, device, pruning_rate, group_size, pattern, block, nm, aggregation,
format, backend. They are read from the *canonical* point (see `harness.config.space`), so
e.g. group_size is 1 unless the pattern or format is row_group. `device: cuda` matches every
`cuda:N`; dtypes may be written as aliases (fp16). Examples:

  constraints:
    - when: {format: bsr}
      require: {pattern: [block]}
    - when: {pattern: row_group}
      require: {group_size: {max: 64}}
    - exclude: {format: semi_structured, device: cpu}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.config import names
from harness.config.yamlload import Document, join
from harness.core import dtypes

if TYPE_CHECKING:
    from harness.core.point import Point

NUMERIC = ("m", "k", "n", "pruning_rate", "group_size")
PAIRS = ("block", "nm")
_NAMES = {"pattern": names.PATTERNS, "aggregation": names.AGGREGATIONS,
          "format": names.FORMATS, "backend": names.BACKENDS}
_EPS = 1e-9


@dataclass(frozen=True)
class Condition:
    """`param` matches one of `values`, or lies within [low, high] (either may be None)."""

    param: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    def matches(self, value: Any) -> bool:
        if self.values:
            return any(_equal(self.param, value, v) for v in self.values)
        if self.low is not None and value < self.low - _EPS:
            return False
        return not (self.high is not None and value > self.high + _EPS)

    def text(self) -> str:
        if self.values:
            shown = [_show(v) for v in self.values]
            return f"{self.param}={shown[0]}" if len(shown) == 1 else \
                f"{self.param} in [{', '.join(shown)}]"
        parts = [f"{self.low:g} <= " if self.low is not None else "", self.param,
                 f" <= {self.high:g}" if self.high is not None else ""]
        return "".join(parts)


def _show(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, tuple) else f"{v:g}" if isinstance(v, float) \
        else str(v)


def _equal(param: str, value: Any, wanted: Any) -> bool:
    if param == "device" and wanted == "cuda":
        return str(value).split(":", 1)[0] == "cuda"
    if param == "pruning_rate":
        return abs(float(value) - float(wanted)) <= _EPS
    return value == wanted


@dataclass(frozen=True)
class Constraint:
    """One rule: see the module docstring. `check` answers None or the reason it is violated."""

    when: tuple[Condition, ...] = ()
    require: tuple[Condition, ...] = ()
    exclude: tuple[Condition, ...] = ()
    reason: str = ""

    def check(self, params: Mapping[str, Any]) -> str | None:
        if not all(c.matches(params[c.param]) for c in self.when):
            return None
        if self.exclude and all(c.matches(params[c.param]) for c in self.exclude):
            return self.reason or f"excluded: {self._and(self.when + self.exclude)}"
        for c in self.require:
            if not c.matches(params[c.param]):
                cause = f"when {self._and(self.when)}: " if self.when else ""
                return self.reason or f"{cause}requires {c.text()}, got {_show(params[c.param])}"
        return None

    @staticmethod
    def _and(conds: tuple[Condition, ...]) -> str:
        return " and ".join(c.text() for c in conds)


def point_params(point: Point) -> dict[str, Any]:
    """The constraint parameters of a (canonical) Point."""
    p = point.prune
    return {"m": point.m, "k": point.k, "n": point.n, "dtype": point.dtype,
            "device": point.device, "pruning_rate": p.rate, "group_size": p.group_size,
            "pattern": p.pattern, "block": tuple(p.block), "nm": tuple(p.nm),
            "aggregation": p.aggregation, "format": point.format, "backend": point.backend}


def violation(constraints: tuple[Constraint, ...], point: Point) -> str | None:
    """The first violated constraint's reason for `point`, or None."""
    params = point_params(point)
    for c in constraints:
        reason = c.check(params)
        if reason:
            return reason
    return None


# ---- parsing (after schema validation: keys and shapes are already known to be sane) ----

def parse_constraints(doc: Document, raw: list[Any], base: str) -> tuple[Constraint, ...]:
    out = []
    for i, rule in enumerate(raw):
        path = join(base, i)
        if "require" not in rule and "exclude" not in rule:
            raise doc.error(path, "a constraint needs 'require' or 'exclude' (or both)")
        parts = {key: tuple(_condition(doc, join(join(path, key), param), param, value)
                            for param, value in rule.get(key, {}).items())
                 for key in ("when", "require", "exclude")}
        out.append(Constraint(**parts, reason=rule.get("reason", "")))
    return tuple(out)


def _condition(doc: Document, path: str, param: str, value: Any) -> Condition:
    if isinstance(value, Mapping):
        if param not in NUMERIC:
            raise doc.error(path, f"{{min, max}} is only for {', '.join(NUMERIC)}; "
                                  f"give {param} a value or a list of values")
        low, high = value.get("min"), value.get("max")
        if low is not None and high is not None and low > high:
            raise doc.error(path, f"min ({low}) is greater than max ({high})")
        return Condition(param, low=low, high=high)
    if param in PAIRS:
        items = [value] if _is_pair(value) else value if isinstance(value, list) else None
        if items is None or not all(_is_pair(v) for v in items):
            raise doc.error(path, f"expected [a, b] or a list of them, got {value!r}")
        return Condition(param, values=tuple(tuple(int(x) for x in v) for v in items))
    items = value if isinstance(value, list) else [value]
    return Condition(param, values=tuple(_value(doc, path, param, v) for v in items))


def _is_pair(v: Any) -> bool:
    return (isinstance(v, list) and len(v) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v))


def _value(doc: Document, path: str, param: str, v: Any) -> Any:
    if param in NUMERIC:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise doc.error(path, f"expected a number, got {v!r}")
        return float(v) if param == "pruning_rate" else v
    if not isinstance(v, str):
        raise doc.error(path, f"expected a name, got {v!r}")
    if param == "dtype":
        try:
            return dtypes.canonical(v)
        except KeyError:
            valid = ", ".join(names.DTYPES + names.DTYPE_ALIASES)
            raise doc.error(path, f"unknown dtype {v!r}; valid: {valid}") from None
    if param == "device":
        kind, _, index = v.partition(":")
        if v == "auto" or kind not in ("cpu", "cuda") or (index and not index.isdigit()) \
                or (kind == "cpu" and index):
            raise doc.error(path, f"unknown device {v!r}; valid: cpu, cuda, cuda:N")
        return v
    allowed = _NAMES[param]
    if v not in allowed:
        raise doc.error(path, f"unknown {param} {v!r}; valid: {', '.join(allowed)}")
    return v

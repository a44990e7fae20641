"""Reading training records (plain mappings from the store) for the accuracy figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from harness.core.measurement import Measurement
from harness.report import svg


def num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _same_pruning(rec: Mapping[str, Any], ms: Sequence[Measurement]) -> list[Measurement]:
    """The timed measurements of the record's pruning (rate, pattern, group size)."""
    rate, g, pattern = num(rec.get("pruning_rate")), rec.get("group_size"), rec.get("pattern")
    if rate is None:
        return []
    return [
        m
        for m in ms
        if m.speedup is not None
        and abs(m.point.prune.rate - rate) < 1e-9
        and m.point.prune.pattern == pattern
        and (pattern != "row_group" or m.point.prune.group_size == g)
    ]


def kernel_speedup(rec: Mapping[str, Any], ms: Sequence[Measurement]) -> float | None:
    """The record's own speedup, else the best measured kernel speedup for its pruning."""
    own = num(rec.get("speedup"))
    if own is not None:
        return own
    found = [m.speedup for m in _same_pruning(rec, ms) if m.speedup is not None]
    return max(found) if found else None


def kernel_ci(
    rec: Mapping[str, Any], ms: Sequence[Measurement], speedup: float
) -> tuple[float, float] | None:
    """The stored confidence interval of the measurement the record's kernel speedup comes from
    (the one of its pruning with that speedup); None when no such measurement is in the data."""
    for m in _same_pruning(rec, ms):
        if m.speedup is not None and math.isclose(m.speedup, speedup, rel_tol=1e-9):
            return m.speedup_ci
    return None


MIN_ACC_SPAN = 0.05  # accuracy axes span at least 5 points: a 0.5-point drop must look small


def acc_range(accs: Sequence[float], pad: float = 0.1) -> tuple[float, float]:
    """y range of an accuracy axis: the data padded, and at least MIN_ACC_SPAN wide when the
    accuracies are fractions (a range of 0.2 points would make noise look like a cliff)."""
    lo, hi = svg.padded(accs, pad=pad)
    if accs and all(0.0 <= a <= 1.0 for a in accs) and hi - lo < MIN_ACC_SPAN:
        mid = (lo + hi) / 2
        lo, hi = mid - MIN_ACC_SPAN / 2, mid + MIN_ACC_SPAN / 2
        if hi > 1.0:
            lo, hi = lo - (hi - 1.0), 1.0
    return lo, hi


def acc_fmt(accs: Sequence[float]) -> Callable[[float], str]:
    """Accuracies in [0, 1] are shown as percentages, anything else as is."""
    if accs and all(0.0 <= a <= 1.0 for a in accs):
        return lambda v: f"{v * 100:.4g}%"
    return lambda v: f"{v:.4g}"


def train_label(rec: Mapping[str, Any]) -> str:
    pattern = rec.get("pattern", "")
    g = rec.get("group_size")
    return (
        f"g={g}"
        if pattern in ("row_group", "unstructured", None, "") and g is not None
        else str(pattern)
    )


def train_tip(rec: Mapping[str, Any], speedup: float | None) -> str:
    keys = (
        "pattern",
        "group_size",
        "pruning_rate",
        "aggregation",
        "schedule",
        "epochs",
        "accuracy",
        "loss",
        "model_speedup",
        "time_s",
    )
    lines = ["dense reference" if rec.get("dense") else train_label(rec)]
    lines += [f"{k} {_fmt_val(rec[k])}" for k in keys if k in rec and rec[k] is not None]
    if speedup is not None:
        lines.append(f"kernel speedup {speedup:.2f}×")
    return "\n".join(lines)


def _fmt_val(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)



def group_dicts(
    recs: Iterable[Mapping[str, Any]], key: Callable
) -> dict[Any, list[Mapping[str, Any]]]:
    out: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for r in recs:
        out[key(r)].append(r)
    return out

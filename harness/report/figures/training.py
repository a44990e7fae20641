"""Reading training records (plain mappings from the store) for the accuracy figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from harness.core.measurement import Measurement


def num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def kernel_speedup(rec: Mapping[str, Any], ms: Sequence[Measurement]) -> float | None:
    """The record's own speedup, else the best measured kernel speedup for its pruning."""
    own = num(rec.get("speedup"))
    if own is not None:
        return own
    rate, g, pattern = num(rec.get("pruning_rate")), rec.get("group_size"), rec.get("pattern")
    found = [
        m.speedup
        for m in ms
        if m.speedup is not None
        and rate is not None
        and abs(m.point.prune.rate - rate) < 1e-9
        and m.point.prune.pattern == pattern
        and (pattern != "row_group" or m.point.prune.group_size == g)
    ]
    return max(found) if found else None


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

"""Labels, grouping keys and formatting shared by the figures (pure).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from harness.core.measurement import Measurement
from harness.core.point import Point
from harness.report import svg

_PATTERN_ORDER = {"unstructured": 0, "row_group": 1, "block": 2, "nm": 3}


def geometry(p: Point) -> tuple[tuple, str]:
    """(sort key, label) of a point's pruning geometry: 'g=32', 'block 4x4', '2:4', …"""
    pr = p.prune
    order = _PATTERN_ORDER.get(pr.pattern, 9)
    if pr.pattern == "row_group":
        return (order, pr.group_size, 0), f"g={pr.group_size}"
    if pr.pattern == "block":
        return (order, pr.block[0] * pr.block[1], pr.block[0]), f"block {pr.block[0]}x{pr.block[1]}"
    if pr.pattern == "nm":
        return (order, pr.nm[1], pr.nm[0]), f"{pr.nm[0]}:{pr.nm[1]}"
    return (order, 0, 0), pr.pattern


def shape_label(p: Point) -> str:
    return f"{p.m}×{p.k}×{p.n}"


def panel_key(p: Point) -> tuple:
    return (p.format, p.backend, p.shape, p.dtype, p.device)


def panel_label(p: Point) -> str:
    return f"{p.format}/{p.backend} · {shape_label(p)} · {p.dtype} · {p.device}"


def problem_key(p: Point) -> tuple:
    return (p.shape, p.dtype, p.device)


def fmt_time(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_speedup(m: Measurement) -> str:
    if m.speedup is None:
        return "–"
    ci = f" [{m.speedup_ci[0]:.2f}, {m.speedup_ci[1]:.2f}]" if m.speedup_ci else ""
    return f"{m.speedup:.2f}×{ci}"


def describe(m: Measurement) -> str:
    """Full configuration of a measurement, one fact per line (hover text)."""
    p = m.point
    _, geo = geometry(p)
    lines = [
        f"{p.format} / {p.backend}",
        f"pattern {p.prune.pattern}" + (f" ({geo})" if geo != p.prune.pattern else ""),
        f"rate {p.prune.rate:.1%}",
        f"{p.dtype} · {shape_label(p)} · {p.device}",
        f"median {fmt_time(m.stats.median if m.stats else None)}",
        f"speedup {fmt_speedup(m)}",
    ]
    if p.prune.pattern in ("row_group", "unstructured"):
        lines.insert(2, f"aggregation {p.prune.aggregation}")
    if m.throttled:
        lines.append("measured while the device was throttled")
    return "\n".join(lines)


def colour_map(labels: Iterable[tuple[tuple, str]]) -> dict[str, str]:
    """Stable colour per label (sorted by its sort key) across all panels."""
    ordered = list(dict.fromkeys(lab for _, lab in sorted(set(labels))))
    return dict(zip(ordered, svg.colours(len(ordered)), strict=True))


def group_by(
    ms: Iterable[Measurement], key: Callable[[Measurement], Any]
) -> dict[Any, list[Measurement]]:
    out: dict[Any, list[Measurement]] = defaultdict(list)
    for m in ms:
        out[key(m)].append(m)
    return out


def timed_speedup(m: Measurement) -> float:
    """The speedup of a measurement from `ReportData.timed` (which guarantees one)."""
    if m.speedup is None:
        raise ValueError(f"{m.point.label()} has no speedup")
    return m.speedup


def pct(v: float) -> str:
    return f"{v * 100:.0f}%" if abs(v * 100 - round(v * 100)) < 1e-6 else f"{v * 100:.1f}%"

"""Line panels: a value against the pruning rate, one line per pruning geometry and one panel per
(format, backend, shape, dtype, device); used by Fig. 3, the roofline and the energy figures.

All panels of one figure share their y range (and log or linear scale), so panels compare at a
glance. Where several measurements share a (panel, series, rate) cell, e.g. repeated runs or
aggregations, the line plots their median and the interval spans their confidence intervals.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.core.measurement import Measurement
from harness.report import svg
from harness.report.figures.base import grid
from harness.report.figures.labels import (
    colour_map,
    geometry,
    group_by,
    panel_key,
    panel_label,
    pct,
)

WIDTH, HEIGHT = 560.0, 340.0  # viewBox of a main plot; CSS scales it to its panel


@dataclass(frozen=True)
class Cell:
    """One plotted point of a series: the median value at a rate, over `n` measurements, and
    the interval [lo, hi] their stored confidence intervals span (None without one)."""

    rate: float
    value: float
    n: int
    lo: float | None = None
    hi: float | None = None


Series = dict[tuple[tuple, str], list[Cell]]


def series_by_geometry(
    ms: Sequence[Measurement],
    value: Callable[[Measurement], float | None],
    ci: Callable[[Measurement], tuple[float, float] | None] = lambda m: None,
) -> Series:
    """series (geometry) → its cells, sorted by rate."""
    cells: dict[tuple[tuple, str], dict[float, list[Measurement]]] = defaultdict(
        lambda: defaultdict(list)
    )
    vals: dict[int, float] = {}
    for m in ms:
        v = value(m)
        if v is not None and math.isfinite(v):
            vals[id(m)] = v
            cells[geometry(m.point)][m.point.prune.rate].append(m)
    out: Series = {}
    for g, by_rate in cells.items():
        row = []
        for r, group in sorted(by_rate.items()):
            cis = [c for c in (ci(m) for m in group) if c is not None]
            row.append(
                Cell(
                    r,
                    statistics.median(vals[id(m)] for m in group),
                    len(group),
                    min(c[0] for c in cis) if cis else None,
                    max(c[1] for c in cis) if cis else None,
                )
            )
        out[g] = row
    return out


def break_even(points: Sequence[Cell | Sequence[float]], level: float = 1.0) -> float | None:
    """Lowest rate from which the series stays ≥ level, linearly interpolated; None if never.
    `points` are (rate, value, …) sorted by rate (a `Cell` or a tuple)."""
    pts = [(p.rate, p.value) if isinstance(p, Cell) else (p[0], p[1]) for p in points]
    above = [v >= level for _, v in pts]
    if not above or not above[-1]:
        return None
    i = len(pts) - 1
    while i > 0 and above[i - 1]:
        i -= 1
    if i == 0:
        return pts[0][0]
    (r0, v0), (r1, v1) = pts[i - 1], pts[i]
    return r0 + (level - v0) / (v1 - v0) * (r1 - r0) if v1 != v0 else r1


def shared_y(
    values: Sequence[float], *, include: Sequence[float] = (), pad: float = 0.05
) -> tuple[tuple[float, float], bool]:
    """(y range, log scale) that every panel of one figure uses: log when all values are
    positive and span more than 8×."""
    ys = [v for v in values if math.isfinite(v)]
    ylog = bool(ys) and min(ys) > 0 and max(ys) / min(ys) > 8
    return svg.padded(ys, pad=pad, include=include, log=ylog), ylog


def line_panels(
    ms: Sequence[Measurement],
    value: Callable[[Measurement], float | None],
    *,
    ylabel: str,
    ref: float | None = None,
    ref_label: str = "",
    unit: str = "",
    show_break_even: bool = False,
    cls: str = "fig",
    ci: Callable[[Measurement], tuple[float, float] | None] = lambda m: None,
) -> str:
    """One panel per (format, backend, shape, dtype, device): value vs pruning rate, one line per
    pruning geometry, an optional dashed reference line (e.g. break-even at 1×) and, where `ci`
    gives one, each point's confidence interval."""
    panels_ms = group_by(ms, lambda m: panel_key(m.point))
    colors = colour_map(geometry(m.point) for m in ms)
    all_series = {key: series_by_geometry(g, value, ci) for key, g in panels_ms.items()}
    cells = [c for series in all_series.values() for pts in series.values() for c in pts]
    if not cells:
        return ""
    ys = [c.value for c in cells] + [x for c in cells for x in (c.lo, c.hi) if x is not None]
    yr, ylog = shared_y(ys, include=[ref] if ref is not None else [])
    xr = svg.padded([c.rate for c in cells], pad=0.04)
    # one top margin for all panels (the widest title's), so their plot areas line up
    top = max(svg.title_top(panel_label(g[0].point), WIDTH) for g in panels_ms.values())
    out = []
    for key in sorted(panels_ms, key=str):
        series, first = all_series[key], panels_ms[key][0].point
        if not series:
            continue
        title = panel_label(first)
        frame = svg.Frame.make(xr, yr, ylog=ylog, width=WIDTH, height=HEIGHT, top=top)
        body = [
            svg.axes(
                frame,
                xlabel="pruning rate",
                ylabel=ylabel,
                xfmt=pct,
                yfmt=lambda v: f"{v:g}{unit}",
                title=title,
            )
        ]
        if ref is not None:
            x0, _, x1, _ = frame.box
            body.append(
                svg.line(x0, frame.y(ref), x1, frame.y(ref), color="#c0392b", width=1.5,
                         dash="5 4", cls="ref-line")
            )
            if ref_label:
                body.append(
                    svg.text(x1 - 4, frame.y(ref) - 4, ref_label, anchor="end", cls="ref-label")
                )
        legend_items = []
        for g in sorted(series):
            pts, color = series[g], colors[g[1]]
            body.append(svg.polyline(frame, [(c.rate, c.value) for c in pts], color=color))
            for c in pts:
                tip = f"{title}\n{g[1]} · rate {pct(c.rate)}\n{ylabel}: {c.value:.3g}{unit}"
                tip += f" (median of {c.n})" if c.n > 1 else ""
                if c.lo is not None and c.hi is not None:
                    tip += f"\n95% CI [{c.lo:.3g}, {c.hi:.3g}]{unit}"
                    body.append(svg.errorbar(frame, c.rate, c.lo, c.hi, color=color))
                body.append(svg.marker(frame.x(c.rate), frame.y(c.value), color=color, r=3, tip=tip))
            label = g[1]
            if show_break_even:
                be = break_even(pts, ref if ref is not None else 1.0)
                label += f" (≥1× from {pct(be)})" if be is not None else " (never ≥1×)"
            legend_items.append((label, color))
        out.append(framed_plot(frame, body, legend_items, cls=f"plot {cls}", label=ylabel,
                               swatch="line"))
    return grid(out, wide=True) if out else ""


def framed_plot(frame: svg.Frame, body: Sequence[str], items: Sequence[tuple[str, str]], *,
                cls: str, label: str, swatch: str = "dot",
                shapes: Mapping[str, str] | None = None) -> str:
    """One SVG: the plot's body with its legend underneath, in as many columns as fit the width
    without a label running into the next (the height grows with the legend)."""
    x = 8.0
    cols, col_w = svg.legend_layout(items, frame.width - x)
    lh = svg.legend_height(len(items), cols)
    return svg.svg(
        (frame.width, frame.height + lh + 8),
        "".join(body)
        + svg.legend(items, x, frame.height + 12, cols=cols, col_width=col_w, swatch=swatch,
                     shapes=shapes),
        cls=cls,
        label=label,
    )

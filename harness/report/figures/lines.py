"""Line panels: a value against the pruning rate, one line per pruning geometry and one panel per
(format, backend, shape, dtype, device); used by Fig. 3, the roofline and the energy figures.

Where several measurements share a (panel, series, rate) cell, e.g. repeated runs or
aggregations, the lines plot their median.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

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


def series_by_geometry(
    ms: Sequence[Measurement], value: Callable[[Measurement], float | None]
) -> dict[tuple[tuple, str], list[tuple[float, float, int]]]:
    """series (geometry) → sorted [(rate, median value, count)]."""
    cells: dict[tuple[tuple, str], dict[float, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in ms:
        v = value(m)
        if v is not None and math.isfinite(v):
            cells[geometry(m.point)][m.point.prune.rate].append(v)
    return {
        g: sorted((r, statistics.median(vs), len(vs)) for r, vs in by_rate.items())
        for g, by_rate in cells.items()
    }


def break_even(points: Sequence[tuple[float, float, int]], level: float = 1.0) -> float | None:
    """Lowest rate from which the series stays ≥ level, linearly interpolated; None if never."""
    above = [v >= level for _, v, _ in points]
    if not above or not above[-1]:
        return None
    i = len(points) - 1
    while i > 0 and above[i - 1]:
        i -= 1
    if i == 0:
        return points[0][0]
    (r0, v0, _), (r1, v1, _) = points[i - 1], points[i]
    return r0 + (level - v0) / (v1 - v0) * (r1 - r0) if v1 != v0 else r1


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
) -> str:
    """One panel per (format, backend, shape, dtype, device): value vs pruning rate, one line per
    pruning geometry, an optional dashed reference line (e.g. break-even at 1×)."""
    panels_ms = group_by(ms, lambda m: panel_key(m.point))
    colors = colour_map(geometry(m.point) for m in ms)
    out = []
    for key in sorted(panels_ms, key=str):
        group = panels_ms[key]
        series = series_by_geometry(group, value)
        if not series:
            continue
        ys = [v for pts in series.values() for _, v, _ in pts]
        rates = [r for pts in series.values() for r, _, _ in pts]
        positive = min(ys) > 0
        ylog = positive and max(ys) / min(ys) > 8
        frame = svg.Frame.make(
            svg.padded(rates, pad=0.04),
            svg.padded(ys, include=[ref] if ref is not None else [], log=ylog),
            ylog=ylog,
            width=440,
            height=300,
        )
        body = [
            svg.axes(
                frame,
                xlabel="pruning rate",
                ylabel=ylabel,
                xfmt=pct,
                yfmt=lambda v: f"{v:g}{unit}",
                title=panel_label(group[0].point),
            )
        ]
        if ref is not None:
            x0, _, x1, _ = frame.box
            body.append(
                svg.line(
                    x0,
                    frame.y(ref),
                    x1,
                    frame.y(ref),
                    color="#c0392b",
                    width=1.5,
                    dash="5 4",
                    cls="ref-line",
                )
            )
            if ref_label:
                body.append(
                    svg.text(x1 - 4, frame.y(ref) - 4, ref_label, anchor="end", cls="ref-label")
                )
        legend_items = []
        for g in sorted(series):
            pts, color = series[g], colors[g[1]]
            body.append(svg.polyline(frame, [(r, v) for r, v, _ in pts], color=color))
            for r, v, n in pts:
                tip = f"{panel_label(group[0].point)}\n{g[1]} · rate {pct(r)}\n{ylabel}: {v:.3g}{unit}"
                tip += f" (median of {n})" if n > 1 else ""
                body.append(svg.marker(frame.x(r), frame.y(v), color=color, r=3, tip=tip))
            label = g[1]
            if show_break_even:
                be = break_even(pts, ref if ref is not None else 1.0)
                label += f" (≥1× from {pct(be)})" if be is not None else " (never ≥1×)"
            legend_items.append((label, color))
        cols = 2 if show_break_even else 3
        col_w = 200 if show_break_even else 135
        out.append(framed_plot(frame, body, legend_items, cls=f"plot {cls}", label=ylabel,
                               cols=cols, col_width=col_w, swatch="line"))
    return grid(out) if out else ""


def framed_plot(frame: Any, body: Sequence[str], items: Sequence[tuple[str, str]], *, cls: str,
                label: str, cols: int = 3, col_width: int = 140, swatch: str = "dot") -> str:
    """One SVG: the plot's body with its legend underneath (height grows with the legend)."""
    lh = svg.legend_height(len(items), cols)
    return svg.svg(
        (frame.width, frame.height + lh + 6),
        "".join(body)
        + svg.legend(items, frame.x.a, frame.height + 4, cols=cols, col_width=col_width,
                     swatch=swatch),
        cls=cls,
        label=label,
    )
